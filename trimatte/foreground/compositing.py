"""Compositing a foreground over a new background, RGBA cutouts, and background specs.

``I = alpha F + (1 - alpha) B`` with straight (unpremultiplied) colours, all arrays in
the convention of :mod:`trimatte.image`. A background is given either as an array,
an RGB triple, or a *spec* string: a colour (``white``, ``#ff8800``, ``255,128,0``)
or the path of an image file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import as_alpha, as_image, check_same_size
from trimatte.io import read_image

__all__ = [
    "NAMED_COLORS",
    "checkerboard",
    "composite",
    "cutout",
    "load_background",
    "parse_color",
]

Color = tuple[float, float, float]

#: Colour names understood by :func:`parse_color` (RGB in [0, 1], CSS values).
NAMED_COLORS: dict[str, Color] = {
    "white": (1.0, 1.0, 1.0),
    "black": (0.0, 0.0, 0.0),
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 128 / 255, 0.0),
    "lime": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "gray": (128 / 255, 128 / 255, 128 / 255),
    "grey": (128 / 255, 128 / 255, 128 / 255),
    "lightgray": (211 / 255, 211 / 255, 211 / 255),
    "lightgrey": (211 / 255, 211 / 255, 211 / 255),
    "darkgray": (169 / 255, 169 / 255, 169 / 255),
    "darkgrey": (169 / 255, 169 / 255, 169 / 255),
    "orange": (1.0, 165 / 255, 0.0),
    "purple": (128 / 255, 0.0, 128 / 255),
    "pink": (1.0, 192 / 255, 203 / 255),
    "brown": (165 / 255, 42 / 255, 42 / 255),
    "navy": (0.0, 0.0, 128 / 255),
    "teal": (0.0, 128 / 255, 128 / 255),
}


def parse_color(spec: str) -> Color:
    """Parse a colour: a name, ``#rrggbb`` / ``#rgb``, or ``r,g,b`` with 0-255 integers.

    Args:
        spec: The colour text (case and surrounding spaces ignored).

    Returns:
        RGB triple of floats in [0, 1].

    Raises:
        InputError: ``spec`` is not a colour (the message names it).
    """
    if not isinstance(spec, str):
        raise InputError(f"expected a colour string, got {type(spec).__name__}", "color")
    text = spec.strip().lower()
    if text in NAMED_COLORS:
        return NAMED_COLORS[text]
    if text.startswith("#"):
        digits = text[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 6 and all(c in "0123456789abcdef" for c in digits):
            return tuple(int(digits[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]
        raise InputError("expected #rrggbb or #rgb with hexadecimal digits", spec)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 3:
        try:
            values = [int(p) for p in parts]
        except ValueError:
            values = []
        if len(values) == 3 and all(0 <= v <= 255 for v in values):
            return tuple(v / 255.0 for v in values)  # type: ignore[return-value]
        raise InputError("expected r,g,b with three integers in 0..255", spec)
    raise InputError(
        "not a colour: use a name (" + ", ".join(sorted(NAMED_COLORS)[:6])
        + ", ...), #rrggbb or r,g,b",
        spec,
    )


def _background_array(background, shape_hw: tuple[int, int]) -> np.ndarray:
    if isinstance(background, str):
        return load_background(background, shape_hw)
    array = np.asarray(background)
    if array.ndim == 1:
        if array.shape != (3,):
            raise InputError(f"an RGB triple needs 3 values, got {array.shape[0]}", "background")
        colour = as_image(array.reshape(1, 1, 3), "background")[0, 0]
        return np.broadcast_to(colour, (*shape_hw, 3))
    image = as_image(array, "background")
    check_same_size(shape_hw, image.shape, "background")
    return image


def composite(
    foreground: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray | Sequence[float] | str,
) -> np.ndarray:
    """Blend a foreground over a background: ``alpha F + (1 - alpha) B``.

    Args:
        foreground: ``(H, W, 3)`` RGB (float in [0, 1] or uint8).
        alpha: ``(H, W)`` matte.
        background: ``(H, W, 3)`` image, an RGB triple in [0, 1] (or uint8 array), or a
            spec string for :func:`load_background`.

    Returns:
        float32 ``(H, W, 3)`` composite in [0, 1].

    Raises:
        InputError: Malformed inputs or mismatched sizes.
    """
    fg = as_image(foreground, "foreground")
    a = as_alpha(alpha, "alpha")
    check_same_size(fg.shape, a.shape, "alpha")
    bg = _background_array(background, fg.shape[:2])
    a3 = a[:, :, None]
    return (a3 * fg + (1.0 - a3) * bg).astype(np.float32)


def cutout(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight (unpremultiplied) RGBA cutout: colour channels unchanged, alpha as the 4th.

    Args:
        foreground: ``(H, W, 3)`` RGB.
        alpha: ``(H, W)`` matte.

    Returns:
        float32 ``(H, W, 4)`` in [0, 1].
    """
    fg = as_image(foreground, "foreground")
    a = as_alpha(alpha, "alpha")
    check_same_size(fg.shape, a.shape, "alpha")
    return np.dstack([fg, a]).astype(np.float32)


def checkerboard(
    shape: tuple[int, ...],
    square: int = 16,
    colors: tuple[Color, Color] = ((0.8, 0.8, 0.8), (1.0, 1.0, 1.0)),
) -> np.ndarray:
    """A transparency-style checkerboard background.

    Args:
        shape: ``(H, W)`` or ``(H, W, C)``; only height and width are used.
        square: Side of a square in pixels (>= 1).
        colors: Colours of the squares, the first one at the top-left.

    Returns:
        float32 ``(H, W, 3)`` image.
    """
    if not isinstance(square, (int, np.integer)) or square < 1:
        raise InputError(f"must be a positive integer, got {square!r}", "square")
    height, width = int(shape[0]), int(shape[1])
    if height < 1 or width < 1:
        raise InputError(f"height and width must be positive, got {height}x{width}", "shape")
    rows = (np.arange(height) // square)[:, None]
    cols = (np.arange(width) // square)[None, :]
    odd = ((rows + cols) % 2).astype(bool)
    palette = np.asarray(colors, dtype=np.float32)
    if palette.shape != (2, 3):
        raise InputError(f"expected two RGB colours, got shape {palette.shape}", "colors")
    return palette[odd.astype(np.intp)]


def _cover_and_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale ``image`` to cover ``height x width`` (keeping its aspect) and centre-crop."""
    h, w = image.shape[:2]
    scale = max(height / h, width / w)
    new_h, new_w = max(height, round(h * scale)), max(width, round(w * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return np.clip(resized[top : top + height, left : left + width], 0.0, 1.0)


def load_background(spec: str | os.PathLike, shape: tuple[int, ...]) -> np.ndarray:
    """A background of size ``shape`` from a colour spec or an image file.

    A colour (see :func:`parse_color`) fills the whole frame; an image is scaled to
    cover the frame and centre-cropped. Colour specs win over files of the same name.

    Args:
        spec: Colour text or path of an image file.
        shape: ``(H, W)`` or ``(H, W, C)`` of the output.

    Returns:
        float32 ``(H, W, 3)`` background in [0, 1].

    Raises:
        InputError: ``spec`` is neither a colour nor a readable image (names the spec).
    """
    height, width = int(shape[0]), int(shape[1])
    if height < 1 or width < 1:
        raise InputError(f"height and width must be positive, got {height}x{width}", "shape")
    if isinstance(spec, str):
        try:
            colour = parse_color(spec)
        except InputError:
            colour = None
        if colour is not None:
            return np.broadcast_to(np.asarray(colour, np.float32), (height, width, 3)).copy()
    path = Path(spec)
    if not path.is_file():
        raise InputError(
            "not a colour (name, #rrggbb or r,g,b) and not an existing image file", str(spec)
        )
    return _cover_and_crop(read_image(path), height, width).astype(np.float32)
