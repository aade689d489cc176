"""Building and reshaping the unknown band of a trimap with morphology.

All band widths are *radii* in pixels: a band of ``b`` puts ``b`` pixels of
unknown on each side of a boundary.  Erosion and dilation use an elliptical
(disc-shaped) OpenCV kernel of size ``2 * b + 1``, so bands have the same width
in every direction.  The image border never erodes a region: a foreground that
touches the edge of the picture stays foreground up to the edge.

Every function is pure: inputs are never modified.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN, as_alpha
from trimatte.trimap.validate import check_mask, check_pixels, check_trimap

#: Default alpha thresholds of :func:`trimap_from_alpha`: half an 8-bit step
#: from 1 and from 0, so 255/255 is foreground, 254/255 is not, 0 is background
#: and 1/255 is not, while float mattes that lost a little precision
#: (e.g. 0.9999 after resizing) still count as opaque.
FG_THRESHOLD: float = 1.0 - 0.5 / 255.0
BG_THRESHOLD: float = 0.5 / 255.0


@lru_cache(maxsize=64)
def _disc(radius: int) -> np.ndarray:
    """Elliptical structuring element of size ``2 * radius + 1`` (cached, read-only)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    kernel.setflags(write=False)
    return kernel


def erode_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Erode a bool mask with a disc of ``radius`` px; the image border does not erode.

    Args:
        mask: bool ``(H, W)``.
        radius: Non-negative radius in pixels; 0 returns a copy.

    Returns:
        bool ``(H, W)``.
    """
    if radius == 0:
        return mask.copy()
    return cv2.erode(mask.astype(np.uint8), _disc(radius)).astype(bool)


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate a bool mask with a disc of ``radius`` px (nothing grows in from the border).

    Args:
        mask: bool ``(H, W)``.
        radius: Non-negative radius in pixels; 0 returns a copy.

    Returns:
        bool ``(H, W)``.
    """
    if radius == 0:
        return mask.copy()
    return cv2.dilate(mask.astype(np.uint8), _disc(radius)).astype(bool)


def _compose(fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Trimap from disjoint fg and bg masks; every other pixel is unknown."""
    trimap = np.full(fg.shape, UNKNOWN, dtype=np.uint8)
    trimap[fg] = FOREGROUND
    trimap[bg] = BACKGROUND
    return trimap


def _check_thresholds(fg_threshold: float, bg_threshold: float) -> tuple[float, float]:
    try:
        fg_t, bg_t = float(fg_threshold), float(bg_threshold)
    except (TypeError, ValueError) as exc:
        raise InputError("thresholds must be numbers", "fg_threshold/bg_threshold") from exc
    if not (0.0 <= bg_t < fg_t <= 1.0):
        raise InputError(
            f"need 0 <= bg_threshold < fg_threshold <= 1, got bg_threshold={bg_t}, "
            f"fg_threshold={fg_t}",
            "fg_threshold/bg_threshold",
        )
    return fg_t, bg_t


def trimap_from_mask(mask: np.ndarray, band: int) -> np.ndarray:
    """Trimap with an unknown band of ``band`` px on each side of a hard mask's boundary.

    ``unknown = dilate(mask) & ~erode(mask)``, foreground = ``erode(mask)``,
    background = ``~dilate(mask)``, with an elliptical kernel of radius ``band``.

    Args:
        mask: bool ``(H, W)`` foreground mask (0/1 or 0/255 integer masks are accepted).
        band: Band radius in pixels, >= 0; 0 gives a hard trimap with no unknown pixels.

    Returns:
        uint8 ``(H, W)`` trimap with values 0/128/255.

    Raises:
        InputError: Malformed mask or negative / non-integer band.
    """
    mask = check_mask(mask, "mask")
    band = check_pixels(band, "band")
    return _compose(erode_mask(mask, band), ~dilate_mask(mask, band))


def _trimap_from_regions(alpha: np.ndarray, fg_band: int, bg_band: int,
                         fg_threshold: float, bg_threshold: float) -> np.ndarray:
    fg_t, bg_t = _check_thresholds(fg_threshold, bg_threshold)
    opaque = alpha >= fg_t
    clear = alpha <= bg_t
    return _compose(erode_mask(opaque, fg_band), erode_mask(clear, bg_band))


def trimap_from_alpha(alpha: np.ndarray, band: int, *, fg_threshold: float = FG_THRESHOLD,
                      bg_threshold: float = BG_THRESHOLD) -> np.ndarray:
    """Ground-truth style trimap of an alpha matte (as in Deep Image Matting).

    Foreground is the opaque region (``alpha >= fg_threshold``) eroded by
    ``band``; background is the clear region (``alpha <= bg_threshold``) eroded by
    ``band``; the rest -- every partially transparent pixel plus ``band`` px on
    each side -- is unknown.

    Args:
        alpha: float ``(H, W)`` in [0, 1] (uint8/uint16 mattes are scaled).
        band: Erosion radius in pixels, >= 0; 0 makes exactly the soft pixels unknown.
        fg_threshold: Alpha at or above which a pixel is opaque.  The default,
            ``1 - 0.5/255``, counts 255/255 as opaque and 254/255 as soft.
        bg_threshold: Alpha at or below which a pixel is clear (default ``0.5/255``).

    Returns:
        uint8 ``(H, W)`` trimap.

    Raises:
        InputError: Malformed alpha, band or thresholds.
    """
    alpha = as_alpha(alpha, "alpha")
    band = check_pixels(band, "band")
    return _trimap_from_regions(alpha, band, band, fg_threshold, bg_threshold)


def random_trimap(alpha: np.ndarray, rng: np.random.Generator, min_band: int = 1,
                  max_band: int = 30, *, fg_threshold: float = FG_THRESHOLD,
                  bg_threshold: float = BG_THRESHOLD) -> np.ndarray:
    """Random training trimap: :func:`trimap_from_alpha` with independent fg and bg bands.

    The foreground and background erosion radii are drawn independently and
    uniformly from ``[min_band, max_band]`` (inclusive), in that order, from
    ``rng`` -- the on-the-fly trimap augmentation of Deep Image Matting.  The
    result depends only on ``alpha`` and the state of ``rng``.

    Args:
        alpha: float ``(H, W)`` matte in [0, 1].
        rng: NumPy random generator (two integers are drawn from it).
        min_band: Smallest erosion radius in pixels (>= 0).
        max_band: Largest erosion radius in pixels (>= ``min_band``).
        fg_threshold: See :func:`trimap_from_alpha`.
        bg_threshold: See :func:`trimap_from_alpha`.

    Returns:
        uint8 ``(H, W)`` trimap.

    Raises:
        InputError: Malformed alpha, band range or rng.
    """
    alpha = as_alpha(alpha, "alpha")
    min_band = check_pixels(min_band, "min_band")
    max_band = check_pixels(max_band, "max_band")
    if max_band < min_band:
        raise InputError(f"must be >= min_band ({min_band}), got {max_band}", "max_band")
    if not isinstance(rng, np.random.Generator):
        raise InputError(
            f"expected a numpy.random.Generator (np.random.default_rng(seed)), got "
            f"{type(rng).__name__}",
            "rng",
        )
    fg_band, bg_band = (int(b) for b in rng.integers(min_band, max_band + 1, size=2))
    return _trimap_from_regions(alpha, fg_band, bg_band, fg_threshold, bg_threshold)


DEFAULT_BAND_FRACTION = 0.015
"""The one default size of the unknown band: its radius is 1.5 % of the image's long
side (about 24 px on a 1620-px photo, 12 px on an 800-px one).

Vocabulary used everywhere: ``band_radius`` is the band radius in pixels (unknown
pixels reach this far on each side of the fg/bg boundary, so the band is about twice
as wide); ``band_fraction`` is that radius as a fraction of the long side, used when
no ``band_radius`` is given (:func:`band_radius_for`)."""


def band_radius_for(shape: tuple[int, ...], band_fraction: float = DEFAULT_BAND_FRACTION) -> int:
    """Band radius in pixels for an image: ``max(1, round(band_fraction * max(H, W)))``.

    Args:
        shape: Image or trimap shape, ``(H, W)`` or ``(H, W, C)``.
        band_fraction: Band radius as a fraction of the long side (>= 0).

    Returns:
        Band radius in pixels, at least 1.  ``round`` is Python's (halves to even).

    Raises:
        InputError: Bad shape or a negative / non-finite fraction.
    """
    return band_width_for(shape, band_fraction)


def band_width_for(shape: tuple[int, ...], fraction: float) -> int:
    """Old name of :func:`band_radius_for` (the value is a radius, not a width)."""
    try:
        height, width = (int(s) for s in tuple(shape)[:2])
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected an (H, W) shape, got {shape!r}", "shape") from exc
    if len(tuple(shape)) < 2 or height <= 0 or width <= 0:
        raise InputError(f"expected a non-empty (H, W) shape, got {shape!r}", "shape")
    try:
        fraction = float(fraction)
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be a number, got {fraction!r}", "fraction") from exc
    if not np.isfinite(fraction) or fraction < 0:
        raise InputError(f"must be a finite number >= 0, got {fraction}", "fraction")
    return max(1, round(fraction * max(height, width)))


def distance_to(region: np.ndarray) -> np.ndarray:
    """Euclidean distance from every pixel to the nearest pixel of ``region`` (bool).

    Pixels of the region are at distance 0; if the region is empty every
    distance is ``inf``.
    """
    if not region.any():
        return np.full(region.shape, np.inf, dtype=np.float32)
    outside = (~region).astype(np.uint8)
    return cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _nearest_side_mask(trimap: np.ndarray) -> np.ndarray:
    """Hard mask from a trimap: fg plus the unknown pixels nearer fg than bg (ties go to fg)."""
    fg = trimap == FOREGROUND
    bg = trimap == BACKGROUND
    unknown = ~(fg | bg)
    if not unknown.any():
        return fg
    return fg | (unknown & (distance_to(fg) <= distance_to(bg)))


def rebuild_band(trimap: np.ndarray, width: int) -> np.ndarray:
    """Redraw a trimap's unknown band with radius ``width`` around its fg/bg boundary.

    The current unknown region is first split between foreground and
    background by nearest known side (Euclidean distance transforms; ties go to
    foreground), giving a hard mask; the result is
    ``trimap_from_mask(mask, width)``.  A pixel that was foreground never becomes
    background and vice versa.

    A trimap with only one known class (or none) has no fg/bg boundary to draw a
    band around; it is returned unchanged (as a copy).

    Args:
        trimap: uint8 ``(H, W)`` trimap.
        width: Band radius in pixels (>= 0).

    Returns:
        uint8 ``(H, W)`` trimap.

    Raises:
        TrimapError: Malformed trimap.
        InputError: Negative or non-integer width.
    """
    trimap = check_trimap(trimap)
    width = check_pixels(width, "width")
    if not (np.any(trimap == FOREGROUND) and np.any(trimap == BACKGROUND)):
        return trimap.copy()
    return trimap_from_mask(_nearest_side_mask(trimap), width)


def adjust_band(trimap: np.ndarray, pixels: int) -> np.ndarray:
    """Grow (``pixels > 0``) or shrink (``pixels < 0``) the unknown band of a trimap.

    Growing erodes the foreground and the background each by ``pixels`` (disc
    kernel), so known pixels within ``pixels`` of anything else become unknown;
    on a hard trimap this opens a band at the fg/bg boundary, and
    ``adjust_band(trimap_from_mask(m, 0), k) == trimap_from_mask(m, k)``.

    Shrinking gives every unknown pixel within ``|pixels|`` of a known pixel
    (disc kernel) to the nearest known class (ties go to foreground); unknown
    pixels further away stay unknown.  Known pixels never change class.

    Args:
        trimap: uint8 ``(H, W)`` trimap.
        pixels: Signed amount in pixels; 0 returns a copy.

    Returns:
        uint8 ``(H, W)`` trimap.

    Raises:
        TrimapError: Malformed trimap.
        InputError: Non-integer ``pixels``.
    """
    trimap = check_trimap(trimap)
    pixels = check_pixels(pixels, "pixels", allow_negative=True)
    if pixels == 0:
        return trimap.copy()
    fg = trimap == FOREGROUND
    bg = trimap == BACKGROUND
    if pixels > 0:
        return _compose(erode_mask(fg, pixels), erode_mask(bg, pixels))
    unknown = ~(fg | bg)
    if not unknown.any() or not (fg.any() or bg.any()):
        return trimap.copy()
    freed = unknown & dilate_mask(fg | bg, -pixels)
    to_fg = freed & (distance_to(fg) <= distance_to(bg))
    out = trimap.copy()
    out[to_fg] = FOREGROUND
    out[freed & ~to_fg] = BACKGROUND
    return out


__all__ = [
    "BG_THRESHOLD",
    "DEFAULT_BAND_FRACTION",
    "FG_THRESHOLD",
    "adjust_band",
    "band_radius_for",
    "band_width_for",
    "dilate_mask",
    "distance_to",
    "erode_mask",
    "random_trimap",
    "rebuild_band",
    "trimap_from_alpha",
    "trimap_from_mask",
]
