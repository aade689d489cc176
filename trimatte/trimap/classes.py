"""Trimaps as class-index maps (0 background, 1 unknown, 2 foreground), for classifiers.

A trimap predictor is trained with cross-entropy against :func:`trimap_to_classes`
of a trimap and its argmax is mapped back with :func:`classes_to_trimap`.
"""

from __future__ import annotations

import numpy as np

from trimatte.image import as_trimap

__all__ = ["CLASS_VALUES", "classes_to_trimap", "trimap_to_classes"]

CLASS_VALUES = (0, 128, 255)
"""Trimap value of class index 0 (background), 1 (unknown) and 2 (foreground)."""


def trimap_to_classes(trimap: np.ndarray) -> np.ndarray:
    """Class-index map (int64 ``(H, W)``: 0 bg, 1 unknown, 2 fg) of a trimap, for cross-entropy."""
    trimap = as_trimap(trimap)
    classes = np.ones(trimap.shape, dtype=np.int64)
    classes[trimap == 0] = 0
    classes[trimap == 255] = 2
    return classes


def classes_to_trimap(classes: np.ndarray) -> np.ndarray:
    """uint8 trimap (0/128/255) from a class-index map (0 bg, 1 unknown, 2 fg)."""
    lookup = np.asarray(CLASS_VALUES, dtype=np.uint8)
    return lookup[np.clip(np.asarray(classes), 0, len(CLASS_VALUES) - 1)]
