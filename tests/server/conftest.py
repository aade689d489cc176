"""Fixtures of the server tests: one light Dask engine (threads) for the session, small
synthetic photos, and apps with their own jobs folder."""

from __future__ import annotations

import contextlib

import cv2
import numpy as np
import pytest

#: A fast pipeline for tests: GrabCut trimap from a rectangle, GrabCut's hard alpha.
FAST = {"pipeline": "grabcut-hard", "rect": "8,8,40,40"}


def disc_png(size: int = 56, seed: int = 0, radius: int = 16, suffix: str = ".png") -> bytes:
    """An encoded photo: a coloured disc (the subject) on a textured background."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size, 3), np.uint8)
    image[:] = rng.integers(150, 230, 3)
    image = np.clip(image + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)
    colour = tuple(int(c) for c in rng.integers(0, 90, 3))
    cv2.circle(image, (size // 2 + seed % 5, size // 2), radius, colour, -1)
    ok, data = cv2.imencode(suffix, image)
    assert ok
    return data.tobytes()


@pytest.fixture(scope="session")
def engine():
    """One Dask engine for every server test: a thread worker, shut down at the end."""
    from trimatte.server import Engine

    with Engine(workers=1, processes=False) as running:
        yield running


@pytest.fixture
def make_client(tmp_path, engine):
    """``make_client(**settings)`` → a TestClient of a fresh app (own jobs folder)."""
    from fastapi.testclient import TestClient

    from trimatte.server import ServerSettings, create_app

    with contextlib.ExitStack() as stack:
        def make(jobs_dir=None, **kwargs):
            settings = ServerSettings(jobs_dir=jobs_dir or tmp_path / "jobs", **kwargs)
            app = create_app(settings, engine=engine)
            return stack.enter_context(TestClient(app))

        yield make


@pytest.fixture
def client(make_client):
    return make_client()


def wait_job(client, job_id: str, timeout: float = 60.0, headers=None) -> dict:
    """Poll a job until it ends (bounded)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if state["status"] not in ("queued", "running"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end in {timeout} s: {state}")
