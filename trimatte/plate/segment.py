"""From a matched plate to a trimap: sure background, sure foreground, unknown.

1. Score every pixel by the noise-aware difference (:mod:`trimatte.plate.difference`).
2. Pixels that differ only by a shadow (``photo ≈ a plate``) are background; the
   background's *local gain* (shadows, vignetting) is measured on background away
   from the subject and spread under it (:mod:`trimatte.plate.propagate`), and the
   plate is multiplied by it, so that the shadow is part of the known background
   the alpha stage uses.
3. The rescored difference is thresholded (``> fg_threshold``: subject,
   ``<= bg_threshold``: background), cleaned with morphology (opening, small
   components removed), and an unknown band is drawn on both sides of the subject.
4. *Colour similarity*: near the subject, where the subject's own colour (spread
   from its confident pixels, or one of its main colours, by k-means) is within
   ``fg_threshold`` noise units of the plate,
   "no difference" does not mean background: those pixels are unknown and their
   confidence is low. Regions of the subject that look like the plate end up here.

The confidence map is 1 where the decision is safe and falls towards 0 where the
subject's colour approaches the plate's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from trimatte.errors import TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.plate.background import PlateMatch
from trimatte.plate.difference import difference_score, expected_residual, shadow_mask
from trimatte.plate.propagate import fill


@dataclass(frozen=True)
class PlateSegmentation:
    """Result of :func:`plate_trimap`.

    Attributes:
        trimap: uint8 ``(H, W)`` 0/128/255.
        mask: bool ``(H, W)``: the cleaned "differs from the plate" region (subject).
        background: float32 ``(H, W, 3)``: matched plate times the local gain (shadows).
        scale: float32 ``(H, W, 3)``: residual expected on background (noise units).
        difference: float32 ``(H, W)``: final noise-normalised difference.
        shadow: bool ``(H, W)``: pixels explained as the plate in shadow.
        confidence_map: float32 ``(H, W)`` in [0, 1].
        confidence: Mean of ``confidence_map`` over the unknown region where the plate
            has data (1.0 if none).
        uncertain_fraction: Fraction of the subject's surroundings (unknown band) whose
            colour is too close to the plate's to decide (confidence < 0.5), relative
            to the subject's area.
    """

    trimap: np.ndarray
    mask: np.ndarray
    background: np.ndarray
    scale: np.ndarray
    difference: np.ndarray
    shadow: np.ndarray
    confidence_map: np.ndarray
    confidence: float
    uncertain_fraction: float


def distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) of every pixel to the nearest True pixel of ``mask``."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)


def remove_small(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """``mask`` without its 8-connected components smaller than ``min_pixels``."""
    if min_pixels <= 1 or not mask.any():
        return mask
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False
    return keep[labels]


def enclosed(mask: np.ndarray) -> np.ndarray:
    """Pixels outside ``mask`` that cannot reach the image border without crossing it."""
    outside = (~mask).astype(np.uint8)
    count, labels = cv2.connectedComponents(outside, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inside = np.ones(count, bool)
    inside[border] = False
    inside[0] = False
    return inside[labels] & ~mask


def clean_mask(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """Morphological opening (3x3) then removal of small components."""
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return remove_small(opened.astype(bool), min_pixels)


def local_gain(photo: np.ndarray, background: np.ndarray, support: np.ndarray,
               sigmas: tuple[float, ...], floor: float = 0.02) -> np.ndarray:
    """Per-channel ratio of local means ``photo / plate`` over ``support`` pixels.

    Returns:
        float32 ``(H, W, 3)`` in [0.2, 2] (1 where nothing supports an estimate).
    """
    if not support.any():
        return np.ones_like(photo)
    photo_mean, _ = fill(photo, support, sigmas)
    plate_mean, _ = fill(background, support, sigmas)
    return np.clip((photo_mean + floor) / (plate_mean + floor), 0.2, 2.0).astype(np.float32)


def palette(colours: np.ndarray, count: int = 8, samples: int = 4000) -> np.ndarray:
    """Main colours (k-means centres) of an ``(n, 3)`` set of colours, float32 ``(k, 3)``."""
    if colours.shape[0] <= count:
        return colours.astype(np.float32)
    step = max(1, colours.shape[0] // samples)
    data = np.ascontiguousarray(colours[::step], dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 20, 1e-3)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(data, count, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    return centres


def plate_trimap(photo: np.ndarray, match: PlateMatch, *, band: int = 10,
                 bg_threshold: float = 2.5, fg_threshold: float = 4.0, tolerance: float = 0.15,
                 shadow_darkest: float = 0.4, min_area: int = 64,
                 shadows: bool = True, hole_fraction: float = 0.02) -> PlateSegmentation:
    """Trimap of the subject from a photo and its matched plate.

    Args:
        photo: float32 ``(H, W, 3)`` RGB in [0, 1].
        match: From :func:`trimatte.plate.background.match_plate`.
        band: Width (pixels) of the unknown band on each side of the subject's edge.
        bg_threshold: Difference (noise units) at or below which a pixel is background.
        fg_threshold: Difference above which a pixel is subject.
        tolerance: Registration error allowed, in pixels.
        shadow_darkest: Darkest shadow taken for background (brightness ratio).
        min_area: Subject components smaller than this (pixels) are noise.
        shadows: Explain shadows as background (and fold them into the plate).
        hole_fraction: Holes enclosed by the subject smaller than this fraction of its
            area are subject (a part whose colour matches the plate); larger ones are
            unknown.

    Returns:
        The :class:`PlateSegmentation`.

    Raises:
        TrimapError: Nothing in the photo differs from the plate (no subject found).
    """
    scale = expected_residual(match.noise, match.gradient, tolerance)
    plate = match.background
    first = difference_score(photo, plate, scale)
    shadow = np.zeros(first.shape, bool)
    if shadows:
        shadow = shadow_mask(photo, plate, scale, darkest=shadow_darkest) & (first > bg_threshold)
    subject = clean_mask((first > fg_threshold) & ~shadow, min_area)
    # Background away from the subject, and shadow up to two pixels from it (contact
    # shadows matter most under the subject's edge), measure the local gain.
    gap = distance_to(subject)
    support = (((first <= bg_threshold) & (gap > band)) | (shadow & (gap > 2))) & match.valid
    background = np.clip(plate * local_gain(photo, plate, support, (4.0, 16.0, 64.0)), 0, 1)
    difference = difference_score(photo, background, scale)

    subject = clean_mask((difference > fg_threshold) & ~(shadow & (gap > 2)), min_area)
    if not subject.any():
        raise TrimapError("nothing in the photo differs from the plate: no subject found "
                          f"(largest difference {float(difference.max()):.1f} noise units, "
                          f"subject threshold {fg_threshold:g})", "plate")
    if band > 0:  # narrow gaps inside the subject are parts that look like the plate
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
        subject |= cv2.morphologyEx(subject.astype(np.uint8), cv2.MORPH_CLOSE, disc,
                                    borderType=cv2.BORDER_REPLICATE).astype(bool)
    holes = enclosed(subject)
    subject |= holes & ~remove_small(holes, max(2, round(hole_fraction * subject.sum())))
    near = distance_to(subject)
    # The difference is averaged over ~2 px, so the subject mask spills that far.
    inner = band + 2
    sure_fg = cv2.erode(subject.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * inner + 1, 2 * inner + 1))).astype(bool)
    if not sure_fg.any():
        sure_fg = subject & (difference >= np.quantile(difference[subject], 0.9))

    # Colour similarity: the subject's colours (near each pixel, and its palette) vs
    # the plate's colour there.
    subject_colour, _ = fill(photo, sure_fg, (float(max(band, 2)), 4.0 * max(band, 2), 64.0))
    contrast = np.sqrt(np.mean(((subject_colour - background) / scale) ** 2, axis=2))
    core = cv2.erode(subject.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    for colour in palette(photo[core | sure_fg]):
        distance = np.sqrt(np.mean(((colour - background) / scale) ** 2, axis=2))
        np.minimum(contrast, distance, out=contrast)
    similar = contrast < fg_threshold
    reach = 3 * max(band, 2)
    camouflage = similar & (near <= reach) & ~subject

    holes = enclosed(subject)
    sure_bg = (difference <= bg_threshold) & (near > band) & ~camouflage & ~holes & match.valid
    trimap = np.full(photo.shape[:2], UNKNOWN, np.uint8)
    trimap[sure_bg] = BACKGROUND
    trimap[sure_fg] = FOREGROUND
    trimap = _drop_stray_unknown(trimap, subject)

    unknown = trimap == UNKNOWN
    confidence_map = np.ones(trimap.shape, np.float32)
    soft = (contrast**2 / (contrast**2 + fg_threshold**2)).astype(np.float32)
    soft = np.clip(2.0 * soft, 0.0, 1.0)  # 1 at and above fg_threshold units of contrast
    confidence_map[unknown] = soft[unknown]
    confidence_map[~match.valid] *= 0.5
    judged = unknown & match.valid
    confidence = float(confidence_map[judged].mean()) if judged.any() else 1.0
    uncertain = float(np.count_nonzero(judged & (confidence_map < 0.5)))
    uncertain_fraction = uncertain / max(1.0, float(np.count_nonzero(subject)))
    return PlateSegmentation(trimap, subject, background.astype(np.float32), scale, difference,
                             shadow, confidence_map, confidence, uncertain_fraction)


def _drop_stray_unknown(trimap: np.ndarray, subject: np.ndarray) -> np.ndarray:
    """Unknown components with no subject pixel in them become background."""
    unknown = trimap == UNKNOWN
    if not unknown.any():
        return trimap
    grown = unknown | (trimap == FOREGROUND)
    count, labels = cv2.connectedComponents(grown.astype(np.uint8), connectivity=8)
    has_subject = np.zeros(count, bool)
    has_subject[np.unique(labels[subject])] = True
    has_subject[0] = False
    out = trimap.copy()
    out[unknown & ~has_subject[labels]] = BACKGROUND
    return out
