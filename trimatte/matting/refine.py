"""Base-resolution matting plus selective full-resolution refinement of uncertain patches.

The idea of BackgroundMattingV2 (Lin et al. 2021) for any alpha estimator:

1. downscale the image and the trimap to a *base* size (``base_pixels``) and run the
   alpha function there;
2. upsample the base matte to full resolution (bilinear, tile by tile);
3. score every ``patch x patch`` tile of the unknown region with an *error map*:
   ``4 alpha (1 - alpha)`` (how undecided the base matte is, spread over one base
   pixel) times the image detail the downscaling lost (``|I - up(down(I))|``, so a
   soft edge over a smooth background is not refined but hair over texture is);
4. re-solve the tiles whose score is at least ``error_threshold`` at full resolution,
   each in a window of ``patch + 2 margin`` pixels whose outside is held at the
   current matte: for closed-form matting exactly (a Dirichlet boundary in the linear
   system, see :func:`closed_form_patch`), for any other alpha function by running it
   on the window and feathering its result into the matte over the margin
   (:func:`function_patch`). Patches are solved in raster order, each one using the
   already refined neighbours as its boundary (one multiplicative Schwarz sweep).

Known trimap pixels are exact (0 or 1) in the result. Besides the image, trimap and
the output matte (the caller's full-size arrays), memory is bounded by the base solve
and by one window: every full-resolution step works tile by tile.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from trimatte.errors import InputError, TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.matting.multilevel import (
    Box,
    downscale_inputs,
    resample_box,
    tile_boxes,
    upsample_alpha,
)

__all__ = [
    "RefineReport",
    "base_shape",
    "closed_form_patch",
    "downscale_inputs",
    "error_map",
    "feather",
    "function_patch",
    "patch_scores",
    "refine_alpha",
    "resample_box",
    "select_patches",
    "tile_boxes",
    "upsample_alpha",
]

#: ``(image, trimap) -> alpha``: an alpha estimator at any resolution.
AlphaFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: ``(image, trimap, alpha, box) -> pixels``: re-solve ``box`` of ``alpha`` in place and
#: return the number of pixels of the window solved (0 when nothing needed solving).
PatchSolver = Callable[[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]], int]


#: Image detail (mean absolute difference per channel) at which a patch counts fully.
_DETAIL_SCALE = 0.05


@dataclass(frozen=True)
class RefineReport:
    """What a base-plus-refinement run did (returned with the matte).

    Attributes:
        base_shape: ``(h, w)`` of the base solve (the full shape when none was needed).
        candidate_patches: Patches containing unknown pixels.
        refined_patches: Patches re-solved at full resolution.
        skipped_patches: Patches over ``error_threshold`` left unrefined because of
            ``max_patches``.
        largest_window: Pixels of the largest window solved at full resolution.
        base_seconds: Wall time of the base solve (and upsampling).
        refine_seconds: Wall time of scoring and re-solving patches.
        confidence: 1 minus the share of the total error score left in unrefined
            patches (1.0: every uncertain patch was refined).
    """

    base_shape: tuple[int, int]
    candidate_patches: int
    refined_patches: int
    skipped_patches: int
    largest_window: int
    base_seconds: float
    refine_seconds: float
    confidence: float

    def as_dict(self) -> dict:
        """Plain-value form (for ``MatteState.hints`` and logs)."""
        return asdict(self)


def base_shape(shape: tuple[int, int], base_pixels: int) -> tuple[int, int]:
    """``(h, w)`` with the aspect ratio of ``shape`` and about ``base_pixels`` pixels.

    Returns ``shape`` itself when it is not larger than ``base_pixels``.
    """
    height, width = shape
    if height * width <= base_pixels:
        return height, width
    scale = math.sqrt(base_pixels / (height * width))
    return max(8, round(height * scale)), max(8, round(width * scale))


def error_map(image: np.ndarray, upsampled_image: np.ndarray, alpha: np.ndarray,
              trimap: np.ndarray, scale: float) -> np.ndarray:
    """Where an upsampled base matte is probably wrong, for one tile.

    Args:
        image: float32 ``(h, w, 3)`` full-resolution tile.
        upsampled_image: float32 ``(h, w, 3)``: the base image upsampled on the tile.
        alpha: float32 ``(h, w)`` upsampled base matte on the tile.
        trimap: uint8 ``(h, w)``.
        scale: Full-resolution pixels per base pixel (>= 1).

    Returns:
        float32 ``(h, w)`` in [0, 1], zero on known pixels.
    """
    size = max(3, 2 * math.ceil(scale) + 1)
    kernel = np.ones((size, size), np.uint8)
    undecided = cv2.dilate(4.0 * alpha * (1.0 - alpha), kernel)
    detail = np.abs(image - upsampled_image).mean(axis=2)
    detail = cv2.blur(detail, (size, size))
    error = undecided * np.clip(detail / _DETAIL_SCALE, 0.0, 1.0)
    error[trimap != UNKNOWN] = 0.0
    return error.astype(np.float32, copy=False)


def patch_scores(image: np.ndarray, small_image: np.ndarray, alpha: np.ndarray,
                 trimap: np.ndarray, patch: int) -> list[tuple[Box, float]]:
    """Mean error (:func:`error_map`) of every ``patch``-grid tile holding unknown pixels."""
    scale = trimap.shape[0] / small_image.shape[0]
    scores = []
    for box in tile_boxes(trimap.shape, patch):
        y0, x0, y1, x1 = box
        tile_trimap = trimap[y0:y1, x0:x1]
        if not (tile_trimap == UNKNOWN).any():
            continue
        error = error_map(image[y0:y1, x0:x1], resample_box(small_image, trimap.shape, box),
                          alpha[y0:y1, x0:x1], tile_trimap, scale)
        scores.append((box, float(error.mean())))
    return scores


def window(box: Box, margin: int, shape: tuple[int, int]) -> Box:
    """``box`` grown by ``margin`` on every side, clipped to ``shape``."""
    y0, x0, y1, x1 = box
    return (max(0, y0 - margin), max(0, x0 - margin),
            min(shape[0], y1 + margin), min(shape[1], x1 + margin))


def interior(frame: Box, shape: tuple[int, int], width: int) -> np.ndarray:
    """bool mask of ``frame`` less a ring of ``width`` along its edges inside the image."""
    y0, x0, y1, x1 = frame
    mask = np.ones((y1 - y0, x1 - x0), dtype=bool)
    if y0 > 0:
        mask[:width] = False
    if x0 > 0:
        mask[:, :width] = False
    if y1 < shape[0]:
        mask[mask.shape[0] - width:] = False
    if x1 < shape[1]:
        mask[:, mask.shape[1] - width:] = False
    return mask


def closed_form_patch(margin: int = 32, *, epsilon: float = 1e-7, window_radius: int = 1,
                      lambda_: float = 100.0, rtol: float = 1e-6) -> PatchSolver:
    """A patch solver re-solving closed-form matting exactly on a window.

    The window is the patch grown by ``margin``; its pixels within ``2 r`` of an edge
    inside the image are held at the current matte (so every local window touching a
    free pixel lies in the crop), which makes the window's solution the exact
    minimiser of the full energy given the matte outside it.
    """
    from trimatte.matting.closed_form import constrained_system, free_pixels, solve_spd

    def solve(image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray, box: Box) -> int:
        frame = window(box, margin, trimap.shape)
        y0, x0, y1, x1 = frame
        crop_trimap = trimap[y0:y1, x0:x1]
        crop_alpha = alpha[y0:y1, x0:x1]
        free = free_pixels(crop_trimap == UNKNOWN, window_radius, lambda_)
        free &= interior(frame, trimap.shape, 2 * window_radius)
        if not free.any() or free.all():
            return 0
        crop_image = np.ascontiguousarray(image[y0:y1, x0:x1])
        matrix, rhs = constrained_system(crop_image, crop_trimap, free, epsilon, window_radius,
                                         lambda_, fixed=crop_alpha)
        flat = np.flatnonzero(free)
        guess = crop_alpha.reshape(-1)[flat].astype(np.float64)
        rhs -= matrix @ guess
        correction, _ = solve_spd(matrix, rhs, rtol=rtol)
        # ``crop_alpha`` is a view into ``alpha``; boolean indexing follows the order
        # of ``np.flatnonzero(free)``.
        crop_alpha[free] = np.clip(guess + correction, 0.0, 1.0)
        crop_alpha[crop_trimap == FOREGROUND] = 1.0
        crop_alpha[crop_trimap == BACKGROUND] = 0.0
        return crop_trimap.size

    return solve


def function_patch(alpha_function: AlphaFunction, margin: int = 32) -> PatchSolver:
    """A patch solver running ``alpha_function`` on the patch grown by ``margin``.

    Its result replaces the matte on the patch and is feathered linearly into the
    current matte across the margin (window edges on the image border are not
    feathered). A window whose trimap the function rejects (:class:`TrimapError`,
    e.g. no foreground in it) keeps the current matte.
    """

    def solve(image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray, box: Box) -> int:
        frame = window(box, margin, trimap.shape)
        y0, x0, y1, x1 = frame
        crop_trimap = trimap[y0:y1, x0:x1]
        unknown = crop_trimap == UNKNOWN
        if not unknown.any():
            return 0
        try:
            new = alpha_function(np.ascontiguousarray(image[y0:y1, x0:x1]), crop_trimap)
        except TrimapError:
            return 0
        weight = feather(frame, box, trimap.shape)
        crop_alpha = alpha[y0:y1, x0:x1]
        blended = weight * np.clip(new, 0.0, 1.0) + (1.0 - weight) * crop_alpha
        crop_alpha[unknown] = blended[unknown]
        return crop_trimap.size

    return solve


def feather(frame: Box, box: Box, shape: tuple[int, int]) -> np.ndarray:
    """float32 weight over ``frame``: 1 on ``box``, falling linearly to 0 at the edges of
    ``frame`` that lie inside the image (1 up to edges on the image border)."""
    fy0, fx0, fy1, fx1 = frame
    by0, bx0, by1, bx1 = box

    def ramp(start: int, stop: int, inner0: int, inner1: int, lo_open: bool,
             hi_open: bool) -> np.ndarray:
        position = np.arange(start, stop, dtype=np.float32) + 0.5
        up = (np.clip((position - start) / max(inner0 - start, 1), 0, 1) if lo_open
              else np.ones_like(position))
        down = (np.clip((stop - position) / max(stop - inner1, 1), 0, 1) if hi_open
                else np.ones_like(position))
        return np.minimum(up, down)

    rows = ramp(fy0, fy1, by0, by1, fy0 > 0, fy1 < shape[0])
    cols = ramp(fx0, fx1, bx0, bx1, fx0 > 0, fx1 < shape[1])
    return np.minimum(rows[:, None], cols[None, :])


def select_patches(scores: list[tuple[Box, float]], threshold: float,
                   max_patches: int | None) -> tuple[list[Box], int]:
    """Patches scoring at least ``threshold``, the highest ``max_patches`` of them,
    returned in raster order; plus how many qualifying patches were left out."""
    chosen = sorted((s for s in scores if s[1] >= threshold), key=lambda s: -s[1])
    skipped = 0
    if max_patches is not None and len(chosen) > max_patches:
        skipped = len(chosen) - max_patches
        chosen = chosen[:max_patches]
    return sorted(box for box, _ in chosen), skipped


def refine_alpha(image: np.ndarray, trimap: np.ndarray, base_function: AlphaFunction,
                 patch_solver: PatchSolver | None, *, base_pixels: int = 2_000_000,
                 patch: int = 256, error_threshold: float = 0.02,
                 max_patches: int | None = None, progress: bool = False,
                 ) -> tuple[np.ndarray, RefineReport]:
    """Alpha by a base-resolution solve plus full-resolution re-solves of uncertain patches.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` 0/128/255.
        base_function: Alpha estimator run on the downscaled inputs (and on the full
            inputs when they are not larger than ``base_pixels``).
        patch_solver: Re-solves one patch in place (:func:`closed_form_patch`,
            :func:`function_patch`); ``None`` only upsamples.
        base_pixels: Pixels of the base solve.
        patch: Side of the refinement patches.
        error_threshold: Mean error score (:func:`error_map`) from which a patch is
            re-solved; 0 re-solves every patch with unknown pixels.
        max_patches: At most this many patches (the highest scoring) are re-solved.
        progress: Show a tqdm bar over the patches.

    Returns:
        ``(alpha, report)``: float32 ``(H, W)`` in [0, 1], exactly 0/1 on known pixels.
    """
    if image.shape[:2] != trimap.shape:
        raise InputError(f"image {image.shape[:2]} and trimap {trimap.shape} differ in size",
                         "trimap")
    if patch < 16:
        raise InputError(f"must be at least 16 pixels, got {patch}", "patch")
    started = time.perf_counter()
    shape = base_shape(trimap.shape, base_pixels)
    if shape == trimap.shape:
        alpha = np.asarray(base_function(image, trimap), dtype=np.float32)
        seconds = time.perf_counter() - started
        return alpha, RefineReport(shape, 0, 0, 0, 0, seconds, 0.0, 1.0)
    small_image, small_trimap = downscale_inputs(image, trimap, shape)
    try:
        small_alpha = base_function(small_image, small_trimap)
    except TrimapError:
        # The base trimap lost all foreground or background (a thin subject):
        # start from 0.5 and let the patches decide.
        small_alpha = np.where(small_trimap == UNKNOWN, 0.5, small_trimap == FOREGROUND)
    alpha = upsample_alpha(np.asarray(small_alpha, np.float32), trimap)
    base_seconds = time.perf_counter() - started

    started = time.perf_counter()
    scores = patch_scores(image, small_image, alpha, trimap, patch)
    chosen, skipped = select_patches(scores, error_threshold, max_patches)
    if patch_solver is None:
        chosen, skipped = [], len(chosen) + skipped
    iterator = chosen
    if progress:
        from tqdm import tqdm

        iterator = tqdm(chosen, desc="refining patches", unit="patch", leave=False)
    largest = max((patch_solver(image, trimap, alpha, box) for box in iterator), default=0)
    total = sum(score for _, score in scores)
    done = set(chosen)
    left = sum(score for box, score in scores if box not in done and score >= error_threshold)
    confidence = 1.0 if total <= 0 else 1.0 - left / total
    report = RefineReport(shape, len(scores), len(chosen), skipped, largest, base_seconds,
                          time.perf_counter() - started, confidence)
    return alpha, report
