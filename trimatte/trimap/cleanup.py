"""Clean-up of predicted trimaps: small islands and small enclosed holes.

A trimap predicted by a network (or drawn quickly by hand) has specks: a few
foreground pixels out in the background, a little patch of background inside
the body, a blob of "unknown" in the middle of the subject.  :func:`clean_trimap`
removes them with the following rules, chosen so that clean-up only ever
*withdraws* a doubtful claim and never invents a confident one where the
trimap's own evidence could be wrong.

1. **Fill small unknown holes** (``fill_holes=True``).  A connected unknown
   region smaller than ``min_area`` that is bordered by only one known class and
   does not touch the image border takes that class.  Matting would give it that
   class anyway (there is nothing of the other class to propagate from); filling
   it saves solver time and removes faint speckle from learned refiners.

2. **Small known islands.**  A connected foreground or background region smaller
   than ``min_area`` (the largest region of each class is always kept, so a small
   subject is never erased):

   * a foreground speck bordered only by background becomes **background** --
     an isolated fleck in the background is almost always a false detection;
   * every other small island becomes **unknown** -- in particular a small
     background hole inside the foreground, which may be a real gap (between
     fingers, inside a handle's loop) or noise: painting it foreground would put
     background into the cut-out, so the matting solver decides from the colours.

Rule 1 runs first, on the input, so a foreground fleck with an unknown rim
inside the background (a small detached object, or a false detection) becomes
an unknown blob that matting resolves, not silently erased.
"""

from __future__ import annotations

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.trimap.validate import check_trimap

_SQUARE = np.ones((3, 3), np.uint8)


def area_in_pixels(min_area: float, shape: tuple[int, ...]) -> float:
    """``min_area`` in pixels: itself if >= 1, else that fraction of the image area.

    Raises:
        InputError: Negative or non-finite ``min_area``.
    """
    try:
        value = float(min_area)
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be a number, got {min_area!r}", "min_area") from exc
    if not np.isfinite(value) or value < 0:
        raise InputError(f"must be a finite number >= 0, got {min_area!r}", "min_area")
    return value if value >= 1 else value * shape[0] * shape[1]


def _components(region: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected components of a bool mask: count (incl. label 0), labels, areas."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        region.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S
    )
    return count, labels, stats[:, cv2.CC_STAT_AREA]


def _labels_touching(labels: np.ndarray, count: int, other: np.ndarray) -> np.ndarray:
    """bool per label: does the component have an 8-neighbour in ``other``?"""
    near_other = cv2.dilate(other.astype(np.uint8), _SQUARE).astype(bool)
    touching = np.zeros(count, bool)
    touching[np.unique(labels[near_other])] = True
    return touching


def _labels_on_border(labels: np.ndarray, count: int) -> np.ndarray:
    """bool per label: does the component touch the image border?"""
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    on_border = np.zeros(count, bool)
    on_border[np.unique(border)] = True
    return on_border


def _fill_unknown_holes(trimap: np.ndarray, max_area: float) -> np.ndarray:
    fg = trimap == FOREGROUND
    bg = trimap == BACKGROUND
    count, labels, areas = _components(trimap == UNKNOWN)
    if count <= 1:
        return trimap
    small = areas < max_area
    inner = ~_labels_on_border(labels, count)
    near_fg = _labels_touching(labels, count, fg)
    near_bg = _labels_touching(labels, count, bg)
    small[0] = inner[0] = False
    out = trimap.copy()
    out[(small & inner & near_fg & ~near_bg)[labels]] = FOREGROUND
    out[(small & inner & near_bg & ~near_fg)[labels]] = BACKGROUND
    return out


def _small_islands(region: np.ndarray, max_area: float) -> tuple[int, np.ndarray, np.ndarray]:
    """Labels of ``region`` and a bool per label: small and not the largest component."""
    count, labels, areas = _components(region)
    small = areas < max_area
    small[0] = False
    if count > 1:
        small[1 + int(np.argmax(areas[1:]))] = False
    return count, labels, small


def _remove_small_islands(trimap: np.ndarray, max_area: float) -> np.ndarray:
    unknown = trimap == UNKNOWN
    out = trimap.copy()
    fg_count, fg_labels, fg_small = _small_islands(trimap == FOREGROUND, max_area)
    _, bg_labels, bg_small = _small_islands(trimap == BACKGROUND, max_area)
    if fg_small.any():
        fg_near_unknown = _labels_touching(fg_labels, fg_count, unknown)
        out[(fg_small & ~fg_near_unknown)[fg_labels]] = BACKGROUND
        out[(fg_small & fg_near_unknown)[fg_labels]] = UNKNOWN
    if bg_small.any():
        out[bg_small[bg_labels]] = UNKNOWN
    return out


def clean_trimap(trimap: np.ndarray, *, min_area: float = 0.001,
                 fill_holes: bool = True) -> np.ndarray:
    """Remove small islands and fill small enclosed unknown holes of a trimap.

    See the module documentation for the rules and their rationale.  In short:
    small unknown holes enclosed by a single known class take that class; small
    foreground specks in the background become background; every other small
    known island becomes unknown.  The largest foreground and the largest
    background region are always kept.  Regions are 8-connected.

    Args:
        trimap: uint8 ``(H, W)`` trimap (0/128/255).
        min_area: Regions with fewer pixels than this are "small"; a value below 1
            is a fraction of the image area (default 0.1 %).  0 disables clean-up.
        fill_holes: Apply rule 1 (fill small enclosed unknown holes).

    Returns:
        uint8 ``(H, W)`` cleaned trimap (a new array).

    Raises:
        TrimapError: Malformed trimap.
        InputError: Negative or non-finite ``min_area``.
    """
    trimap = check_trimap(trimap)
    max_area = area_in_pixels(min_area, trimap.shape)
    out = trimap.copy()
    if max_area <= 1:  # nothing has fewer than one pixel
        return out
    if fill_holes:
        out = _fill_unknown_holes(out, max_area)
    return _remove_small_islands(out, max_area)


__all__ = ["area_in_pixels", "clean_trimap"]
