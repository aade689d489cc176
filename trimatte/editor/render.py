"""What the editor shows: the image with a trimap, alpha or cutout overlay, as an array.

Pure functions on arrays (no window): the editor window shows these frames, a
script can write them with ``cv2.imwrite``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN, to_uint8

#: Overlay modes of :func:`render_frame`.
RENDER_MODES: tuple[str, ...] = ("trimap", "alpha", "checkerboard", "colour", "image")

# Colours (RGB in [0, 1]) used to tint the trimap overlay.
_TINT = {
    FOREGROUND: np.array([0.1, 0.9, 0.2], np.float32),
    BACKGROUND: np.array([0.9, 0.1, 0.3], np.float32),
    UNKNOWN: np.array([1.0, 0.85, 0.0], np.float32),
}
_TINT_OPACITY = 0.45


def render_frame(
    image: np.ndarray,
    trimap: np.ndarray,
    alpha: np.ndarray,
    mode: str,
    *,
    colour: Sequence[float] = (1.0, 1.0, 1.0),
    square: int = 16,
) -> np.ndarray:
    """Draw one overlay mode as a uint8 BGR frame of the image's size.

    Modes (:data:`RENDER_MODES`): ``trimap`` (the trimap tinted over the image:
    green foreground, red background, yellow unknown), ``alpha`` (the matte in
    gray), ``checkerboard`` and ``colour`` (the image composited with ``alpha``
    over a checkerboard or over ``colour``, RGB in [0, 1]), ``image``.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` trimap.
        alpha: float32 ``(H, W)`` alpha in [0, 1].
        mode: One of :data:`RENDER_MODES`.
        colour: Background of the ``colour`` mode, RGB in [0, 1].
        square: Checkerboard square side in pixels.

    Returns:
        uint8 ``(H, W, 3)`` BGR array (OpenCV's channel order, ready to show).

    Raises:
        InputError: Unknown mode.
    """
    if mode == "trimap":
        tint = np.empty_like(image)
        for label, rgb in _TINT.items():
            tint[trimap == label] = rgb
        rgb_frame = (1.0 - _TINT_OPACITY) * image + _TINT_OPACITY * tint
    elif mode == "alpha":
        rgb_frame = np.repeat(alpha[:, :, None], 3, axis=2)
    elif mode == "checkerboard":
        from trimatte.foreground.compositing import checkerboard, composite

        rgb_frame = composite(image, alpha, checkerboard(image.shape[:2], square=square))
    elif mode == "colour":
        from trimatte.foreground.compositing import composite

        rgb_frame = composite(image, alpha, np.asarray(colour, np.float32))
    elif mode == "image":
        rgb_frame = image
    else:
        raise InputError(f"unknown mode {mode!r}; expected one of {RENDER_MODES}", "mode")
    return np.ascontiguousarray(to_uint8(rgb_frame)[:, :, ::-1])


__all__ = ["RENDER_MODES", "render_frame"]
