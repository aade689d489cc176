"""Foreground (and background) colour estimation from an image and its alpha matte.

Given an image ``I`` and a matte ``alpha``, find a foreground ``F`` and background
``B`` with ``I ≈ alpha F + (1 - alpha) B`` that vary smoothly where the matte is
smooth. The pixel colours at fractional alpha are mixtures; ``F`` is the
"colour-decontaminated" foreground to composite over a new background.

Method: the multi-level estimation of Germer, Uelwer, Conrad and Harmeling, *Fast
Multi-Level Foreground Estimation* (ICPR 2020). The cost

    sum_i (alpha_i F_i + (1 - alpha_i) B_i - I_i)^2
    + sum_{i ~ j} (eps + w |alpha_i - alpha_j|) (|F_i - F_j|^2 + |B_i - B_j|^2)

(``eps`` = ``regularization``, ``w`` = ``gradient_weight``, ``i ~ j`` 4-neighbours, a
pixel on the image border counting itself as its missing neighbour) is minimised
coarse to fine: the image is resized (nearest neighbour) to sizes
``round(W**(l/L)) x round(H**(l/L))`` for ``l = 0..L``, ``L = ceil(log2(max(W, H)))``,
the previous level's ``F`` and ``B`` are upsampled as the start, and a few block
Gauss-Seidel sweeps solve the 2x2 system of each pixel for its (F, B) with the
neighbours held fixed. Sweeps visit the pixels in red-black (checkerboard) order, so
each half-sweep updates all pixels of one colour at once from neighbours of the other
colour. Where ``alpha == 1`` the foreground is the image itself (and the background
where ``alpha == 0``), which is enforced exactly after each level.

Implementation (pure vectorised NumPy, float32):

* Each level is stored as four *phase* arrays, channels first: the even/odd rows and
  columns of the edge-padded ``(6, h + 2, w + 2)`` stack of ``F`` and ``B``. A pixel's
  four neighbours lie in the two phases of the other colour at offsets of 0 or 1, so a
  half-sweep touches exactly the pixels it updates, with contiguous memory.
* The work is cut into strips of rows and, at the fine levels,
  into runs of columns that contain *active* pixels only. The output needs ``F`` where
  ``alpha > 0`` and ``B`` where ``alpha < 1``; elsewhere the closed-form answer
  (``F = I`` or ``B = I``) is used. After ``k`` red-black sweeps a pixel's value depends
  only on start values within ``2 k`` pixels (4-neighbour steps), so the pixels that
  matter are the unknown region ``0 < alpha < 1`` grown by ``2 k``, plus, one level
  coarser, every pixel whose value is upsampled into that set, grown again, and so on.
  Only those pixels (less the outermost ring, whose start values suffice) are iterated
  (the rest keep the value upsampled from the coarser level), which gives
  on ``0 < alpha < 1`` the same numbers as sweeping the whole image at every level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import as_alpha, as_image, check_same_size

__all__ = ["estimate_foreground", "estimate_foreground_background"]

#: Image rows per block of work (even, so blocks start on the same checkerboard colour).
#: Blocks are large because each costs ~17 NumPy calls per half-sweep (measured on AM-2k:
#: 32 rows were 20% slower, whole-image blocks 70% slower at full resolution).
_STRIP_ROWS = 96
#: Column gaps shorter than this between active runs of a strip are swept anyway
#: (fewer, larger blocks; the extra pixels are harmless additional iterations).
_MERGE_GAP = 128
#: A level whose active pixels exceed this fraction is swept in full.
_RESTRICT_BELOW = 0.55
#: Levels with fewer pixels than this are swept in full (the bookkeeping costs more).
_RESTRICT_MIN_PIXELS = 64 * 64

_RED = ((0, 0), (1, 1))
_BLACK = ((0, 1), (1, 0))


def _level_shapes(height: int, width: int) -> list[tuple[int, int]]:
    """``(h, w)`` of each level, coarse to fine; the last is ``(height, width)``."""
    levels = max(1, math.ceil(math.log2(max(height, width))))
    return [
        (max(1, round(height ** (level / levels))), max(1, round(width ** (level / levels))))
        for level in range(levels + 1)
    ]


def _nearest_index(size_to: int, size_from: int) -> np.ndarray:
    """Source index of each destination index for a nearest-neighbour resize."""
    return (np.arange(size_to, dtype=np.intp) * size_from) // size_to


def _any_in_groups(mask: np.ndarray, index: np.ndarray, size: int, axis: int) -> np.ndarray:
    """OR of the entries of ``mask`` along ``axis`` grouped by the nondecreasing ``index``
    (entry ``k`` belongs to group ``index[k]``, ``size`` groups, none empty)."""
    starts = np.searchsorted(index, np.arange(size))
    stops = np.append(starts[1:], index.size)
    result = np.take(mask, starts, axis=axis)
    for offset in range(1, int((stops - starts).max())):
        result |= np.take(mask, np.minimum(starts + offset, stops - 1), axis=axis)
    return result


def _project_to_coarse(active: np.ndarray, coarse_h: int, coarse_w: int) -> np.ndarray:
    """Coarse pixels that a nearest-neighbour upsampling copies into some ``active`` pixel."""
    fine_h, fine_w = active.shape
    rows = _any_in_groups(active, _nearest_index(fine_h, coarse_h), coarse_h, axis=0)
    return _any_in_groups(rows, _nearest_index(fine_w, coarse_w), coarse_w, axis=1)


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def _grow(mask: np.ndarray, distance: int) -> np.ndarray:
    """Pixels within 4-neighbour (city-block) ``distance`` of a True pixel of ``mask``."""
    if distance <= 0:
        return mask.copy()
    return cv2.dilate(mask.view(np.uint8), _CROSS, iterations=distance).view(bool)


def _active_regions(
    alpha: np.ndarray, shapes: list[tuple[int, int]], iterations: list[int]
) -> list[np.ndarray | None]:
    """Per level, the pixels to iterate (``None``: all of them), fine to coarse propagated.

    The finest level needs exact values on ``0 < alpha < 1``. A half-sweep moves
    information by one pixel (4-neighbours), so after ``k`` sweeps (``2 k`` half-sweeps)
    these values depend on the *updated* values of pixels within ``2 k - 1`` steps, which
    must be iterated, and on the *start* values within ``2 k`` steps, which are the coarser
    level's values at their nearest-neighbour source pixels: those are needed there.
    """
    regions: list[np.ndarray | None] = [None] * len(shapes)
    needed = (alpha > 0.0) & (alpha < 1.0)
    for level in range(len(shapes) - 1, -1, -1):
        h, w = shapes[level]
        if h * w < _RESTRICT_MIN_PIXELS:
            break
        active = _grow(needed, 2 * iterations[level] - 1)
        if np.count_nonzero(active) > _RESTRICT_BELOW * active.size:
            break
        regions[level] = active
        if level > 0:
            cone = _grow(active, 1) if iterations[level] > 0 else needed
            needed = _project_to_coarse(cone, *shapes[level - 1])
    return regions


@dataclass
class _Block:
    """One rectangle of one phase, with everything its update needs precomputed."""

    centre: np.ndarray  # (6, n, m) view into the phase being updated
    neighbours: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # up, down, left, right
    weights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # (n, m) each
    data: np.ndarray  # (6, n, m): alpha I and (1 - alpha) I
    m00: np.ndarray  # (n, m) entries of the inverse 2x2 system
    m01: np.ndarray
    m11: np.ndarray


def _column_runs(columns: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` runs of True in a 1-D mask, merging gaps below ``_MERGE_GAP``."""
    padded = np.concatenate([[False], columns, [False]]).view(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs: list[tuple[int, int]] = []
    for start, stop in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
        if runs and start - runs[-1][1] < _MERGE_GAP:
            runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((start, stop))
    return runs


def _rectangles(h: int, w: int, active: np.ndarray | None) -> list[tuple[int, int, int, int]]:
    """Image rectangles ``(y0, y1, x0, x1)`` covering the pixels to iterate."""
    rects = []
    for y0 in range(0, h, _STRIP_ROWS):
        y1 = min(h, y0 + _STRIP_ROWS)
        if active is None:
            rects.append((y0, y1, 0, w))
            continue
        rects.extend((y0, y1, x0, x1) for x0, x1 in _column_runs(active[y0:y1].any(axis=0)))
    return rects


def _neighbours(
    phases: list[list[np.ndarray]], a: int, b: int, rows: slice, cols: slice
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views of the up, down, left and right neighbours of ``phases[a][b][..., rows, cols]``.

    Up/down neighbours lie in phase ``(1 - a, b)``, left/right ones in ``(a, 1 - b)``, at
    the same index or one before/after it.
    """
    du, dd = (0, 1) if a else (-1, 0)
    dl, dr = (0, 1) if b else (-1, 0)
    other_row, other_col = phases[1 - a][b], phases[a][1 - b]
    return (
        other_row[..., rows.start + du:rows.stop + du, cols],
        other_row[..., rows.start + dd:rows.stop + dd, cols],
        other_col[..., rows, cols.start + dl:cols.stop + dl],
        other_col[..., rows, cols.start + dr:cols.stop + dr],
    )


def _make_blocks(
    phases: list[list[np.ndarray]],
    image: np.ndarray,
    alpha_phases: list[list[np.ndarray]],
    rects: list[tuple[int, int, int, int]],
    regularization: np.float32,
    gradient_weight: np.float32,
) -> dict[tuple[int, int], list[_Block]]:
    """Blocks of each phase ``(a, b)`` for the image rectangles ``rects``.

    Phase ``(a, b)`` holds padded pixels ``(2 i + a, 2 j + b)``, i.e. image pixel
    ``(2 i + a - 1, 2 j + b - 1)``; ``alpha_phases`` are the same phases of the
    edge-padded matte.
    """
    blocks: dict[tuple[int, int], list[_Block]] = {phase: [] for phase in _RED + _BLACK}
    for y0, y1, x0, x1 in rects:
        for a, b in _RED + _BLACK:
            i0, i1 = (y0 + 2 - a) // 2, (y1 + 2 - a) // 2
            j0, j1 = (x0 + 2 - b) // 2, (x1 + 2 - b) // 2
            if i1 <= i0 or j1 <= j0:
                continue
            rows, cols = slice(i0, i1), slice(j0, j1)
            centre_alpha = alpha_phases[a][b][rows, cols]
            weights = []
            for other in _neighbours(alpha_phases, a, b, rows, cols):
                weight = np.subtract(centre_alpha, other)
                np.abs(weight, out=weight)
                weight *= gradient_weight
                weight += regularization
                weights.append(weight)
            total = weights[0] + weights[1]
            total += weights[2]
            total += weights[3]
            one_minus = 1.0 - centre_alpha
            a00 = centre_alpha * centre_alpha
            a00 += total
            a11 = one_minus * one_minus
            a11 += total
            a01 = centre_alpha * one_minus
            inv_det = a00 * a11
            inv_det -= a01 * a01
            np.divide(1.0, inv_det, out=inv_det)
            colours = image[2 * i0 + a - 1:2 * i1 + a - 2:2, 2 * j0 + b - 1:2 * j1 + b - 2:2]
            colours = colours.transpose(2, 0, 1)
            data = np.empty((6, i1 - i0, j1 - j0), np.float32)
            np.multiply(centre_alpha, colours, out=data[:3])
            np.multiply(one_minus, colours, out=data[3:])
            a11 *= inv_det
            a00 *= inv_det
            a01 *= inv_det
            blocks[(a, b)].append(_Block(
                centre=phases[a][b][:, rows, cols],
                neighbours=_neighbours(phases, a, b, rows, cols),
                weights=tuple(weights),
                data=data,
                m00=a11,
                m01=np.negative(a01, out=a01),
                m11=a00,
            ))
    return blocks


def _update(block: _Block, scratch: np.ndarray) -> None:
    """Solve every pixel of ``block`` for its (F, B) given its neighbours, in place."""
    centre = block.centre
    n, m = centre.shape[1:]
    size = 6 * n * m
    rhs = scratch[:size].reshape(6, n, m)
    term = scratch[size:2 * size].reshape(6, n, m)
    half = term[:3]
    up, down, left, right = block.neighbours
    w_up, w_down, w_left, w_right = block.weights
    np.multiply(w_up, up, out=rhs)
    rhs += block.data
    np.multiply(w_down, down, out=term)
    rhs += term
    np.multiply(w_left, left, out=term)
    rhs += term
    np.multiply(w_right, right, out=term)
    rhs += term
    rhs_f, rhs_b = rhs[:3], rhs[3:]
    new_f, new_b = centre[:3], centre[3:]
    np.multiply(block.m00, rhs_f, out=new_f)
    np.multiply(block.m01, rhs_b, out=half)
    new_f += half
    np.multiply(block.m01, rhs_f, out=new_b)
    np.multiply(block.m11, rhs_b, out=half)
    new_b += half
    centre.clip(0.0, 1.0, out=centre)


def _refresh_border(phases: list[list[np.ndarray]], h: int, w: int) -> None:
    """Copy the outermost image rows/columns into the padding frame of the phases."""
    bottom, bottom_src = ((h + 1) % 2, (h + 1) // 2), (h % 2, h // 2)
    for b in (0, 1):
        phases[0][b][:, 0] = phases[1][b][:, 0]
        phases[bottom[0]][b][:, bottom[1]] = phases[bottom_src[0]][b][:, bottom_src[1]]
    right, right_src = ((w + 1) % 2, (w + 1) // 2), (w % 2, w // 2)
    for a in (0, 1):
        phases[a][0][:, :, 0] = phases[a][1][:, :, 0]
        phases[a][right[0]][:, :, right[1]] = phases[a][right_src[0]][:, :, right_src[1]]


def _solve_level(
    image: np.ndarray,
    alpha: np.ndarray,
    phases: list[list[np.ndarray]],
    regularization: np.float32,
    gradient_weight: np.float32,
    iterations: int,
    active: np.ndarray | None,
) -> None:
    """Red-black block Gauss-Seidel sweeps at one level, in place on ``phases``.

    Args:
        image: ``(h, w, 3)`` float32.
        alpha: ``(h, w)`` float32.
        phases: Start values, updated in place: the four phases ``padded[:, a::2, b::2]``
            (``phases[a][b]``) of the edge-padded ``(6, h + 2, w + 2)`` float32 stack of
            foreground (``[:3]``) and background (``[3:]``), channels first.
        active: ``(h, w)`` bool pixels to iterate, or ``None`` for all.
    """
    h, w = alpha.shape
    if iterations > 0:
        rects = _rectangles(h, w, active)
        alpha_padded = np.pad(alpha, 1, mode="edge")
        alpha_phases = [[np.ascontiguousarray(alpha_padded[a::2, b::2]) for b in (0, 1)]
                        for a in (0, 1)]
        blocks = _make_blocks(phases, image, alpha_phases, rects, regularization,
                              gradient_weight)
        largest = max((blk.data.size for group in blocks.values() for blk in group), default=0)
        scratch = np.empty(2 * largest, np.float32)
        for _ in range(iterations):
            for colour in (_RED, _BLACK):
                for phase in colour:
                    for block in blocks[phase]:
                        _update(block, scratch)
                _refresh_border(phases, h, w)


def _interior(phases: list[list[np.ndarray]], a: int, b: int, h: int, w: int) -> np.ndarray:
    """The image pixels held by phase ``(a, b)``: rows ``1 - a::2``, columns ``1 - b::2``."""
    return phases[a][b][:, 1 - a:1 - a + (h + a) // 2, 1 - b:1 - b + (w + b) // 2]


def _assemble(
    phases: list[list[np.ndarray]], image: np.ndarray, alpha: np.ndarray
) -> np.ndarray:
    """``(6, h, w)`` foreground and background from the phases, ``F = I`` where
    ``alpha == 1`` and ``B = I`` where ``alpha == 0``."""
    h, w = alpha.shape
    result = np.empty((6, h, w), np.float32)
    for a in (0, 1):
        for b in (0, 1):
            result[:, 1 - a::2, 1 - b::2] = _interior(phases, a, b, h, w)
    colours = image.transpose(2, 0, 1)
    np.copyto(result[:3], colours, where=(alpha >= 1.0)[None])
    np.copyto(result[3:], colours, where=(alpha <= 0.0)[None])
    return result


def _phases_at(values: np.ndarray, rows: np.ndarray, cols: np.ndarray
               ) -> list[list[np.ndarray]]:
    """``values`` (``(6, h', w')``) at source ``rows``/``cols``, edge-padded by one pixel
    and split into the four phases ``padded[:, a::2, b::2]`` (contiguous copies)."""
    rows = np.concatenate([rows[:1], rows, rows[-1:]])
    cols = np.concatenate([cols[:1], cols, cols[-1:]])
    return [
        [np.take(np.take(values, rows[a::2], axis=1), cols[b::2], axis=2) for b in (0, 1)]
        for a in (0, 1)
    ]


def _upsample_phases(values: np.ndarray, h: int, w: int) -> list[list[np.ndarray]]:
    """Nearest-neighbour resize of ``(6, h', w')`` to ``(h, w)``, as :func:`_phases_at`."""
    return _phases_at(values, _nearest_index(h, values.shape[1]),
                      _nearest_index(w, values.shape[2]))


def _check_params(regularization: float, gradient_weight: float, small_iterations: int,
                  big_iterations: int, small_size: int) -> None:
    """Raise :class:`InputError` naming the first invalid solver parameter."""
    if not (math.isfinite(regularization) and regularization > 0):
        raise InputError(f"must be a positive number, got {regularization!r}", "regularization")
    if not (math.isfinite(gradient_weight) and gradient_weight >= 0):
        raise InputError(f"must be >= 0, got {gradient_weight!r}", "gradient_weight")
    for name, value in (("small_iterations", small_iterations),
                        ("big_iterations", big_iterations), ("small_size", small_size)):
        if not isinstance(value, int) or value < 0:
            raise InputError(f"must be a non-negative integer, got {value!r}", name)


def _level_plan(alpha: np.ndarray, small_iterations: int, big_iterations: int,
                small_size: int) -> tuple[list[tuple[int, int]], list[int], list]:
    """The levels' shapes (coarse to fine), sweeps per level and active regions."""
    shapes = _level_shapes(*alpha.shape)
    iterations = [
        small_iterations if h <= small_size and w <= small_size else big_iterations
        for h, w in shapes
    ]
    return shapes, iterations, _active_regions(alpha, shapes, iterations)


def estimate_foreground_background(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    regularization: float = 1e-5,
    gradient_weight: float = 1.0,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate foreground and background colours by multi-level optimisation.

    Args:
        image: ``(H, W, 3)`` RGB image, float in [0, 1] or uint8/uint16.
        alpha: ``(H, W)`` matte, float in [0, 1] or uint8/uint16.
        regularization: Smoothness weight ``eps`` between all neighbours (> 0).
        gradient_weight: Extra smoothness where the matte changes (``w``, >= 0).
        small_iterations: Sweeps per level while both sides are ``<= small_size``.
        big_iterations: Sweeps per level for larger levels.
        small_size: Side length separating small and big levels.

    Returns:
        ``(F, B)``: float32 ``(H, W, 3)`` arrays in [0, 1]. ``F`` equals the image where
        ``alpha == 1`` and ``B`` equals it where ``alpha == 0``. ``F`` is optimised where
        ``alpha > 0`` and ``B`` where ``alpha < 1``; on the other side of the matte,
        away from the unknown region, they hold values carried up from coarser levels
        (nearest-neighbour upsampled, so blocky far from the edge of the matte).

    Raises:
        InputError: Malformed inputs, different sizes, or invalid parameters.
    """
    image = as_image(image, "image")
    alpha = as_alpha(alpha, "alpha")
    check_same_size(image.shape, alpha.shape, "alpha")
    _check_params(regularization, gradient_weight, small_iterations, big_iterations, small_size)

    height, width = alpha.shape
    shapes, iterations, regions = _level_plan(alpha, small_iterations, big_iterations,
                                              small_size)
    mean = np.array(cv2.mean(image)[:3], np.float32)  # float64 sums, 30x np.mean's speed
    values = np.concatenate([mean, mean]).reshape(6, 1, 1)
    for (h, w), count, active in zip(shapes, iterations, regions, strict=True):
        if (h, w) == (height, width):
            level_image, level_alpha = image, alpha
        else:
            rows, cols = _nearest_index(h, height), _nearest_index(w, width)
            level_image = np.take(np.take(image, rows, axis=0), cols, axis=1)
            level_alpha = np.take(np.take(alpha, rows, axis=0), cols, axis=1)
        phases = _upsample_phases(values, h, w)
        _solve_level(level_image, level_alpha, phases, np.float32(regularization),
                     np.float32(gradient_weight), count, active)
        values = _assemble(phases, level_image, level_alpha)
    # cv2.merge interleaves planes into (H, W, 3) several times faster than a transposed copy.
    foreground = cv2.merge(list(values[:3])).reshape(height, width, 3)
    background = cv2.merge(list(values[3:])).reshape(height, width, 3)
    return foreground, background


def estimate_foreground(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    regularization: float = 1e-5,
    gradient_weight: float = 1.0,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
) -> np.ndarray:
    """Colour-decontaminated foreground ``F`` with ``I ≈ alpha F + (1 - alpha) B``.

    See :func:`estimate_foreground_background` for the arguments.

    Returns:
        float32 ``(H, W, 3)`` foreground in [0, 1], equal to the image where ``alpha == 1``.
    """
    foreground, _ = estimate_foreground_background(
        image,
        alpha,
        regularization=regularization,
        gradient_weight=gradient_weight,
        small_iterations=small_iterations,
        big_iterations=big_iterations,
        small_size=small_size,
    )
    return foreground
