"""Drawing the editor window's content on frames: help panel, status bar, brush, rectangle.

Plain functions on uint8 BGR arrays (OpenCV's drawing calls, no window), plus
the key bindings and colours the window uses. :mod:`trimatte.editor.gui` puts
the frames these return on screen.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN

#: Height in pixels of the status bar under the image.
STATUS_HEIGHT = 40

#: Background colours of the ``colour`` overlay, cycled with ``c`` (RGB in [0, 1]).
BACKGROUND_COLOURS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("white", (1.0, 1.0, 1.0)),
    ("black", (0.0, 0.0, 0.0)),
    ("green", (0.0, 0.7, 0.25)),
    ("blue", (0.1, 0.3, 0.9)),
)

#: (keys, what they do): the on-screen help and docs/editor.md list these.
KEY_BINDINGS: tuple[tuple[str, str], ...] = (
    ("left drag", "paint with the current brush"),
    ("right drag", "paint background"),
    ("F / B / U", "brush: foreground / background / unknown"),
    ("] / [", "brush radius bigger / smaller"),
    ("wheel", "zoom the view (Qt builds; else brush radius)"),
    ("R + drag", "draw a GrabCut rectangle"),
    ("G", "re-run GrabCut from the strokes"),
    ("D / E", "grow (dilate) / shrink (erode) the unknown band"),
    ("Z / Y", "undo / redo"),
    ("K", "forget the strokes (trimap kept)"),
    ("M, 1-5", "overlay: trimap, alpha, checkerboard, colour, image"),
    ("C", "next background colour"),
    ("P", "refine the alpha at full resolution"),
    ("S", "save trimap, alpha and cutout"),
    ("H", "show / hide this help"),
    ("Q / Esc", "quit (twice if unsaved)"),
)

#: Short name of each brush label, for the status bar.
BRUSH_NAMES = {FOREGROUND: "fg", BACKGROUND: "bg", UNKNOWN: "unknown"}
# Cursor colour (BGR) of each brush label.
_BRUSH_BGR = {FOREGROUND: (60, 230, 30), BACKGROUND: (80, 30, 230), UNKNOWN: (0, 215, 255)}
_RECT_BGR = (0, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_help(frame: np.ndarray, bindings: Sequence[tuple[str, str]] = KEY_BINDINGS
              ) -> np.ndarray:
    """Draw the key bindings on a darkened panel over ``frame`` (uint8 BGR), in place.

    The text scales down to fit small windows. Returns ``frame``.
    """
    height, width = frame.shape[:2]
    lines = [("KEYS", ""), *bindings]
    # a text line is about 30 * scale pixels high and the widest row 880 * scale wide
    scale = min(0.5, ((height - 20) / len(lines) - 3) / 30, (width - 16) / 880)
    scale = max(scale, 0.25)
    line_height = round(30 * scale) + 3
    key_width = round(260 * scale)
    panel_w = min(width - 8, round(880 * scale) + 16)
    panel_h = min(height - 8, line_height * len(lines) + 10)
    x0, y0 = 4, 4
    roi = frame[y0:y0 + panel_h, x0:x0 + panel_w]
    roi[:] = (roi.astype(np.uint16) * 3 // 10).astype(np.uint8)
    for i, (keys, what) in enumerate(lines):
        y = y0 + 6 + line_height * (i + 1) - line_height // 4
        cv2.putText(frame, keys, (x0 + 8, y), _FONT, scale, (120, 230, 255), 1, cv2.LINE_AA)
        cv2.putText(frame, what, (x0 + 8 + key_width, y), _FONT, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return frame


def draw_status(frame: np.ndarray, text: str, message: str = "") -> np.ndarray:
    """Return ``frame`` with a two-line status bar (:data:`STATUS_HEIGHT` px) added below.

    ``text`` (the editor's settings) goes on the first line, ``message`` (what
    just happened) on the second; text too long for the window is shrunk.

    Args:
        frame: uint8 ``(H, W, 3)`` BGR.

    Returns:
        uint8 ``(H + STATUS_HEIGHT, W, 3)`` BGR.
    """
    width = frame.shape[1]
    bar = np.full((STATUS_HEIGHT, width, 3), 40, dtype=np.uint8)
    for row, (line, colour) in enumerate(((text, (235, 235, 235)), (message, (120, 230, 255)))):
        scale = 0.45
        (text_w, _), _ = cv2.getTextSize(line, _FONT, scale, 1)
        if text_w > width - 8:
            scale = max(0.25, scale * (width - 8) / text_w)
        baseline = (row + 1) * STATUS_HEIGHT // 2 - 6
        cv2.putText(bar, line, (4, baseline), _FONT, scale, colour, 1, cv2.LINE_AA)
    return np.vstack([frame, bar])


def draw_cursor(frame: np.ndarray, centre: tuple[int, int], radius: int, label: int
                ) -> np.ndarray:
    """Draw the brush outline (window pixels) in the colour of ``label``, in place."""
    cv2.circle(frame, centre, max(1, radius), _BRUSH_BGR[label], 1, cv2.LINE_AA)
    return frame


def draw_rect(frame: np.ndarray, corner: tuple[int, int], opposite: tuple[int, int]
              ) -> np.ndarray:
    """Draw the GrabCut rectangle being dragged (window pixels), in place."""
    cv2.rectangle(frame, corner, opposite, _RECT_BGR, 2)
    return frame


def wheel_delta(flags: int) -> int:
    """Signed wheel rotation from a mouse callback's ``flags`` (the high 16 bits).

    OpenCV packs it there; OpenCV 5's Python bindings no longer export
    ``getMouseWheelDelta``, so it is decoded here. Positive means away from the user.
    """
    value = (int(flags) >> 16) & 0xFFFF
    return value - 0x10000 if value >= 0x8000 else value


__all__ = [
    "BACKGROUND_COLOURS",
    "BRUSH_NAMES",
    "KEY_BINDINGS",
    "STATUS_HEIGHT",
    "draw_cursor",
    "draw_help",
    "draw_rect",
    "draw_status",
    "wheel_delta",
]
