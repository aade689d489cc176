"""Multi-level foreground estimation in bounded memory, for very large images.

:func:`estimate_foreground_tiled` gives the foreground of
:func:`trimatte.foreground.estimation.estimate_foreground` on every pixel with
``0 < alpha < 1`` (the same numbers: the same sweeps in the same order), and the image
itself where ``alpha == 1``, without ever holding a full-resolution level of the
solver. The full-resolution version keeps six float32 channels of ``F`` and ``B`` plus
their red-black phase copies and an assembled copy, about 50 bytes per pixel (1.2 GB
at 24 MP); this one holds the output foreground (12 bytes per pixel) and one tile.

How: the coarse levels (up to ``coarse_pixels``) are solved over the whole image as
usual. Each finer level is solved tile by tile: a ``tile x tile`` box of the output
needs, at the finest level, the box grown by ``2 k + 2`` pixels (``k`` sweeps move
information ``2 k`` pixels, see :mod:`~trimatte.foreground.estimation`); the start
values of that window come from the nearest-neighbour sources one level coarser, which
need their own window grown by that level's reach, and so on down to the coarse
levels. Every window starts on an even row and column, so its red-black colouring is
the image's. The pixels iterated are the estimation's own active regions (computed
once for the whole image, as boolean masks), so each window reproduces the full
computation on the pixels that matter. Tiles without fractional alpha skip the fine
levels: they take the coarse values through the same chain of nearest-neighbour
upsamplings (and the image where ``alpha == 1``).
"""

from __future__ import annotations

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.foreground.estimation import (
    _assemble,
    _check_params,
    _level_plan,
    _nearest_index,
    _phases_at,
    _solve_level,
    _upsample_phases,
    estimate_foreground,
)
from trimatte.image import as_alpha, as_image, check_same_size

__all__ = ["estimate_foreground_tiled", "level_windows"]

#: Levels up to this many pixels are solved over the whole image.
COARSE_PIXELS = 1_000_000

Box = tuple[int, int, int, int]  # (y0, y1, x0, x1), half-open


def _take(array: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``array[rows][:, cols]`` (leading two axes) without a full-width intermediate."""
    return array[rows[:, None], cols[None, :]]


def level_windows(box: Box, shapes: list[tuple[int, int]], iterations: list[int],
                  first: int) -> dict[int, Box]:
    """The window of every level ``>= first`` that a box of the finest level needs.

    Level ``l``'s window is the part of level ``l`` whose values must be computed so
    that the next finer window's start values are exact: the nearest-neighbour sources
    of that window, grown by ``2 k_l + 2`` pixels (the reach of ``k_l`` red-black
    sweeps, plus one), clipped to the level and with an even start row and column.

    Args:
        box: ``(y0, y1, x0, x1)`` at the finest level (``shapes[-1]``).
        shapes: ``(h, w)`` of the levels, coarse to fine.
        iterations: Sweeps per level.
        first: Coarsest level that gets a window.

    Returns:
        ``{level: (y0, y1, x0, x1)}`` for ``first <= level < len(shapes)``.
    """
    windows: dict[int, Box] = {}
    y0, y1, x0, x1 = box
    for level in range(len(shapes) - 1, first - 1, -1):
        h, w = shapes[level]
        reach = 2 * iterations[level] + 2
        y0, x0 = max(0, y0 - reach) & ~1, max(0, x0 - reach) & ~1
        y1, x1 = min(h, y1 + reach), min(w, x1 + reach)
        windows[level] = (y0, y1, x0, x1)
        if level > 0:
            rows = _nearest_index(h, shapes[level - 1][0])
            cols = _nearest_index(w, shapes[level - 1][1])
            y0, y1 = int(rows[y0]), int(rows[y1 - 1]) + 1
            x0, x1 = int(cols[x0]), int(cols[x1 - 1]) + 1
    return windows


def _window_phases(values: np.ndarray, origin: tuple[int, int], rows: np.ndarray,
                   cols: np.ndarray) -> list[list[np.ndarray]]:
    """Start phases of a window: ``values`` (``(6, h', w')`` whose pixel ``(0, 0)`` is
    level pixel ``origin``) at the source ``rows``/``cols``, edge-padded by one pixel and
    split into the four phases ``padded[:, a::2, b::2]``."""
    return _phases_at(values, rows - origin[0], cols - origin[1])


def estimate_foreground_tiled(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    regularization: float = 1e-5,
    gradient_weight: float = 1.0,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
    tile: int = 1024,
    coarse_pixels: int = COARSE_PIXELS,
) -> np.ndarray:
    """Colour-decontaminated foreground ``F``, tile by tile at the fine levels.

    Args:
        image: ``(H, W, 3)`` RGB, float32 in [0, 1] (uint8/uint16 are scaled).
        alpha: ``(H, W)`` matte, float32 in [0, 1].
        regularization, gradient_weight, small_iterations, big_iterations, small_size:
            As in :func:`trimatte.foreground.estimation.estimate_foreground_background`.
        tile: Side of the output tiles (memory grows with ``tile**2``).
        coarse_pixels: Levels up to this size are solved over the whole image; an
            image not larger than this goes straight to the untiled estimation.

    Returns:
        float32 ``(H, W, 3)`` in [0, 1]: equal to
        :func:`~trimatte.foreground.estimation.estimate_foreground` where
        ``0 < alpha < 1``, the image where ``alpha == 1``; where ``alpha == 0`` it holds
        values carried up from the coarse levels, as the untiled version does away
        from the matte's edge.

    Raises:
        InputError: Malformed inputs or parameters.
    """
    params = {"regularization": regularization, "gradient_weight": gradient_weight,
              "small_iterations": small_iterations, "big_iterations": big_iterations,
              "small_size": small_size}
    if image.dtype != np.float32:
        image = as_image(image, "image")
    if alpha.dtype != np.float32 or alpha.ndim != 2:
        alpha = as_alpha(alpha, "alpha")
    check_same_size(image.shape, alpha.shape, "alpha")
    if not isinstance(tile, int) or tile < 16:
        raise InputError(f"must be an integer >= 16, got {tile!r}", "tile")
    height, width = alpha.shape
    if height * width <= coarse_pixels:
        return estimate_foreground(image, alpha, **params)
    _check_params(regularization, gradient_weight, small_iterations, big_iterations, small_size)

    shapes, iterations, regions = _level_plan(alpha, small_iterations, big_iterations,
                                              small_size)
    coarse = max(level for level, (h, w) in enumerate(shapes) if h * w <= coarse_pixels)
    reg, grad = np.float32(regularization), np.float32(gradient_weight)

    # Coarse levels over the whole image (as estimate_foreground_background does).
    mean = np.array(cv2.mean(image)[:3], np.float32)
    values = np.concatenate([mean, mean]).reshape(6, 1, 1)
    for level in range(coarse + 1):
        h, w = shapes[level]
        rows, cols = _nearest_index(h, height), _nearest_index(w, width)
        level_image, level_alpha = _take(image, rows, cols), _take(alpha, rows, cols)
        phases = _upsample_phases(values, h, w)
        _solve_level(level_image, level_alpha, phases, reg, grad, iterations[level],
                     regions[level])
        values = _assemble(phases, level_image, level_alpha)
    del phases, level_image, level_alpha

    # Composed nearest-neighbour maps from the finest level down to the coarse one.
    chain_rows, chain_cols = np.arange(height), np.arange(width)
    for level in range(len(shapes) - 1, coarse, -1):
        chain_rows = _nearest_index(shapes[level][0], shapes[level - 1][0])[chain_rows]
        chain_cols = _nearest_index(shapes[level][1], shapes[level - 1][1])[chain_cols]

    foreground = np.empty((height, width, 3), np.float32)
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            box = (y0, min(height, y0 + tile), x0, min(width, x0 + tile))
            foreground[box[0]:box[1], box[2]:box[3]] = _tile_foreground(
                image, alpha, values, box, shapes, iterations, regions, coarse, reg, grad,
                (chain_rows, chain_cols))
    return foreground


def _tile_foreground(image, alpha, coarse_values, box, shapes, iterations, regions, coarse,
                     reg, grad, chain) -> np.ndarray:
    """``F`` on ``box`` of the finest level: float32 ``(y1 - y0, x1 - x0, 3)``."""
    y0, y1, x0, x1 = box
    tile_alpha = alpha[y0:y1, x0:x1]
    tile_image = image[y0:y1, x0:x1]
    if not ((tile_alpha > 0) & (tile_alpha < 1)).any():
        rows, cols = chain[0][y0:y1], chain[1][x0:x1]
        out = np.ascontiguousarray(_take(coarse_values.transpose(1, 2, 0)[:, :, :3], rows, cols))
        np.copyto(out, tile_image, where=(tile_alpha >= 1.0)[:, :, None])
        return out
    height, width = alpha.shape
    windows = level_windows(box, shapes, iterations, coarse + 1)
    values, origin = coarse_values, (0, 0)
    for level in range(coarse + 1, len(shapes)):
        h, w = shapes[level]
        wy0, wy1, wx0, wx1 = windows[level]
        rows = _nearest_index(h, shapes[level - 1][0])[wy0:wy1]
        cols = _nearest_index(w, shapes[level - 1][1])[wx0:wx1]
        phases = _window_phases(values, origin, rows, cols)
        if (h, w) == (height, width):
            level_image, level_alpha = image[wy0:wy1, wx0:wx1], alpha[wy0:wy1, wx0:wx1]
        else:
            image_rows = _nearest_index(h, height)[wy0:wy1]
            image_cols = _nearest_index(w, width)[wx0:wx1]
            level_image = _take(image, image_rows, image_cols)
            level_alpha = _take(alpha, image_rows, image_cols)
        active = regions[level]
        if active is not None:
            active = active[wy0:wy1, wx0:wx1]
        _solve_level(np.ascontiguousarray(level_image), np.ascontiguousarray(level_alpha),
                     phases, reg, grad, iterations[level], active)
        values, origin = _assemble(phases, level_image, level_alpha), (wy0, wx0)
    wy0, _, wx0, _ = windows[len(shapes) - 1]
    crop = values[:3, y0 - wy0:y1 - wy0, x0 - wx0:x1 - wx0]
    return cv2.merge(list(crop)).reshape(y1 - y0, x1 - x0, 3)
