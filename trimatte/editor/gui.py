"""The thin OpenCV (highgui) layer of the trimap editor.

Everything the editor *does* lives in :class:`trimatte.editor.state.EditorState`;
this module only opens a window, turns mouse and key events into state actions,
and shows :meth:`EditorState.render` with a brush cursor, a status bar and an
optional help overlay.  Slow work (the alpha preview, GrabCut, the
full-resolution matte when saving) runs in one background thread so the window
stays responsive; while GrabCut or a save is running, edits are refused with a
message in the status bar.

Only :func:`run_editor` and :class:`EditorWindow.run` touch the window system;
the frame drawing helpers are plain functions on arrays in
:mod:`trimatte.editor.canvas`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from trimatte.editor.canvas import (
    BACKGROUND_COLOURS,
    BRUSH_NAMES,
    draw_cursor,
    draw_help,
    draw_rect,
    draw_status,
    wheel_delta,
)
from trimatte.editor.pipelines import DEFAULT_PREVIEW_SIDE
from trimatte.editor.render import RENDER_MODES
from trimatte.editor.state import EditorState
from trimatte.errors import InputError, TrimatteError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN

WINDOW_TITLE = "trimatte edit"
#: Brush radius change per key press or wheel notch (pixels).
RADIUS_STEP = 2
#: Band change per key press (pixels).
BAND_STEP = 2


# ----------------------------------------------------------------------------- background work


@dataclass
class _Job:
    kind: str  # "preview", "refine", "grabcut", "save"
    thread: threading.Thread
    result: dict[str, Any]
    version: int
    blocking: bool  # edits are refused while it runs


class EditorWindow:
    """An OpenCV window editing ``state``.

    Args:
        state: The editor state to show and change.
        outdir: Folder :kbd:`S` saves to.
        stem: Output file name stem (default: the image's stem).
        preview_side: Long side of the downscaled copy the live alpha preview uses.
        max_display: Longest side of the window's image; bigger images are shown scaled.
        start_with_rect: Begin in rectangle mode (``--start rect``).
        status: First status message.
        refine_on_save: Compute the saved alpha at full resolution.
    """

    def __init__(
        self,
        state: EditorState,
        *,
        outdir: str | Path,
        stem: str | None = None,
        preview_side: int = DEFAULT_PREVIEW_SIDE,
        max_display: int = 1000,
        start_with_rect: bool = False,
        status: str = "",
        refine_on_save: bool = True,
    ) -> None:
        self.state = state
        self.outdir = Path(outdir)
        self.stem = stem
        self.preview_side = int(preview_side)
        self.refine_on_save = refine_on_save
        #: OpenCV's Qt window zooms on the wheel by itself; elsewhere the wheel sizes the brush.
        self.wheel_sets_radius = not qt_highgui()
        height, width = state.shape
        self.scale = min(1.0, max_display / max(height, width))
        self.display_size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        self.mode = "trimap"
        self.colour_index = 0
        self.show_help = False
        self.rect_mode = start_with_rect
        self.status = status or "H: help"
        self._cursor: tuple[int, int] | None = None
        self._drag_button: int | None = None
        self._last_point: tuple[float, float] | None = None
        self._rect_start: tuple[float, float] | None = None
        self._rect_end: tuple[float, float] | None = None
        self._job: _Job | None = None
        self._frame_key: tuple | None = None
        self._frame: np.ndarray | None = None
        self._quit_armed = False
        self._dirty = True
        if start_with_rect:
            self.status = "drag a rectangle around the subject (GrabCut starts on release)"

    # ------------------------------------------------------------------ coordinates

    def _to_image(self, x: int, y: int) -> tuple[float, float]:
        return ((x + 0.5) / self.scale - 0.5, (y + 0.5) / self.scale - 0.5)

    # ------------------------------------------------------------------ jobs

    def _start_job(self, kind: str, compute: Callable[[], Any], *, blocking: bool,
                   version: int | None = None) -> None:
        if self._job is not None:  # one worker at a time: let a running preview finish
            self._wait_for_job()
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["value"] = compute()
            except TrimatteError as exc:
                result["error"] = str(exc)
            except Exception as exc:  # keep the window alive, report in the status bar
                result["error"] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=work, name=f"trimatte-editor-{kind}", daemon=True)
        self._job = _Job(kind, thread, result, self.state.version if version is None else version,
                         blocking)
        thread.start()
        self._dirty = True

    def _poll_job(self) -> None:
        job = self._job
        if job is None or job.thread.is_alive():
            return
        self._job = None
        self._dirty = True
        if "error" in job.result:
            self.status = f"{job.kind} failed: {job.result['error']}"
            print(f"trimatte edit: {self.status}", file=sys.stderr, flush=True)
            return
        value = job.result.get("value")
        if job.kind in ("preview", "refine"):
            self.state.set_alpha(value, job.version, full_res=job.kind == "refine")
            if job.kind == "refine":
                self.status = "alpha refined at full resolution"
        elif job.kind == "grabcut":
            name = job.result.get("name", "GrabCut")
            self.state.set_trimap(value, name)
            self.status = self.state.message
        elif job.kind == "save":
            self.status = f"saved: {', '.join(p.name for p in value.values())}"
            print(f"trimatte edit: saved {', '.join(str(p) for p in value.values())}",
                  file=sys.stderr, flush=True)

    def _busy(self) -> bool:
        if self._job is not None and self._job.blocking:
            self.status = f"busy: {self._job.kind} is running..."
            self._dirty = True
            return True
        return False

    def _wants_alpha(self) -> bool:
        return self.mode in ("alpha", "checkerboard", "colour")

    def _maybe_start_preview(self) -> None:
        if (self._job is None and self._wants_alpha() and self._drag_button is None
                and not self.state.alpha_is_current):
            version, compute = self.state.prepare_preview(self.preview_side)
            self._start_job("preview", compute, blocking=False, version=version)

    def _wait_for_job(self, timeout: float = 600.0) -> None:
        if self._job is not None:
            self._job.thread.join(timeout)
            self._poll_job()

    # ------------------------------------------------------------------ events

    def on_mouse(self, event: int, x: int, y: int, flags: int, _param: Any = None) -> None:
        """OpenCV mouse callback (coordinates in window pixels)."""
        self._cursor = (x, y)
        self._dirty = True
        point = self._to_image(x, y)
        if event == cv2.EVENT_MOUSEWHEEL:
            if not self.wheel_sets_radius:  # Qt's highgui zooms the view on the wheel
                return
            delta = wheel_delta(flags)
            step = RADIUS_STEP if delta > 0 else -RADIUS_STEP
            self.state.set_brush_radius(self.state.brush_radius + step)
            return
        if event in (cv2.EVENT_LBUTTONDOWN, cv2.EVENT_RBUTTONDOWN):
            if self._busy():
                return
            self._drag_button = event
            if self.rect_mode and event == cv2.EVENT_LBUTTONDOWN:
                self._rect_start = self._rect_end = point
                return
            self.state.begin_stroke()
            self._paint([point])
            self._last_point = point
        elif event == cv2.EVENT_MOUSEMOVE and self._drag_button is not None:
            if self._rect_start is not None:
                self._rect_end = point
            elif self._last_point is not None:
                self._paint([self._last_point, point])
                self._last_point = point
        elif (event in (cv2.EVENT_LBUTTONUP, cv2.EVENT_RBUTTONUP)
              and self._drag_button is not None):
            if self._rect_start is not None:
                self._finish_rect(point)
            else:
                if self._last_point is not None:
                    self._paint([self._last_point, point])
                self._last_point = None
                self.state.end_stroke()
                self._quit_armed = False
            self._drag_button = None

    def _paint(self, points: list[tuple[float, float]]) -> None:
        label = BACKGROUND if self._drag_button == cv2.EVENT_RBUTTONDOWN else None
        self.state.paint(points, label)

    def _finish_rect(self, point: tuple[float, float]) -> None:
        (x0, y0), (x1, y1) = self._rect_start, point  # type: ignore[misc]
        self._rect_start = self._rect_end = None
        self.rect_mode = False
        try:
            compute = self.state.prepare_grabcut((x0, y0, x1 - x0, y1 - y0))
        except InputError as exc:
            self.status = str(exc)
            return
        self._start_job("grabcut", compute, blocking=True)
        self._job.result["name"] = "GrabCut from rectangle"  # type: ignore[union-attr]
        self.status = "running GrabCut from the rectangle..."

    def on_key(self, key: int) -> bool:
        """Handle one key code from ``cv2.waitKeyEx``; returns False to quit."""
        if key in (27, ord("q"), ord("Q")):
            return self._quit()
        if key > 0xFF:
            return True
        char = chr(key).lower()
        self._dirty = True
        state = self.state
        if char == "h":
            self.show_help = not self.show_help
        elif char in "fbu":
            state.set_brush_label({"f": FOREGROUND, "b": BACKGROUND, "u": UNKNOWN}[char])
            self.status = f"brush: {BRUSH_NAMES[state.brush_label]}"
        elif char in "]=+":
            state.set_brush_radius(state.brush_radius + RADIUS_STEP)
        elif char in "[-_":
            state.set_brush_radius(state.brush_radius - RADIUS_STEP)
        elif char == "m" or char == "\t":
            self.mode = RENDER_MODES[(RENDER_MODES.index(self.mode) + 1) % len(RENDER_MODES)]
        elif char in "12345":
            self.mode = RENDER_MODES[int(char) - 1]
        elif char == "c":
            self.colour_index = (self.colour_index + 1) % len(BACKGROUND_COLOURS)
            self.mode = "colour"
        elif self._busy():
            return True
        elif char == "r":
            self.rect_mode = True
            self.status = "drag a rectangle around the subject"
        elif char == "g":
            self._start_job("grabcut", state.prepare_grabcut(), blocking=True)
            self._job.result["name"] = "GrabCut from strokes"  # type: ignore[union-attr]
            self.status = "running GrabCut from the strokes..."
        elif char in "de":
            changed = state.grow_band(BAND_STEP) if char == "d" else state.shrink_band(BAND_STEP)
            self.status = state.message if changed else f"{state.message}: no change"
        elif char == "z":
            state.undo()
            self.status = state.message
        elif char == "y":
            state.redo()
            self.status = state.message
        elif char == "k":
            state.clear_strokes()
            self.status = "strokes forgotten"
        elif char == "p":
            self._refine()
        elif char == "s":
            self._save()
        self._quit_armed = False
        return True

    def _refine(self) -> None:
        version, compute = self.state.prepare_preview(None)
        self._start_job("refine", compute, blocking=False, version=version)
        self.status = "refining the alpha at full resolution..."

    def _save(self) -> None:
        state, outdir, stem, refine = self.state, self.outdir, self.stem, self.refine_on_save
        try:
            state.output_paths(outdir, stem)
        except InputError as exc:
            self.status = str(exc)
            return
        self._start_job("save", lambda: state.save(outdir, stem, refine=refine), blocking=True)
        self.status = f"saving to {outdir}..."

    def _quit(self) -> bool:
        if self._job is not None and self._job.kind == "save":
            self.status = "finishing the save..."
            self._wait_for_job()
        if self.state.modified and not self._quit_armed:
            self._quit_armed = True
            self.status = "unsaved changes: press Q again to quit without saving, S to save"
            self._dirty = True
            return True
        return False

    # ------------------------------------------------------------------ drawing

    def _status_text(self) -> str:
        state = self.state
        parts = [
            f"{self.mode}",
            f"brush {BRUSH_NAMES[state.brush_label]} r={state.brush_radius}",
            f"band {state.band}",
        ]
        if self.mode == "colour":
            parts.append(BACKGROUND_COLOURS[self.colour_index][0])
        if self.rect_mode:
            parts.append("RECTANGLE")
        if self._job is not None:
            parts.append(f"{self._job.kind}...")
        elif self._wants_alpha() and not state.alpha_is_current:
            parts.append("preview out of date")
        parts.append("unsaved" if state.modified else "saved")
        parts.append("H: help")
        return " | ".join(parts)

    def compose_frame(self) -> np.ndarray:
        """The full window content: rendered overlay, cursor, rectangle, help, status bar."""
        state = self.state
        colour = BACKGROUND_COLOURS[self.colour_index][1]
        key = (self.mode, state.version, id(state.alpha), self.colour_index)
        if key != self._frame_key or self._frame is None:
            frame = state.render(self.mode, colour=colour)
            if self.scale != 1.0:
                frame = cv2.resize(frame, self.display_size, interpolation=cv2.INTER_AREA)
            self._frame, self._frame_key = frame, key
        frame = self._frame.copy()
        if self._rect_start is not None and self._rect_end is not None:
            p = tuple(round(v * self.scale) for v in self._rect_start)
            q = tuple(round(v * self.scale) for v in self._rect_end)
            draw_rect(frame, p, q)  # type: ignore[arg-type]
        elif self._cursor is not None:
            draw_cursor(frame, self._cursor, round(state.brush_radius * self.scale),
                        state.brush_label)
        if self.show_help:
            draw_help(frame)
        return draw_status(frame, self._status_text(), self.status)

    # ------------------------------------------------------------------ main loop

    def _guarded(self, handler: Callable[..., Any], *args: Any, default: Any) -> Any:
        """Run an event handler; a bad-input error goes to the status bar, not the console."""
        try:
            return handler(*args)
        except TrimatteError as exc:
            self.status = str(exc)
            self._dirty = True
            return default

    def run(self, timeout: float | None = None) -> int:
        """Open the window and process events until the user quits; returns 0.

        Args:
            timeout: Close the window after this many seconds (for scripted use).
        """
        cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        cv2.setMouseCallback(
            WINDOW_TITLE, lambda *event: self._guarded(self.on_mouse, *event, default=None)
        )
        start = time.monotonic()
        shown_once = False
        try:
            while True:
                self._poll_job()
                self._maybe_start_preview()
                if self._dirty:
                    cv2.imshow(WINDOW_TITLE, self.compose_frame())
                    self._dirty = False
                    shown_once = True
                key = cv2.waitKeyEx(15)
                if key != -1 and not self._guarded(self.on_key, key, default=True):
                    break
                if shown_once and _window_closed():
                    break
                if timeout is not None and time.monotonic() - start > timeout:
                    break
        finally:
            if self._job is not None and self._job.kind == "save":
                self._wait_for_job()
            cv2.destroyWindow(WINDOW_TITLE)
            cv2.waitKey(1)
        return 0


def qt_highgui() -> bool:
    """True if OpenCV's highgui windows are Qt windows (they zoom on the mouse wheel)."""
    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GUI:"):
            return "QT" in line.upper()
    return False


def _window_closed() -> bool:
    try:
        return cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error:
        return True


def display_available() -> str | None:
    """None if a window can be opened, else the reason why not (checked without opening one).

    Qt aborts the whole process when it cannot reach a display, so this is
    checked before any window call.
    """
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if sys.platform.startswith("linux") and platform not in ("offscreen", "minimal", "vnc"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return ("no display: DISPLAY is not set (run it on a desktop, over ssh -X, "
                    "or under Xvfb: xvfb-run trimatte edit IMAGE)")
    return None


def run_editor(state: EditorState, **options: Any) -> int:
    """Open an :class:`EditorWindow` on ``state`` and run it until the user quits.

    Keyword options are those of :class:`EditorWindow`, plus ``timeout`` (seconds).

    Raises:
        InputError: No display to open a window on.
    """
    reason = display_available()
    if reason is not None:
        raise InputError(reason, "display")
    timeout = options.pop("timeout", None)
    _import_workers(state)
    return EditorWindow(state, **options).run(timeout=timeout)


def _import_workers(state: EditorState) -> None:
    """Import what the background jobs use, in the main thread, before the window opens.

    Importing heavy modules (torch, numba) from a worker thread while Qt runs
    its event loop was seen to leave ``waitKey`` blocked for good. So the
    modules are imported here, and the pipeline's alpha stages run once on a
    tiny image (which imports what they need, e.g. torch and the weights of a
    deep stage chosen with ``--matting``).
    """
    import importlib

    from trimatte.editor.pipelines import warm_up

    for name in ("trimatte.matting.closed_form", "trimatte.foreground.estimation",
                 "trimatte.foreground.compositing", "trimatte.trimap.grabcut"):
        try:
            importlib.import_module(name)
        except ImportError:  # reported in the status bar when a job needs it
            pass
    try:
        warm_up(state.pipeline)
    except (ImportError, TrimatteError):  # the same error reaches the status bar later
        pass


__all__ = [
    "EditorWindow",
    "display_available",
    "qt_highgui",
    "run_editor",
]
