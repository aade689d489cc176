"""Trimaps: building, reshaping, cleaning and checking them, and GrabCut masks.

Modules:

* :mod:`~trimatte.trimap.morphology` -- unknown bands from masks and alpha mattes,
  random training trimaps, band rebuilding and growing/shrinking;
* :mod:`~trimatte.trimap.cleanup` -- removal of small islands and holes in predicted trimaps;
* :mod:`~trimatte.trimap.validate` -- format and mattability checks, trimap statistics;
* :mod:`~trimatte.trimap.grabcut` -- OpenCV GrabCut from a rectangle, mask or scribbles.
"""

from trimatte.trimap.cleanup import clean_trimap
from trimatte.trimap.grabcut import grabcut_mask, grabcut_mask_from_trimap, grabcut_trimap
from trimatte.trimap.morphology import (
    adjust_band,
    band_width_for,
    random_trimap,
    rebuild_band,
    trimap_from_alpha,
    trimap_from_mask,
)
from trimatte.trimap.validate import trimap_stats, validate_trimap

__all__ = [
    "adjust_band",
    "band_width_for",
    "clean_trimap",
    "grabcut_mask",
    "grabcut_mask_from_trimap",
    "grabcut_trimap",
    "random_trimap",
    "rebuild_band",
    "trimap_from_alpha",
    "trimap_from_mask",
    "trimap_stats",
    "validate_trimap",
]
