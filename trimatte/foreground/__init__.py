"""Foreground colours and compositing.

* :mod:`~trimatte.foreground.estimation` -- colour-decontaminated foreground (and
  background) from an image and its alpha (multi-level estimation, Germer et al. 2020);
* :mod:`~trimatte.foreground.compositing` -- the one compositing function
  (``alpha F + (1 - alpha) B``), RGBA cutouts, backgrounds from colour specs or files.
"""

from trimatte.foreground.compositing import (
    checkerboard,
    composite,
    cutout,
    load_background,
    parse_color,
)
from trimatte.foreground.estimation import estimate_foreground, estimate_foreground_background

__all__ = [
    "checkerboard",
    "composite",
    "cutout",
    "estimate_foreground",
    "estimate_foreground_background",
    "load_background",
    "parse_color",
]
