"""Subject completion: the salient object plus the parts a saliency net drops.

A salient-object network is sure about the most eye-catching part of a subject and
often unsure (or wrong) about the rest: a dark sweater under a teddy bear's face, the
plant above its pot, a dark jacket under a face. Two steps fix most of it:

1. **Which objects** (:func:`select_objects`). The thresholded saliency map is split
   into 8-connected components, each scored by its summed saliency. The strongest is
   the subject; another component is kept only when it is itself strongly salient
   (peak at least ``second_peak`` and a summed saliency at least ``second_ratio`` of
   the subject's) -- a second animal in the same photo -- and is otherwise dropped
   (a poster on the wall, a statue in the background).
2. **Which pixels** (:func:`complete_subject`). GrabCut (OpenCV, Gaussian mixture
   colour models and a graph cut) is seeded from the saliency: pixels of the kept
   objects with saliency at least ``sure_fg`` are definite foreground, the rest of
   the objects probable foreground; everything within ``reach`` (a fraction of the
   image diagonal) of the objects is probable foreground too, so colours attached
   to the subject but missed by the net (dark clothes, leaves) can join it; pixels
   farther away are definite background and teach GrabCut the background colours.
   Probable pixels end on whichever side their colour (and their neighbours) fit
   better. Only components of the result that contain definite-foreground pixels are
   kept, so nothing detached from the subject is ever added.

GrabCut runs on a copy whose long side is ``work_side`` pixels (its cost grows with
the pixel count and the colour models do not need more); the result is upsampled,
and wherever it agrees with the thresholded saliency the full-resolution saliency
edge is kept.

Every function is pure: inputs are never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from trimatte.image import as_image, to_uint8

#: Seed of OpenCV's generator (GrabCut initialises its colour models with k-means).
SEED = 0


@dataclass(frozen=True)
class ObjectSelection:
    """Result of :func:`select_objects`.

    Attributes:
        mask: bool ``(H, W)``, the kept objects (thresholded saliency).
        count: Number of kept objects (0 when nothing reaches the threshold).
        dropped: Number of dropped salient components.
        second_strength: Summed saliency of the strongest other component relative
            to the subject's (0 when there is none), kept or dropped.
    """

    mask: np.ndarray
    count: int
    dropped: int
    second_strength: float


def select_objects(saliency: np.ndarray, *, threshold: float = 0.5, second_peak: float = 0.9,
                   second_ratio: float = 0.3, min_fraction: float = 0.002) -> ObjectSelection:
    """Keep the most salient object, and others only when they are strongly salient too.

    Args:
        saliency: float32 ``(H, W)`` in [0, 1].
        threshold: Saliency at or above which a pixel belongs to an object.
        second_peak: Peak saliency another component needs to be kept.
        second_ratio: Summed saliency (relative to the subject's) it needs to be kept.
        min_fraction: Components smaller than this fraction of the image are ignored
            (neither kept nor counted as dropped) unless nothing else exists.

    Returns:
        :class:`ObjectSelection`.
    """
    above = saliency >= threshold
    count, labels, stats, _ = cv2.connectedComponentsWithStats(above.astype(np.uint8),
                                                               connectivity=8)
    if count <= 1:
        return ObjectSelection(np.zeros(saliency.shape, bool), 0, 0, 0.0)
    strength = np.bincount(labels.ravel(), weights=saliency.ravel(), minlength=count)[1:]
    peak = np.zeros(count - 1)
    np.maximum.at(peak, labels[above] - 1, saliency[above])
    big = stats[1:, cv2.CC_STAT_AREA] >= min_fraction * saliency.size
    order = np.argsort(-strength)
    main = order[0]
    keep = {main}
    dropped = 0
    second = 0.0
    for index in order[1:]:
        if not big[index]:
            continue
        ratio = float(strength[index] / strength[main])
        second = max(second, ratio)
        if peak[index] >= second_peak and ratio >= second_ratio:
            keep.add(index)
        else:
            dropped += 1
    mask = np.isin(labels, np.array(sorted(keep)) + 1)
    return ObjectSelection(mask, len(keep), dropped, second)


def _resize(array: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(array, size, interpolation=mode)


def seed_labels(saliency: np.ndarray, objects: np.ndarray, *, sure_fg: float = 0.95,
                reach: float = 0.06) -> np.ndarray:
    """GrabCut's initial labelling (``cv2.GC_*`` codes) from saliency and kept objects.

    Args:
        saliency: float32 ``(h, w)`` in [0, 1].
        objects: bool ``(h, w)``, the kept objects (:func:`select_objects`).
        sure_fg: Saliency at or above which an object pixel is definite foreground.
        reach: Distance from the objects, as a fraction of the image diagonal, within
            which pixels are probable foreground; farther ones are definite background.

    Returns:
        uint8 ``(h, w)`` with ``GC_FGD``, ``GC_PR_FGD`` and ``GC_BGD``.
    """
    diagonal = float(np.hypot(*saliency.shape))
    outside = (~objects).astype(np.uint8)
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, 3)
    labels = np.full(saliency.shape, cv2.GC_BGD, np.uint8)
    labels[distance <= reach * diagonal] = cv2.GC_PR_FGD
    sure = objects & (saliency >= sure_fg)
    sure = cv2.erode(sure.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    labels[sure] = cv2.GC_FGD
    return labels


def complete_subject(image: np.ndarray, saliency: np.ndarray, objects: np.ndarray, *,
                     sure_fg: float = 0.95, reach: float = 0.06, work_side: int = 400,
                     iterations: int = 4, add_only: bool = True) -> np.ndarray:
    """Hard mask of the whole subject: saliency-seeded GrabCut (see module notes).

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        saliency: float32 ``(H, W)`` in [0, 1].
        objects: bool ``(H, W)``, the kept salient objects.
        sure_fg: Saliency at or above which an object pixel is definite foreground.
        reach: How far around the objects GrabCut may add pixels (fraction of the diagonal).
        work_side: Long side in pixels of the copy GrabCut runs on.
        iterations: GrabCut iterations.
        add_only: Only add pixels to the objects, never remove any (the net's
            confident pixels are rarely wrong; its misses are what completion is for).

    Returns:
        bool ``(H, W)`` mask. When GrabCut cannot run (no definite foreground, or no
        background left) the objects are returned unchanged.
    """
    image = as_image(image)
    height, width = objects.shape
    scale = min(1.0, work_side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small_sal = _resize(saliency, size)
    small_obj = _resize(objects.astype(np.uint8), size, nearest=True).astype(bool)
    labels = seed_labels(small_sal, small_obj, sure_fg=sure_fg, reach=reach)
    sure = labels == cv2.GC_FGD
    if not sure.any() or not (labels == cv2.GC_BGD).any():
        return objects.copy()
    bgr = cv2.cvtColor(to_uint8(_resize(image, size)), cv2.COLOR_RGB2BGR)
    bgd_model = np.zeros((1, 65), np.float64)
    fgd_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(SEED)
    cv2.grabCut(bgr, labels, None, bgd_model, fgd_model, iterations, cv2.GC_INIT_WITH_MASK)
    cut = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    _, comp = cv2.connectedComponents(cut.astype(np.uint8), connectivity=8)
    seeded = np.unique(comp[sure])
    cut = np.isin(comp, seeded[seeded > 0])
    # back to full size: smooth the small mask, then keep the network's own edge
    # wherever GrabCut agrees with it
    grown = cv2.resize(cut.astype(np.float32), (width, height),
                       interpolation=cv2.INTER_LINEAR) >= 0.5
    agree_small = cut == small_obj
    agree = cv2.resize(agree_small.astype(np.uint8), (width, height),
                       interpolation=cv2.INTER_NEAREST).astype(bool)
    agree = cv2.erode(agree.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    completed = np.where(agree, objects, grown)
    return completed | objects if add_only else completed


__all__ = ["ObjectSelection", "complete_subject", "seed_labels", "select_objects"]
