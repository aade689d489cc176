"""Training and evaluation data: datasets, splits and DIM-style augmentation.

Importing this package imports no torch; import the modules you need:
:mod:`~trimatte.data.folders` (image/alpha folders), :mod:`~trimatte.data.aisegment`,
:mod:`~trimatte.data.celeba`, :mod:`~trimatte.data.splits`, :mod:`~trimatte.data.augment`
(crops, resizing, compositing for training), :mod:`~trimatte.data.datasets` (torch
datasets), :mod:`~trimatte.data.engine`, :mod:`~trimatte.data.synthetic`,
:mod:`~trimatte.data.subjects`, :mod:`~trimatte.data.trimap_photos` and
:mod:`~trimatte.data.guide_pool` (the data engine and its sample pools).
"""

__all__ = [
    "aisegment",
    "augment",
    "celeba",
    "datasets",
    "engine",
    "folders",
    "guide_pool",
    "splits",
    "subjects",
    "synthetic",
    "trimap_photos",
]
