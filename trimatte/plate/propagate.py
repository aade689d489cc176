"""Spread values from trusted pixels to their neighbourhood (normalised convolution).

``fill(values, weights, sigmas)`` estimates, at every pixel, the weighted local mean
of ``values`` over the pixels with weight > 0, at the finest of several Gaussian
scales where enough weight is nearby (Knutsson & Westin's normalised convolution,
coarse scales computed on downscaled copies so that a wide kernel stays cheap).
Used for the background's local gain (shadows) and the foreground colour of
mixed pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def blur(array: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float32 ``(H, W)`` or ``(H, W, C)`` array (C <= 4).

    Wide kernels run on a copy downscaled so that the kernel is ~4 px there.
    """
    array = np.ascontiguousarray(array, dtype=np.float32)
    if sigma <= 0:
        return array
    h, w = array.shape[:2]
    factor = max(1.0, sigma / 4.0)
    if factor <= 1.5:
        return cv2.GaussianBlur(array, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    small_size = (max(1, round(w / factor)), max(1, round(h / factor)))
    small = cv2.resize(array, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return out.reshape(array.shape)


def fill(values: np.ndarray, weights: np.ndarray, sigmas: Sequence[float], *,
         min_density: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Weighted local mean of ``values`` at the finest scale with enough support.

    Args:
        values: float32 ``(H, W, C)`` (C <= 3) or ``(H, W)``.
        weights: float32 or bool ``(H, W)``, >= 0; 0 where a value is not to be trusted.
        sigmas: Gaussian scales in pixels, finest first.
        min_density: A scale is used where the blurred weight is at least this.

    Returns:
        ``(filled, level)``: float32 like ``values``; int8 ``(H, W)`` index of the
        scale used (``len(sigmas)`` where even the coarsest had too little support and
        the global weighted mean was used).
    """
    squeeze = values.ndim == 2
    v = values[..., None] if squeeze else values
    w = np.asarray(weights, np.float32)
    weighted = v * w[..., None]
    out = np.empty_like(v, dtype=np.float32)
    level = np.full(w.shape, len(sigmas), np.int8)
    todo = np.ones(w.shape, bool)
    for index, sigma in enumerate(sigmas):
        density = blur(w, sigma)
        take = todo & (density >= min_density)
        if take.any():
            numerator = blur(weighted, sigma).reshape(v.shape)
            out[take] = numerator[take] / density[take, None]
            level[take] = index
            todo &= ~take
        if not todo.any():
            break
    if todo.any():
        total = float(w.sum())
        mean = weighted.reshape(-1, v.shape[-1]).sum(0) / total if total > 0 else 0.0
        out[todo] = mean
    return (out[..., 0] if squeeze else out), level
