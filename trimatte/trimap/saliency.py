"""Trimaps from a salient-object probability map.

A saliency map (e.g. from :func:`trimatte.models.salient_net.predict_saliency`) is
turned into a trimap in two steps:

1. **Threshold + band.** ``saliency >= threshold`` is a hard mask; an unknown band
   of ``band`` pixels on each side of its boundary is drawn with
   :func:`trimatte.trimap.morphology.trimap_from_mask` (erode → foreground,
   outside the dilation → background).
2. **Low confidence is unknown.** Pixels whose saliency lies strictly between
   ``confident_bg`` and ``confident_fg`` are also marked unknown, wherever they are:
   the network was unsure there (typically hair, fur, thin or translucent parts that
   a fixed-width band misses), so the matting stage should decide. Pixels at or
   beyond those limits keep the class from step 1. Pass ``confident_bg=None`` (or
   ``confident_fg=None``) to turn this off on that side.

   Below-threshold uncertain pixels are kept only where they connect (8-connected,
   through uncertain or band pixels) to the thresholded object: a faint blob far from
   the subject (a drawing on a poster, a second animal in the distance) stays
   background instead of becoming an unknown island the matting would have to
   explain. ``keep_isolated=True`` keeps them all.

:func:`trimap_from_uncertain` (the default of the ``salient`` stage since session 3)
draws the band around the network's *uncertain zone* instead of around the 0.5
contour: sure foreground is ``saliency >= confident_fg`` and sure background
``saliency <= confident_bg``, each eroded by ``band`` pixels (a square window, as the
rembg recipe does); every other pixel is unknown. Where the saliency edge is soft
(fur, hair) the unknown region is as wide as the soft zone plus the band, where it is
hard it is just ``2 * band`` wide, so the band adapts to the edge without a second
model. Chosen on the validation images (see ``benchmarks/auto_trimap.py``).
"""

from __future__ import annotations

import numbers

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.trimap.morphology import trimap_from_mask


def _check_probability(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"must be a number in [0, 1], got {value!r}", name)
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise InputError(f"must lie in [0, 1], got {value}", name)
    return value


def check_saliency(saliency: np.ndarray, name: str = "saliency") -> np.ndarray:
    """Return ``saliency`` as a float32 ``(H, W)`` array in [0, 1].

    uint8 maps are scaled by 1/255; float maps must already lie in [0, 1]; a
    trailing channel axis of size 1 is dropped.

    Raises:
        InputError: Wrong shape or dtype, empty, NaN, or values outside [0, 1].
    """
    array = np.asarray(saliency)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2:
        raise InputError(f"expected a 2-D (H, W) map, got shape {array.shape}", name)
    if array.size == 0:
        raise InputError(f"map is empty (shape {array.shape})", name)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == bool or not np.issubdtype(array.dtype, np.floating):
        raise InputError(f"expected a float map in [0, 1] (or uint8), got {array.dtype}", name)
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise InputError("map contains NaN or infinite values", name)
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise InputError(f"values must lie in [0, 1], found [{low:.3g}, {high:.3g}]", name)
    return array


def trimap_from_saliency(
    saliency: np.ndarray,
    *,
    band: int,
    threshold: float = 0.5,
    confident_bg: float | None = 0.05,
    confident_fg: float | None = 0.95,
    keep_isolated: bool = False,
) -> np.ndarray:
    """Trimap from a saliency map: threshold, unknown band, low-confidence pixels unknown.

    Args:
        saliency: float ``(H, W)`` foreground probability in [0, 1] (uint8 is scaled).
        band: Unknown band radius in pixels on each side of the thresholded boundary
            (>= 0; see :func:`trimatte.trimap.morphology.band_width_for` to scale it
            with the image size).
        threshold: Saliency at or above which a pixel is foreground in the hard mask.
        confident_bg: Saliency at or below which a pixel is confidently background;
            pixels above it and below ``confident_fg`` become unknown. ``None``
            disables the low-confidence rule on the background side.
        confident_fg: Saliency at or above which a pixel is confidently foreground.
            ``None`` disables the rule on the foreground side.
        keep_isolated: Also make uncertain below-threshold pixels unknown when they
            do not connect to the thresholded object (see module notes).

    Returns:
        uint8 ``(H, W)`` trimap with 0 (background), 128 (unknown), 255 (foreground).

    Raises:
        InputError: Bad map, negative band, a value outside [0, 1], or
            ``confident_bg <= threshold <= confident_fg`` violated.
    """
    saliency = check_saliency(saliency)
    threshold = _check_probability(threshold, "threshold")
    low = 0.0 if confident_bg is None else _check_probability(confident_bg, "confident_bg")
    high = 1.0 if confident_fg is None else _check_probability(confident_fg, "confident_fg")
    if not low <= threshold <= high:
        raise InputError(
            f"need confident_bg <= threshold <= confident_fg, got {confident_bg} <= "
            f"{threshold} <= {confident_fg}",
            "threshold",
        )
    mask = saliency >= threshold
    trimap = trimap_from_mask(mask, band)
    if confident_fg is not None:
        trimap[mask & (saliency < high)] = UNKNOWN
    if confident_bg is not None:
        uncertain_bg = ~mask & (saliency > low)
        if not keep_isolated:
            uncertain_bg &= _connected_to(mask, uncertain_bg | (trimap == UNKNOWN))
        trimap[uncertain_bg] = UNKNOWN
    return trimap


def trimap_from_uncertain(
    saliency: np.ndarray,
    *,
    band: int,
    confident_bg: float = 0.02,
    confident_fg: float = 0.98,
) -> np.ndarray:
    """Trimap whose unknown region is the saliency map's uncertain zone plus a band.

    Sure foreground: ``saliency >= confident_fg``, eroded by a ``(2 band + 1)``-px
    square; sure background: ``saliency <= confident_bg``, eroded the same way (the
    image border does not erode either); every other pixel is unknown. On a hard 0/1
    map this is :func:`trimatte.trimap.morphology.trimap_from_mask` with a square
    structuring element.

    Args:
        saliency: float ``(H, W)`` foreground probability in [0, 1] (uint8 is scaled).
        band: Erosion radius in pixels (>= 0): how far the unknown region reaches
            beyond the uncertain zone on each side.
        confident_bg: Saliency at or below which a pixel is sure background.
        confident_fg: Saliency at or above which a pixel is sure foreground.

    Returns:
        uint8 ``(H, W)`` trimap with 0 (background), 128 (unknown), 255 (foreground).

    Raises:
        InputError: Bad map, negative band, or ``confident_bg >= confident_fg``.
    """
    saliency = check_saliency(saliency)
    low = _check_probability(confident_bg, "confident_bg")
    high = _check_probability(confident_fg, "confident_fg")
    if low >= high:
        raise InputError(
            f"need confident_bg < confident_fg, got {confident_bg} >= {confident_fg}",
            "confident_bg",
        )
    if isinstance(band, bool) or not isinstance(band, numbers.Integral) or band < 0:
        raise InputError(f"must be an integer >= 0, got {band!r}", "band")
    kernel = np.ones((2 * int(band) + 1, 2 * int(band) + 1), np.uint8)
    sure_fg = cv2.erode((saliency >= high).astype(np.uint8), kernel).astype(bool)
    sure_bg = cv2.erode((saliency <= low).astype(np.uint8), kernel).astype(bool)
    trimap = np.full(saliency.shape, UNKNOWN, np.uint8)
    trimap[sure_fg] = FOREGROUND
    trimap[sure_bg] = BACKGROUND
    return trimap


def _connected_to(seed: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Pixels of ``seed | region`` in an 8-connected component that contains a seed pixel."""
    if not seed.any():
        return np.zeros(seed.shape, bool)
    _, labels = cv2.connectedComponents((seed | region).astype(np.uint8), connectivity=8)
    touching = np.unique(labels[seed])
    return np.isin(labels, touching[touching > 0])
