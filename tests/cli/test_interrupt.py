"""Ctrl-C stops cleanly: one line, finished outputs intact, no temporary file, exit 130."""

import os
import signal
import subprocess
import sys
import time

import cv2
import pytest

from tests.cli.conftest import write_scene


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_in_the_middle_of_a_batch(tmp_path, workers):
    images, trimaps, out = tmp_path / "images", tmp_path / "trimaps", tmp_path / "out"
    write_scene(images, names=[f"im{i:02d}" for i in range(24)], size=160, trimaps=trimaps)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "trimatte.cli.main", "matte", str(images), "-o", str(out),
         "--trimap", str(trimaps), "--matting", "closed-form", "--save", "alpha,cutout",
         "--workers", workers],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,  # its own process group, like a shell job
        # like a terminal job: Ctrl-C is delivered even when this test runs under a
        # non-interactive background shell, whose children inherit SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 240
    while not list(out.glob("*_cutout.png")) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if "trimatte:" in line]
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    written = list(out.glob("*.png"))
    assert 0 < len(written) < 48
    for path in written:  # every file there is complete
        assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is not None, path
