"""Shared test fixtures: small synthetic images made here, and ../shared when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder beside the repository; skips the test when it is absent."""
    if not (SHARED / "README.md").is_file():
        pytest.skip(f"needs the developers' data folder {SHARED} (absent in a user's clone)")
    return SHARED


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def make_disc_scene(size: int = 64, radius: float = 18.0, soft: float = 3.0, seed: int = 0):
    """A smooth-edged disc of one colour over a background of another.

    Returns:
        image (H, W, 3) float32, alpha (H, W) float32, foreground colour, background colour.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.hypot(yy - size / 2, xx - size / 2)
    alpha = np.clip((radius - distance) / soft + 0.5, 0.0, 1.0).astype(np.float32)
    fg = np.array([0.9, 0.3, 0.1], np.float32)
    bg = np.array([0.1, 0.4, 0.8], np.float32)
    noise = rng.normal(0, 0.01, (size, size, 3)).astype(np.float32)
    image = np.clip(alpha[..., None] * fg + (1 - alpha[..., None]) * bg + noise, 0, 1)
    return image.astype(np.float32), alpha, fg, bg


@pytest.fixture
def disc_scene():
    return make_disc_scene()
