"""A real crash: ``trimatte serve`` killed with SIGKILL in the middle of a job, restarted on
the same jobs folder, finishes the job with every result file complete."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile

import cv2
import numpy as np
import pytest

from tests.server.conftest import disc_png


def start_server(jobs_dir, port):
    command = [sys.executable, "-m", "trimatte.cli.main", "serve", "--threads", "--workers",
               "1", "--port", str(port), "--jobs-dir", str(jobs_dir)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # SIGINT back to its default, as for a terminal job, so the clean-up below stops
    # it even when the tests run under a background shell that ignores SIGINT
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_ready(httpx, url, server, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server not ready")


@pytest.mark.slow
def test_server_killed_mid_job_resumes_it(tmp_path):
    httpx = pytest.importorskip("httpx")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    jobs = tmp_path / "jobs"
    server = start_server(jobs, port)
    try:
        wait_ready(httpx, url, server)
        files = [("files", (f"p{i}.png", disc_png(96, seed=i, radius=30))) for i in range(10)]
        job_id = httpx.post(url + "/v1/jobs", files=files,
                            data={"pipeline": "grabcut", "rect": "8,8,80,80"},
                            timeout=60).json()["id"]
        end = time.monotonic() + 120
        while time.monotonic() < end:
            state = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
            if state["counts"]["done"] >= 2 or state["status"] not in ("queued", "running"):
                break
            time.sleep(0.02)
        os.killpg(server.pid, signal.SIGKILL)  # no shutdown handler runs
        server.wait(30)
        was_running = state["status"] == "running"
        server = start_server(jobs, port)
        wait_ready(httpx, url, server)
        end = time.monotonic() + 180
        while time.monotonic() < end:
            state = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
            if state["status"] not in ("queued", "running"):
                break
            time.sleep(0.2)
        assert state["status"] == "done", state
        assert state["counts"]["done"] == 10
        if was_running:
            assert state["restarts"] == 1
        archive = zipfile.ZipFile(io.BytesIO(httpx.get(url + state["result"], timeout=60).content))
        names = [n for n in archive.namelist() if n.endswith(".png")]
        assert len(names) == 20  # alpha and cutout of each photo
        for name in names:
            image = cv2.imdecode(np.frombuffer(archive.read(name), np.uint8), -1)
            assert image is not None and image.shape[:2] == (96, 96), name
        assert not list(jobs.rglob("*.tmp"))
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
