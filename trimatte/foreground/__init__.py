"""Foreground colours and compositing.

* :mod:`~trimatte.foreground.estimation` -- colour-decontaminated foreground (and
  background) from an image and its alpha (multi-level estimation, Germer et al. 2020);
* :mod:`~trimatte.foreground.compositing` -- the one compositing function
  (``alpha F + (1 - alpha) B``), RGBA cutouts, backgrounds from colour specs or files;
* :mod:`~trimatte.foreground.tiled` -- the same estimation in bounded memory for very
  large images (fine levels tile by tile).
"""

from trimatte.foreground.compositing import (
    checkerboard,
    composite,
    cutout,
    load_background,
    parse_color,
)
from trimatte.foreground.estimation import estimate_foreground, estimate_foreground_background
from trimatte.foreground.tiled import estimate_foreground_tiled

__all__ = [
    "checkerboard",
    "composite",
    "cutout",
    "estimate_foreground",
    "estimate_foreground_background",
    "estimate_foreground_tiled",
    "load_background",
    "parse_color",
]
