"""Matting with a captured background plate (a photo of the empty scene).

Functional core, one module per step:

* :mod:`~trimatte.plate.align`: register the plate to the photo (ECC, feature fallback).
* :mod:`~trimatte.plate.exposure`: match the plate's exposure and colour (trimmed least squares).
* :mod:`~trimatte.plate.difference`: noise-aware difference and shadow detection.
* :mod:`~trimatte.plate.propagate`: normalised convolution used to spread values.
* :mod:`~trimatte.plate.background`: the three steps above chained (:func:`match_plate`).
* :mod:`~trimatte.plate.segment`: the trimap, the shadow-corrected plate and the confidence.
* :mod:`~trimatte.plate.alpha`: alpha and foreground with the background known.

The pipeline stages (``plate``, ``plate-alpha``, ``plate-foreground``) live in
:mod:`trimatte.stages.plate`.
"""

from trimatte.plate.align import Alignment, AlignmentError, estimate_alignment, warp_plate
from trimatte.plate.alpha import per_pixel_alpha, plate_alpha, plate_foreground
from trimatte.plate.background import PlateMatch, match_plate
from trimatte.plate.exposure import ColourTransform, fit_colour_transform
from trimatte.plate.segment import PlateSegmentation, plate_trimap

__all__ = [
    "Alignment",
    "AlignmentError",
    "ColourTransform",
    "PlateMatch",
    "PlateSegmentation",
    "estimate_alignment",
    "fit_colour_transform",
    "match_plate",
    "per_pixel_alpha",
    "plate_alpha",
    "plate_foreground",
    "plate_trimap",
    "warp_plate",
]
