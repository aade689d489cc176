"""Adaptive unknown bands: wide where the edge is soft, narrow where it is hard.

A fixed band (``trimap_from_mask(mask, b)``) is too narrow on hair, fur and
translucent parts (soft pixels end up forced to 0 or 1) and too wide on hard
edges (the matting solver gets fewer anchors and washes the matte out). Here every
pixel on the boundary of a hard mask gets its own radius, from three local cues
measured in a window of ``2 * r_max + 1`` pixels around it:

* **softness** -- how wide the saliency map's transition is there: the number of
  pixels across the edge whose saliency lies strictly between ``low`` and ``high``
  (box-filtered fraction times the window side), less the blur that upsampling the
  network's 320-px output adds anyway;
* **texture** -- how many image edges (Canny) cross the window besides the
  subject's own outline: one line for a hard edge, many for strands of hair or fur;
* **colour ambiguity** -- how close the mean colours just inside and just outside
  the boundary are, relative to their spread: where they are alike the outline
  itself is uncertain.

``radius = r_min + soft_gain * softness + texture_gain * extra_lines * r_max / lines_full
+ ambiguity_gain * ambiguity * r_max``, clipped to ``[r_min, r_max]``
(:func:`band_radius`). :func:`variable_band_trimap` then marks unknown every pixel
within the radius of its nearest boundary pixel (one exact Euclidean distance
transform with nearest-pixel labels, so the cost does not grow with the radius).

Every function is pure: inputs are never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN, as_image
from trimatte.trimap.validate import check_mask

#: The U²-Net-p input side; its output is upsampled from this many pixels.
NETWORK_SIDE = 320


@dataclass(frozen=True)
class BandParams:
    """Parameters of :func:`band_radius`, as fractions of the image's long side or gains.

    Attributes:
        r_min: Smallest radius (fraction of the long side), on hard, clear edges.
        r_max: Largest radius (fraction of the long side), also the window half-side.
        soft_gain: Pixels of radius per pixel of saliency transition width.
        texture_gain: Weight of the texture cue (1: ``lines_full`` extra lines give ``r_max``).
        lines_full: Extra edge lines across the window that count as "fully textured".
        ambiguity_gain: Weight of the colour-ambiguity cue (1: fully ambiguous gives ``r_max``).
        low: Saliency above which a pixel is not sure background.
        high: Saliency below which a pixel is not sure foreground.
    """

    r_min: float = 0.008
    r_max: float = 0.03
    soft_gain: float = 0.5
    texture_gain: float = 0.0
    lines_full: float = 6.0
    ambiguity_gain: float = 0.0
    low: float = 0.05
    high: float = 0.95


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (the image border does not count).

    Args:
        mask: bool ``(H, W)``.

    Returns:
        bool ``(H, W)``, True on the inner boundary of the mask.
    """
    mask = check_mask(mask, "mask")
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    eroded = cv2.erode(mask.astype(np.uint8), cross, borderType=cv2.BORDER_REPLICATE)
    return mask & ~eroded.astype(bool)


def _box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a ``(2r+1)^2`` window (reflected at the border), float32."""
    side = 2 * radius + 1
    return cv2.boxFilter(values.astype(np.float32), -1, (side, side),
                         borderType=cv2.BORDER_REFLECT)


def transition_width(saliency: np.ndarray, radius: int, *, low: float = 0.05,
                     high: float = 0.95) -> np.ndarray:
    """Local width in pixels of the saliency map's soft transition.

    For a straight edge crossing a window of side ``2 * radius + 1``, the fraction of
    uncertain pixels (``low < s < high``) times the side is the transition's width.

    Args:
        saliency: float32 ``(H, W)`` in [0, 1].
        radius: Window half-side in pixels (>= 1).

    Returns:
        float32 ``(H, W)``, widths in pixels (0 where the map is decided).
    """
    soft = (saliency > low) & (saliency < high)
    return _box_mean(soft, radius) * np.float32(2 * radius + 1)


def edge_lines(image: np.ndarray, radius: int) -> np.ndarray:
    """Local number of image edges crossing a window of side ``2 * radius + 1``.

    Canny edges (thresholds from the median gradient) of the grey image; the local
    edge density times the window side counts the lines crossing it: about 1 on a
    clean outline, many on hair, fur or foliage.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        radius: Window half-side in pixels (>= 1).

    Returns:
        float32 ``(H, W)`` line counts.
    """
    grey = cv2.cvtColor((as_image(image) * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (3, 3), 0)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    median = float(np.median(np.hypot(gx, gy)))
    upper = float(np.clip(2.0 * median, 40.0, 400.0))
    edges = cv2.Canny(grey, upper / 2, upper) > 0
    return _box_mean(edges, radius) * np.float32(2 * radius + 1)


def colour_ambiguity(image: np.ndarray, mask: np.ndarray, radius: int) -> np.ndarray:
    """How alike the colours just inside and just outside a mask are, in [0, 1].

    Mean colours of the mask's and of its complement's pixels in each window are
    compared with the window's colour spread: ``1 - clip(|mu_in - mu_out| /
    (2 * sigma), 0, 1)``. 0: clearly different colours, 1: indistinguishable (or a
    window holding only one side).

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        mask: bool ``(H, W)``.
        radius: Window half-side in pixels (>= 1).

    Returns:
        float32 ``(H, W)`` in [0, 1].
    """
    image = as_image(image)
    inside = mask.astype(np.float32)
    n_in = _box_mean(inside, radius)
    n_out = 1.0 - n_in
    eps = np.float32(1e-3)
    diff = np.zeros(mask.shape, np.float32)
    spread = np.zeros(mask.shape, np.float32)
    for c in range(3):
        channel = image[..., c]
        sum_in = _box_mean(channel * inside, radius)
        mean_all = _box_mean(channel, radius)
        mu_in = sum_in / np.maximum(n_in, eps)
        mu_out = (mean_all - sum_in) / np.maximum(n_out, eps)
        diff += (mu_in - mu_out) ** 2
        spread += np.maximum(_box_mean(channel * channel, radius) - mean_all**2, 0.0)
    separation = np.sqrt(diff) / (2.0 * np.sqrt(spread) + np.float32(0.02))
    one_sided = (n_in < 0.05) | (n_out < 0.05)
    return np.where(one_sided, 1.0, 1.0 - np.clip(separation, 0.0, 1.0)).astype(np.float32)


def band_radius(image: np.ndarray, mask: np.ndarray, saliency: np.ndarray | None,
                params: BandParams = BandParams()) -> np.ndarray:
    """Radius of the unknown band at every boundary pixel of ``mask``.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        mask: bool ``(H, W)`` hard foreground mask.
        saliency: float32 ``(H, W)`` saliency in [0, 1] the mask came from, or None
            (then the softness cue is 0).
        params: Gains and limits (see :class:`BandParams`).

    Returns:
        float32 ``(H, W)``: the radius in pixels on :func:`boundary` pixels, 0 elsewhere.
    """
    mask = check_mask(mask, "mask")
    long_side = max(mask.shape)
    r_min = max(1.0, params.r_min * long_side)
    window = max(2, round(params.r_max * long_side))
    r_max = max(r_min, float(window))
    radius = np.full(mask.shape, r_min, np.float32)
    if saliency is not None:
        blur = 2.0 * long_side / NETWORK_SIDE
        width = transition_width(saliency, window, low=params.low, high=params.high)
        radius += params.soft_gain * np.maximum(width - blur, 0.0)
    if params.texture_gain:
        extra = np.maximum(edge_lines(image, window) - 1.0, 0.0)
        radius += params.texture_gain * r_max * np.minimum(extra / params.lines_full, 1.0)
    if params.ambiguity_gain:
        radius += params.ambiguity_gain * r_max * colour_ambiguity(image, mask, window)
    edge = boundary(mask)
    return np.where(edge, np.clip(radius, r_min, r_max), 0.0).astype(np.float32)


def variable_band_trimap(mask: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Trimap whose unknown band has a per-boundary-pixel radius.

    A pixel is unknown when it lies within ``radius[b]`` of its nearest boundary
    pixel ``b`` (exact Euclidean distance; ``b`` found with OpenCV's labelled
    distance transform); other pixels take the mask's class.

    Args:
        mask: bool ``(H, W)`` hard foreground mask.
        radius: float32 ``(H, W)`` radius in pixels, read on the mask's boundary pixels
            (from :func:`band_radius`).

    Returns:
        uint8 ``(H, W)`` trimap (0/128/255). A mask with no boundary pixel (empty or
        full) gives an all-background or all-foreground trimap.
    """
    mask = check_mask(mask, "mask")
    edge = boundary(mask)
    trimap = np.where(mask, FOREGROUND, BACKGROUND).astype(np.uint8)
    if not edge.any():
        return trimap
    _, labels = cv2.distanceTransformWithLabels(
        (~edge).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # labels number the zero (boundary) pixels 1..n in raster order; the distance is
    # measured exactly to the labelled pixel (within 0.15 px of the true nearest one)
    ys, xs = np.nonzero(edge)
    index = labels - 1
    rows, cols = np.indices(mask.shape, dtype=np.float32)
    distance = np.hypot(rows - ys[index], cols - xs[index])
    reach = radius[edge][index]
    trimap[distance <= reach] = UNKNOWN
    return trimap


def mark_uncertain(trimap: np.ndarray, saliency: np.ndarray, mask: np.ndarray, *,
                   low: float = 0.05, high: float = 0.95,
                   added: np.ndarray | None = None) -> np.ndarray:
    """Make unknown what the saliency net (or the completion) was unsure about.

    * mask pixels with saliency below ``high``;
    * pixels outside the mask with saliency above ``low`` that connect (8-connected,
      through such pixels or the band) to the mask -- a faint blob far from the
      subject stays background;
    * ``added`` pixels (joined by colour-based completion, not by the net): the
      matting solver decides them from the colours.

    Args:
        trimap: uint8 ``(H, W)`` trimap (0/128/255), e.g. from :func:`variable_band_trimap`.
        saliency: float32 ``(H, W)`` in [0, 1].
        mask: bool ``(H, W)`` hard mask the trimap was drawn around.
        low: Saliency at or below which a pixel is sure background.
        high: Saliency at or above which a pixel is sure foreground.
        added: bool ``(H, W)`` pixels added by completion, or None.

    Returns:
        uint8 ``(H, W)`` trimap (a new array).
    """
    trimap = trimap.copy()
    unknown = trimap == UNKNOWN
    unknown |= mask & (saliency < high)
    faint = ~mask & (saliency > low)
    _, labels = cv2.connectedComponents((mask | faint | unknown).astype(np.uint8),
                                        connectivity=8)
    touching = np.unique(labels[mask])
    unknown |= faint & np.isin(labels, touching[touching > 0])
    if added is not None:
        unknown |= added
    trimap[unknown] = UNKNOWN
    return trimap


__all__ = [
    "BandParams",
    "band_radius",
    "boundary",
    "colour_ambiguity",
    "edge_lines",
    "mark_uncertain",
    "transition_width",
    "variable_band_trimap",
]
