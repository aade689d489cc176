"""Temporal coherence: trimaps carried along optical flow, and alpha smoothing.

Trimap propagation
    The previous frame's alpha is warped into the current frame along the flow; its
    sure-opaque and sure-transparent parts, eroded by the band radius, become the
    foreground and background of the new trimap, so the band stays centred on the
    edge it followed. Where the flow is not trusted near an edge, pixels become unknown.
    With an automatic trimap source, its trimap and the propagated one are fused:
    pixels the two call opposite sides become unknown, and when they overlap too
    little (the subject changed, appeared or left) the detected trimap is used alone.

Steadier trimap sources
    A trimap source that leaves a soft map (the ``salient`` source's saliency) is
    steadied before its trimap is drawn: the map is averaged with the previous frame's
    steadied map, carried along the flow and weighted by its trust (a recursive,
    motion-compensated average, :func:`recursive_map`). A detector that sees an
    object in one frame and not the next (a distractor, a faint limb) then gives a
    map that changes slowly, so the trimap, and the matte, stop jumping.

Alpha smoothing
    ``flow`` mode: each alpha is averaged with its neighbours up to ``radius`` frames
    away, *warped into its frame along the flow* and weighted by how far each warped
    pixel is trusted (forward-backward and colour checks), so moving edges are not
    smeared and occluded pixels keep their own value. The average is taken around the
    per-pixel weighted median (:func:`weighted_blend` with a ``spread``): a neighbour
    that the flow misplaced at a sharp edge is far from the median and left out, while
    a value that jumps in one frame does not move the median. ``ofd`` mode is MODNet's
    one-frame-delay rule on flow-warped neighbours: a pixel that differs from both
    neighbours while they agree is replaced by their mean.
"""

from __future__ import annotations

import cv2
import numpy as np

from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.trimap.confidence import mask_iou
from trimatte.trimap.morphology import dilate_mask, erode_mask

__all__ = [
    "band_radius",
    "fuse_trimaps",
    "ofd_filter",
    "propagate_trimap",
    "recursive_map",
    "trimap_overlap",
    "weighted_blend",
    "weighted_median",
]


def band_radius(trimap: np.ndarray, minimum: int = 1, maximum: int = 64) -> int:
    """Estimate the band radius of a trimap: unknown area / (2 x mean boundary length).

    The boundary length is the mean of the foreground's and the background's edge
    lengths (the band's inner and outer borders), so small subjects are not overestimated.

    Args:
        trimap: uint8 ``(H, W)`` 0/128/255.
        minimum, maximum: Clamp of the result.

    Returns:
        Radius in pixels.
    """
    unknown = int(np.count_nonzero(trimap == UNKNOWN))
    kernel = np.ones((3, 3), np.uint8)
    lengths = []
    for value in (FOREGROUND, BACKGROUND):
        region = (trimap == value).astype(np.uint8)
        edge = region - cv2.erode(region, kernel, borderType=cv2.BORDER_REPLICATE)
        lengths.append(int(np.count_nonzero(edge)))
    length = sum(lengths) / 2.0
    if unknown == 0 or length == 0:
        return minimum
    return int(np.clip(round(unknown / (2.0 * length)), minimum, maximum))


def propagate_trimap(
    warped_alpha: np.ndarray,
    confidence: np.ndarray,
    radius: int,
    *,
    fg_level: float = 0.75,
    bg_level: float = 0.05,
    min_confidence: float = 0.3,
) -> np.ndarray:
    """Trimap of the current frame from the previous alpha warped into it.

    The band is centred on the warped matte's 0.5 contour: foreground is what lies
    more than ``radius`` inside it (and is at least ``fg_level`` opaque), background
    what lies more than ``radius`` outside it (and is at most ``bg_level``), so soft
    regions such as strands of hair stay unknown wherever they are. When a subject is
    too thin for the band, the radius is halved until some foreground is left.

    Args:
        warped_alpha: float32 ``(H, W)`` previous alpha in the current frame's grid.
        confidence: float32 ``(H, W)`` trust of each warped pixel (see
            :func:`trimatte.video.flow.flow_confidence`).
        radius: Band radius in pixels on each side of the edge.
        fg_level, bg_level: Opacity needed for sure foreground, allowed for background.
        min_confidence: Trust under which a pixel near an edge becomes unknown.

    Returns:
        uint8 ``(H, W)`` trimap.
    """
    inside = warped_alpha >= 0.5
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    spread = cv2.dilate(warped_alpha, kernel) - cv2.erode(warped_alpha, kernel)
    # Distrust matters near edges and inside the subject (it may have left or been
    # covered); far out in the background a wrong flow still carries zeros.
    unsure = dilate_mask((confidence < min_confidence) & ((spread > 0.1) | inside), 1)
    sure_fg = (warped_alpha >= fg_level) & ~unsure
    fg = np.zeros_like(inside)
    r = max(int(radius), 0)
    while True:
        fg = erode_mask(inside, r) & sure_fg
        if fg.any() or r == 0 or not sure_fg.any():
            break
        r //= 2
    bg = erode_mask(~inside, max(int(radius), 0)) & (warped_alpha <= bg_level) & ~unsure
    trimap = np.full(warped_alpha.shape, UNKNOWN, np.uint8)
    trimap[fg] = FOREGROUND
    trimap[bg] = BACKGROUND
    return trimap


def trimap_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of the not-background parts of two trimaps (1 if both empty)."""
    return mask_iou(a != BACKGROUND, b != BACKGROUND)


def fuse_trimaps(propagated: np.ndarray, detected: np.ndarray, min_overlap: float = 0.7
                 ) -> tuple[np.ndarray, bool]:
    """Combine a freshly detected trimap with the one propagated from the last frame.

    The detection is kept, except where it puts a pixel on the opposite side from the
    propagation (foreground against background): such flips are what flicker, so they
    become unknown and the matting decides them from the colours.

    Args:
        propagated: Trimap carried from the previous frame.
        detected: Trimap of the frame's own trimap source.
        min_overlap: Below this :func:`trimap_overlap` the two describe different
            subjects (one appeared, left or was lost): the detection is used as it is.

    Returns:
        ``(trimap, rekeyed)``; ``rekeyed`` when the detection replaced the propagation.
    """
    if trimap_overlap(propagated, detected) < min_overlap:
        return detected, True
    fused = detected.copy()
    conflict = ((propagated == FOREGROUND) & (detected == BACKGROUND)) | (
        (propagated == BACKGROUND) & (detected == FOREGROUND)
    )
    fused[conflict] = UNKNOWN
    return fused, False


def recursive_map(current: np.ndarray, warped_previous: np.ndarray, trust: np.ndarray,
                  memory: float) -> np.ndarray:
    """``(s + m c w) / (1 + m c)``: a soft map averaged with the previous one along the flow.

    Applied frame after frame, this is an exponential average along the motion whose
    effective length grows with ``memory`` (the previous frame's weight relative to the
    current one: 1 gives it half the weight, 2 two thirds); where the flow is not
    trusted (``c`` near 0: occlusions, new objects) the current map is kept.

    Args:
        current: float32 ``(H, W)`` this frame's map (e.g. saliency in [0, 1]).
        warped_previous: float32 ``(H, W)`` the previous frame's averaged map, warped
            into this frame.
        trust: float32 ``(H, W)`` trust of each warped pixel, in [0, 1].
        memory: Weight ``m`` >= 0 of the previous map.

    Returns:
        float32 ``(H, W)``, between the two maps at every pixel.
    """
    weight = np.float32(memory) * np.clip(trust, 0.0, 1.0).astype(np.float32)
    out = (current.astype(np.float32) + weight * warped_previous) / (1.0 + weight)
    return out.astype(np.float32)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-pixel weighted median of a stack.

    Args:
        values: float32 ``(N, H, W)``.
        weights: float32 ``(N, H, W)`` >= 0, with a positive sum at every pixel.

    Returns:
        float32 ``(H, W)``: at each pixel the smallest value whose cumulative weight
        (values in increasing order) reaches half the total.
    """
    order = np.argsort(values, axis=0)
    ranked = np.take_along_axis(values, order, axis=0)
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=0), axis=0)
    index = (cumulative < 0.5 * cumulative[-1:]).sum(axis=0, keepdims=True)
    return np.take_along_axis(ranked, np.minimum(index, len(values) - 1), axis=0)[0]


def weighted_blend(center: np.ndarray, neighbours: list[tuple[np.ndarray, np.ndarray]],
                   spread: float | None = None) -> np.ndarray:
    """The current alpha averaged with warped neighbours.

    With ``spread`` None: ``(a + sum w_k a_k) / (1 + sum w_k)``. With a ``spread``,
    each value's weight (1 for the frame's own) is also multiplied by
    ``exp(-((v - m) / spread)^2 / 2)``, with ``m`` the weighted median of all of them: a
    mean around the median, which averages out flicker (the median is not pulled by a
    value that jumps, in the frame itself or in one neighbour) but leaves out
    neighbours that a flow misplaced by a pixel at a sharp edge (they differ from the
    median by much more than ``spread``), so the edge is not blurred.

    Args:
        center: float32 ``(H, W)`` alpha of the frame.
        neighbours: ``(warped_alpha, weight)`` pairs; weights float32 ``(H, W)`` >= 0
            (trust times the neighbour's temporal weight).
        spread: Alpha difference from the median at which a value's weight falls to
            ``exp(-1/2)``; None for the plain weighted mean.

    Returns:
        float32 ``(H, W)`` in [0, 1].
    """
    center = center.astype(np.float32)
    values = [center] + [np.asarray(v, np.float32) for v, _ in neighbours]
    weights = [np.ones_like(center)] + [np.asarray(w, np.float32) for _, w in neighbours]
    if spread is not None and neighbours:
        median = weighted_median(np.stack(values), np.stack(weights))
        weights = [w * np.exp(-0.5 * np.square((v - median) / np.float32(spread)))
                   for v, w in zip(values, weights, strict=True)]
    total = np.zeros_like(center)
    weight = np.zeros_like(center)
    for v, w in zip(values, weights, strict=True):
        total += w * v
        weight += w
    # > 0: the median is a value of positive weight, whose factor is 1
    return np.clip(total / np.maximum(weight, 1e-12), 0.0, 1.0).astype(np.float32)


def ofd_filter(previous: np.ndarray, center: np.ndarray, following: np.ndarray,
               trust: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """MODNet's one-frame-delay trick on flow-warped neighbours.

    A pixel whose neighbours agree (``|prev - next| <= threshold``) while it differs
    from both by more than ``threshold`` takes their mean, where both warps are trusted
    (``trust >= 0.5``).

    Args:
        previous, following: float32 ``(H, W)`` neighbour alphas warped into this frame.
        center: float32 ``(H, W)`` alpha of the frame.
        trust: float32 ``(H, W)`` joint trust of the two warps.
        threshold: Agreement tolerance in alpha units.

    Returns:
        float32 ``(H, W)``.
    """
    agree = np.abs(previous - following) <= threshold
    differs = (np.abs(center - previous) > threshold) & (np.abs(center - following) > threshold)
    replace = agree & differs & (trust >= 0.5)
    out = center.astype(np.float32).copy()
    out[replace] = 0.5 * (previous[replace] + following[replace])
    return out
