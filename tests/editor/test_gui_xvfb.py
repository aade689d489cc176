"""Tests of the OpenCV editor window.

The event handlers are tested directly (no window needed); then the real
program runs under a private Xvfb X server and is driven with xdotool (mouse
drags and keys), and the files it saves are checked.  That test is
skipped when the ``Xvfb`` or ``xdotool`` binaries are missing (Debian packages
``xvfb`` and ``xdotool``); every wait in it is bounded so it can never hang.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import REPO, make_disc_scene
from trimatte.editor.canvas import KEY_BINDINGS, STATUS_HEIGHT, draw_help
from trimatte.editor.gui import EditorWindow, display_available
from trimatte.editor.state import EditorState
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.io import read_alpha, read_trimap, write_image, write_trimap
from trimatte.trimap.morphology import trimap_from_alpha

XVFB = shutil.which("Xvfb")
XDOTOOL = shutil.which("xdotool")


def disc_window(tmp_path: Path, size: int = 80) -> EditorWindow:
    image, alpha, _, _ = make_disc_scene(size=size, radius=size * 0.28)
    state = EditorState(image, trimap_from_alpha(alpha, 3), brush_radius=3)
    return EditorWindow(state, outdir=tmp_path)


# ----------------------------------------------------------------------------- handlers


def test_mouse_drag_paints_one_undoable_stroke(tmp_path):
    window = disc_window(tmp_path)
    start = window.state.trimap.copy()
    window.on_mouse(cv2.EVENT_LBUTTONDOWN, 5, 5, cv2.EVENT_FLAG_LBUTTON)
    window.on_mouse(cv2.EVENT_MOUSEMOVE, 40, 5, cv2.EVENT_FLAG_LBUTTON)
    window.on_mouse(cv2.EVENT_LBUTTONUP, 60, 5, 0)
    assert np.all(window.state.trimap[3:8, 5:61] == FOREGROUND)
    window.on_mouse(cv2.EVENT_RBUTTONDOWN, 40, 40, cv2.EVENT_FLAG_RBUTTON)
    window.on_mouse(cv2.EVENT_RBUTTONUP, 40, 40, 0)
    assert window.state.trimap[40, 40] == BACKGROUND  # right drag paints background
    assert window.on_key(ord("z")) and window.on_key(ord("z"))
    assert np.array_equal(window.state.trimap, start)
    window.on_key(ord("y"))
    assert window.state.trimap[5, 30] == FOREGROUND


def test_keys_and_wheel_change_brush_mode_and_band(tmp_path):
    window = disc_window(tmp_path)
    window.wheel_sets_radius = True  # as with non-Qt highgui builds (Qt zooms instead)
    state = window.state
    window.on_mouse(cv2.EVENT_MOUSEWHEEL, 10, 10, 120 << 16)
    assert state.brush_radius == 5
    window.on_mouse(cv2.EVENT_MOUSEWHEEL, 10, 10, (-120 & 0xFFFF) << 16)
    assert state.brush_radius == 3
    window.on_key(ord("]"))
    assert state.brush_radius == 5
    window.on_key(ord("u"))
    assert state.brush_label == UNKNOWN
    unknown = int((state.trimap == UNKNOWN).sum())
    window.on_key(ord("d"))
    assert (state.trimap == UNKNOWN).sum() > unknown
    window.on_key(ord("3"))
    assert window.mode == "checkerboard"
    window.on_key(ord("m"))
    assert window.mode == "colour"
    window.on_key(ord("h"))
    assert window.show_help


def test_quit_asks_twice_when_there_are_unsaved_changes(tmp_path):
    window = disc_window(tmp_path)
    window.wheel_sets_radius = False  # Qt: the wheel zooms, the brush keeps its size
    window.on_mouse(cv2.EVENT_MOUSEWHEEL, 10, 10, 120 << 16)
    assert window.state.brush_radius == 3
    assert window.on_key(ord("q")) is False  # nothing changed yet: quits at once
    window.on_key(ord("d"))
    assert window.on_key(ord("q")) is True and "unsaved" in window.status
    assert window.on_key(27) is False


def test_frame_has_the_image_size_plus_a_status_bar(tmp_path):
    window = disc_window(tmp_path, size=64)
    window.on_mouse(cv2.EVENT_MOUSEMOVE, 20, 20, 0)
    window.show_help = True
    frame = window.compose_frame()
    assert frame.shape == (64 + STATUS_HEIGHT, 64, 3) and frame.dtype == np.uint8


def test_help_fits_small_and_large_frames():
    for shape in ((120, 160, 3), (700, 900, 3)):
        frame = np.full(shape, 200, np.uint8)
        draw_help(frame)
        assert (frame < 200).any()
        assert frame[-1, -1, 0] == 200  # the panel stays inside the frame
    assert len(KEY_BINDINGS) >= 10


def test_display_check_names_the_problem(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    if sys.platform.startswith("linux"):
        assert "DISPLAY" in display_available()


def test_cli_without_display_fails_cleanly(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("the DISPLAY check applies to Linux only")
    image, _, _, _ = make_disc_scene(32)
    path = write_image(tmp_path / "disc.png", image)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "trimatte.cli.edit", str(path), "--out", str(tmp_path)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "DISPLAY" in proc.stderr and "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- Xvfb


@contextmanager
def xvfb_display(timeout: float = 15.0) -> Iterator[str]:
    """Start Xvfb on a free display number (chosen by Xvfb itself) and yield ``":N"``."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], timeout)
        number = os.read(read_fd, 32).decode().strip() if ready else ""
        if not number:
            pytest.fail(f"Xvfb did not report a display number within {timeout} s")
        socket = Path(f"/tmp/.X11-unix/X{number}")  # the display is usable once this exists
        deadline = time.monotonic() + timeout
        while not socket.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is not None or not socket.exists():
            pytest.fail(f"Xvfb on :{number} is not serving (exit code {proc.poll()})")
        yield f":{number}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Driver:
    """Runs xdotool commands against one X display (every call has a timeout)."""

    def __init__(self, display: str, editor: subprocess.Popen, log: Path) -> None:
        self.env = {**os.environ, "DISPLAY": display}
        self.editor = editor
        self.log = log
        self.window = ""

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([XDOTOOL, *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=check)

    def alive(self) -> None:
        if self.editor.poll() is not None:
            pytest.fail(f"the editor exited early ({self.editor.returncode}):\n"
                        f"{self.log.read_text()[-3000:]}")

    def find_window(self, title: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.alive()
            found = self("search", "--name", f"^{title}$", check=False).stdout.split()
            if found:
                self.window = found[0]
                return self.window
            time.sleep(0.3)
        pytest.fail(f"no window named {title!r} appeared within {timeout} s")

    def move(self, x: int, y: int) -> None:
        self("mousemove", "--window", self.window, str(x), str(y))
        time.sleep(0.05)

    def key(self, name: str) -> None:
        self.alive()
        self("key", name)
        time.sleep(0.4)  # let the editor's key loop take it before the next mouse event

    def drag(self, points: list[tuple[int, int]]) -> None:
        self.alive()
        self.move(*points[0])
        self("mousedown", "1")
        for point in points[1:]:
            time.sleep(0.05)
            self.move(*point)
        time.sleep(0.05)
        self("mouseup", "1")
        time.sleep(0.4)


def _wait_for_files(paths: list[Path], driver: Driver, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        driver.alive()
        if all(p.is_file() for p in paths):
            return
        if "save failed" in driver.log.read_text():
            break
        time.sleep(0.2)
    pytest.fail(f"the editor did not save {[p.name for p in paths]} within {timeout} s:\n"
                f"{driver.log.read_text()[-3000:]}")


@pytest.mark.skipif(XVFB is None or XDOTOOL is None,
                    reason="needs the Xvfb and xdotool binaries (Debian: apt-get install "
                    "xvfb xdotool) to drive the editor window")
def test_editor_window_under_xvfb(tmp_path):
    size = 160
    image, alpha, _, _ = make_disc_scene(size=size, radius=45, soft=3)
    trimap = trimap_from_alpha(alpha, 4)
    image_path = write_image(tmp_path / "in" / "disc.png", image)
    trimap_path = write_trimap(tmp_path / "in" / "disc_trimap.png", trimap)
    inputs_before = {p: p.read_bytes() for p in (image_path, trimap_path)}
    outdir = tmp_path / "out"
    log = tmp_path / "editor.log"

    with xvfb_display() as display, log.open("w") as log_file:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "OMP_NUM_THREADS": "1"}
        env.pop("WAYLAND_DISPLAY", None)
        editor = subprocess.Popen(
            [sys.executable, "-m", "trimatte.cli.edit", str(image_path),
             "--trimap", str(trimap_path), "--out", str(outdir), "--brush-radius", "3",
             "--timeout", "150"],
            env=env, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            drive = Driver(display, editor, log)
            window = drive.find_window("trimatte edit")
            # the window is created small and takes the image size (plus the status bar)
            # once the first frame is shown: that is when it is ready for events
            expected = f"Geometry: {size}x{size + STATUS_HEIGHT}"
            deadline = time.monotonic() + 30
            while expected not in (geometry := drive("getwindowgeometry", window).stdout):
                drive.alive()
                if time.monotonic() > deadline:
                    pytest.fail(f"window never got the expected size: {geometry}")
                time.sleep(0.2)
            time.sleep(0.5)
            drive.move(80, 40)
            drive.key("d")  # grow the unknown band by 2 px
            drive.key("bracketright")  # radius 3 -> 5 -> 7
            drive.key("bracketright")
            drive.key("f")
            drive.drag([(20, 15), (80, 15), (140, 15)])  # foreground across the background
            drive.key("b")
            drive.drag([(80, 60), (80, 80), (80, 100)])  # background through the disc
            drive.key("u")
            drive.drag([(20, 145), (60, 145)])  # unknown, then undone
            drive.key("z")
            drive.key("s")
            saved = [outdir / f"disc_{kind}.png" for kind in ("trimap", "alpha", "cutout")]
            _wait_for_files(saved, drive, timeout=60)
            time.sleep(0.5)
            drive.key("q")
            assert editor.wait(timeout=30) == 0
        finally:
            if editor.poll() is None:
                os.killpg(editor.pid, signal.SIGKILL)
                editor.wait(10)

    out = read_trimap(outdir / "disc_trimap.png")
    # the foreground stroke: 2 * 7 + 1 rows around y = 15 (] made the brush bigger)
    assert np.all(out[8:23, 25:136] == FOREGROUND)
    assert np.all(out[:6, 25:136] == BACKGROUND) and np.all(out[23:26, 25:136] == BACKGROUND)
    # the background stroke through the disc
    assert trimap[80, 80] == FOREGROUND
    assert np.all(out[60:101, 76:85] == BACKGROUND)
    # the undone unknown stroke left no trace
    assert np.all(out[140:151, 20:61] == BACKGROUND)
    # the band grew (look at the lower half, away from the strokes)
    lower = slice(110, 135)
    assert (out[lower] == UNKNOWN).sum() > (trimap[lower] == UNKNOWN).sum()
    saved_alpha = read_alpha(outdir / "disc_alpha.png")
    assert saved_alpha.shape == (size, size)
    assert np.all(saved_alpha[out == FOREGROUND] == 1.0)
    assert np.all(saved_alpha[out == BACKGROUND] == 0.0)
    assert read_alpha(outdir / "disc_cutout.png").shape == (size, size)
    for path, data in inputs_before.items():
        assert path.read_bytes() == data  # inputs untouched
