"""One frame's matte with the background plate reconstructed from the video.

Given a frame, the per-frame pipeline's trimap and alpha, and the plate seen from
that frame (:meth:`trimatte.video.cleanplate.PlateMemory.view`), the functions of
:mod:`trimatte.plate` that serve a captured plate are reused:

1. the noise of ``frame - plate`` is measured on the frame's background
   (:func:`~trimatte.plate.difference.estimate_noise`,
   :func:`~trimatte.plate.difference.expected_residual`);
2. the per-frame trimap is corrected with the noise-normalised difference
   (:func:`~trimatte.plate.difference.difference_score`) where the plate is known
   (:func:`plate_trimap_refine`): background within ``reach`` of the per-frame subject
   that differs from the plate (a strand the trimap missed) becomes unknown, unknown
   pixels that match it become background unless the subject's own colour is like the
   plate's, and unknown pixels well inside a region that differs from it become
   foreground; so the plate never adds a subject far from the per-frame one;
3. alpha is solved with the plate's per-pixel compositing estimates as a data term
   (:func:`~trimatte.plate.alpha.plate_alpha`); where the plate was never seen there
   is no data term, and the per-frame alpha is kept there (feathered over ~2 px).

Arrays: frames and plates float32 ``(H, W, 3)`` in [0, 1], alphas float32 ``(H, W)``,
trimaps uint8 ``(H, W)`` 0/128/255.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from trimatte.errors import InputError, TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.plate.alpha import CANDIDATE_SCALES, plate_alpha
from trimatte.plate.difference import (
    difference_score,
    estimate_noise,
    expected_residual,
    plate_gradient,
)
from trimatte.plate.propagate import blur, fill

__all__ = ["PlateMatte", "plate_matte", "plate_trimap_refine"]

#: Scale (noise units) that removes a pixel's data term: its plate is unknown.
_NO_DATA = 1e3


@dataclass(frozen=True)
class PlateMatte:
    """Result of :func:`plate_matte`.

    Attributes:
        alpha: float32 ``(H, W)`` in [0, 1].
        trimap: uint8 ``(H, W)``: the trimap the alpha was solved with.
        coverage: Fraction of that trimap's unknown pixels where the plate was known
            (0: the per-frame result was kept as it is).
    """

    alpha: np.ndarray
    trimap: np.ndarray
    coverage: float


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), disc).astype(bool)


def plate_trimap_refine(image: np.ndarray, trimap: np.ndarray, plate: np.ndarray,
                        known: np.ndarray, scale: np.ndarray, alpha: np.ndarray | None = None,
                        *, reach: int = 24,
                        bg_threshold: float = 2.0, fg_threshold: float = 3.0,
                        contrast: float = 5.0, core: int = 4) -> np.ndarray:
    """The per-frame trimap corrected by the plate where the plate is known.

    * Sure-background pixels within ``reach`` of the per-frame subject that differ
      from the plate by more than ``fg_threshold`` noise units (a strand the trimap
      missed) become unknown.
    * Unknown pixels that match the plate (at most ``bg_threshold`` noise units) become
      background, unless the subject's colour nearby is itself like the plate's (less
      than ``contrast`` noise units apart: there a match says nothing).
    * Unknown pixels at least ``core`` px inside a region that differs from the plate
      by more than ``fg_threshold`` become foreground (thin strands vanish under that
      erosion and stay unknown), and so do unknown pixels that differ from the plate
      and lie 2 px or more inside the per-frame alpha's opaque (>= 0.95) part.

    Args:
        image: float32 ``(H, W, 3)``.
        trimap: uint8 ``(H, W)``: the per-frame trimap.
        plate: float32 ``(H, W, 3)``: the background, matched to the frame's exposure.
        known: bool ``(H, W)``: pixels where the plate is known.
        scale: float32 ``(H, W, 3)``: residual expected on background
            (:func:`~trimatte.plate.difference.expected_residual`).
        alpha: float32 ``(H, W)``: the per-frame alpha (None: not used).
        reach: Distance (pixels) from the per-frame subject within which background
            may turn unknown.
        bg_threshold, fg_threshold: Difference thresholds, in noise units.
        contrast: Subject-to-plate contrast (noise units) needed to call a match
            background.
        core: Erosion radius (pixels) of the differing region that makes foreground
            (0: no new foreground).

    Returns:
        uint8 ``(H, W)`` 0/128/255.
    """
    difference = difference_score(image, plate, scale, smooth=0.0)
    near = _dilate(trimap != BACKGROUND, reach)
    out = trimap.copy()
    out[(trimap == BACKGROUND) & near & known & (difference > fg_threshold)] = UNKNOWN
    sure_fg = trimap == FOREGROUND
    if sure_fg.any():
        subject, _ = fill(image, sure_fg, CANDIDATE_SCALES)
        separation = np.sqrt(np.mean(((subject - plate) / scale) ** 2, axis=2))
        matches = (trimap == UNKNOWN) & known & (difference <= bg_threshold)
        out[matches & (separation >= contrast)] = BACKGROUND
    if core > 0:  # well inside a region that differs from the plate: the subject itself
        differs = (difference > fg_threshold) & known
        opened = cv2.morphologyEx(differs.astype(np.uint8), cv2.MORPH_OPEN,
                                  np.ones((3, 3), np.uint8))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * core + 1, 2 * core + 1))
        inside = cv2.erode(opened, disc, borderType=cv2.BORDER_REPLICATE).astype(bool)
        out[inside & (trimap == UNKNOWN)] = FOREGROUND
    if alpha is not None:
        opaque = cv2.erode((alpha >= 0.95).astype(np.uint8), np.ones((5, 5), np.uint8),
                           borderType=cv2.BORDER_REPLICATE).astype(bool)
        out[opaque & known & (difference > fg_threshold) & (trimap == UNKNOWN)] = FOREGROUND
    return out


def plate_matte(image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray, plate: np.ndarray,
                support: np.ndarray, *, reach: int = 24, min_support: float = 0.5,
                data_weight: float = 3.0, tolerance: float = 0.15) -> PlateMatte:
    """Improve one frame's matte with a background plate known at part of its pixels.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)``: the per-frame trimap.
        alpha: float32 ``(H, W)``: the per-frame alpha.
        plate: float32 ``(H, W, 3)``: the background, matched to the frame's exposure.
        support: float32 ``(H, W)``: samples behind each plate pixel (0: never seen).
        reach: See :func:`plate_trimap_refine`.
        min_support: Support at or above which a plate pixel is known.
        data_weight: Weight of the per-pixel estimates in the alpha solve.
        tolerance: Registration error allowed (pixels) in the difference.

    Returns:
        The :class:`PlateMatte`; the per-frame trimap and alpha, with coverage 0, when
        the plate is not known near the subject.
    """
    if image.shape[:2] != trimap.shape or plate.shape != image.shape:
        raise InputError(f"sizes differ: frame {image.shape}, trimap {trimap.shape}, "
                         f"plate {plate.shape}", "plate")
    unchanged = PlateMatte(alpha, trimap, 0.0)
    known = support >= min_support
    if not (known & _dilate(trimap != BACKGROUND, reach)).any() or not (
            known & (trimap == BACKGROUND)).any() or not (trimap == FOREGROUND).any():
        return unchanged
    gradient = plate_gradient(plate)
    noise = estimate_noise(image, plate, gradient, known & (trimap == BACKGROUND))
    scale = expected_residual(noise, gradient, tolerance)
    refined = plate_trimap_refine(image, trimap, plate, known, scale, alpha, reach=reach)
    unknown = refined == UNKNOWN
    if not unknown.any():
        return PlateMatte(refined.astype(np.float32) / 255.0, refined, 1.0)
    no_data = np.float32(_NO_DATA)
    try:
        solved, _ = plate_alpha(image, refined, plate,
                                np.where(known[..., None], scale, no_data).astype(np.float32),
                                data_weight=data_weight)
    except TrimapError:
        return unchanged
    # Where the plate is unknown, the per-frame alpha stays (feathered over ~2 px).
    use = cv2.erode(known.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    weight = np.clip(blur(use.astype(np.float32), 1.5), 0.0, 1.0)
    weight[~use] = 0.0
    changed = refined != trimap
    weight[changed] = 1.0  # pixels whose label the plate changed are the plate's
    blended = weight * solved + (1.0 - weight) * alpha
    coverage = float(np.count_nonzero(unknown & use)) / float(np.count_nonzero(unknown))
    return PlateMatte(np.clip(blended, 0.0, 1.0).astype(np.float32), refined, coverage)
