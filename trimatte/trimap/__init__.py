"""Trimaps: building, reshaping, cleaning and checking them, and GrabCut masks.

Modules:

* :mod:`~trimatte.trimap.morphology` -- unknown bands from masks and alpha mattes,
  random training trimaps, band rebuilding and growing/shrinking;
* :mod:`~trimatte.trimap.cleanup` -- removal of small islands and holes in predicted trimaps;
* :mod:`~trimatte.trimap.validate` -- format and mattability checks, trimap statistics;
* :mod:`~trimatte.trimap.grabcut` -- OpenCV GrabCut from a rectangle, mask or scribbles;
* :mod:`~trimatte.trimap.classes` -- trimaps as class-index maps for trimap classifiers.

The unknown band is sized by ``band_radius`` (pixels) or ``band_fraction`` (of the
long side), default :data:`~trimatte.trimap.morphology.DEFAULT_BAND_FRACTION`.
"""

from trimatte.trimap.classes import CLASS_VALUES, classes_to_trimap, trimap_to_classes
from trimatte.trimap.cleanup import clean_trimap
from trimatte.trimap.grabcut import grabcut_mask, grabcut_mask_from_trimap, grabcut_trimap
from trimatte.trimap.morphology import (
    DEFAULT_BAND_FRACTION,
    adjust_band,
    band_radius_for,
    band_width_for,
    random_trimap,
    rebuild_band,
    trimap_from_alpha,
    trimap_from_mask,
)
from trimatte.trimap.validate import trimap_stats, validate_trimap

__all__ = [
    "CLASS_VALUES",
    "DEFAULT_BAND_FRACTION",
    "adjust_band",
    "band_radius_for",
    "band_width_for",
    "classes_to_trimap",
    "clean_trimap",
    "grabcut_mask",
    "grabcut_mask_from_trimap",
    "grabcut_trimap",
    "random_trimap",
    "rebuild_band",
    "trimap_from_alpha",
    "trimap_from_mask",
    "trimap_stats",
    "trimap_to_classes",
    "validate_trimap",
]
