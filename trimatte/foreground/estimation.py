"""Foreground (and background) colour estimation from an image and its alpha matte.

Given an image ``I`` and a matte ``alpha``, find a foreground ``F`` and background
``B`` with ``I ≈ alpha F + (1 - alpha) B`` that vary smoothly where the matte is
smooth. The pixel colours at fractional alpha are mixtures; ``F`` is the
"colour-decontaminated" foreground to composite over a new background.

Method: the multi-level estimation of Germer, Uelwer, Conrad and Harmeling, *Fast
Multi-Level Foreground Estimation* (ICPR 2020). The cost

    sum_i (alpha_i F_i + (1 - alpha_i) B_i - I_i)^2
    + sum_{i ~ j} (eps + w |alpha_i - alpha_j|) (|F_i - F_j|^2 + |B_i - B_j|^2)

(``eps`` = ``regularization``, ``w`` = ``gradient_weight``, ``i ~ j`` 4-neighbours)
is minimised coarse to fine: the image is resized (nearest neighbour) to sizes
``round(W**(l/L)) x round(H**(l/L))`` for ``l = 0..L``, ``L = ceil(log2(max(W, H)))``,
the previous level's ``F`` and ``B`` are upsampled as the start, and a few
block Gauss-Seidel sweeps solve the 2x2 system of each pixel for its (F, B) with the
neighbours held fixed. This implementation is vectorised NumPy: sweeps visit the
pixels in red-black (checkerboard) order, so each half-sweep updates all pixels of
one colour at once from neighbours of the other colour. Where ``alpha == 1`` the
foreground is the image itself (and the background where ``alpha == 0``), which is
enforced exactly after each level.
"""

from __future__ import annotations

import math

import numpy as np

from trimatte.errors import InputError
from trimatte.image import as_alpha, as_image, check_same_size

__all__ = ["estimate_foreground", "estimate_foreground_background"]


def _resize_nearest(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of an ``(h, w, ...)`` array by index selection."""
    h, w = array.shape[:2]
    rows = (np.arange(height) * h) // height
    cols = (np.arange(width) * w) // width
    return array[rows][:, cols]


def _refresh_border(padded: np.ndarray) -> None:
    """Replicate the interior's outermost rows/columns into a one-pixel frame, in place."""
    padded[0, 1:-1] = padded[1, 1:-1]
    padded[-1, 1:-1] = padded[-2, 1:-1]
    padded[:, 0] = padded[:, 1]
    padded[:, -1] = padded[:, -2]


def _solve_level(
    image: np.ndarray,
    alpha: np.ndarray,
    fb: np.ndarray,
    regularization: float,
    gradient_weight: float,
    iterations: int,
) -> np.ndarray:
    """Red-black block Gauss-Seidel sweeps at one level.

    Args:
        image: ``(h, w, 3)`` float32.
        alpha: ``(h, w)`` float32.
        fb: ``(h, w, 6)`` float32 start: foreground in ``[..., :3]``, background in ``[..., 3:]``.

    Returns:
        ``(h, w, 6)`` float32 updated foreground and background.
    """
    h, w = alpha.shape
    a_pad = np.pad(alpha, 1, mode="edge")
    # Neighbour weights eps + w |alpha_i - alpha_j| for up, down, left, right (0 gradient
    # across the border, where the replicated neighbour is the pixel itself).
    shifts = [(slice(0, -2), slice(1, -1)), (slice(2, None), slice(1, -1)),
              (slice(1, -1), slice(0, -2)), (slice(1, -1), slice(2, None))]
    weights = [
        (regularization + gradient_weight * np.abs(alpha - a_pad[sy, sx]))[:, :, None]
        for sy, sx in shifts
    ]
    total = sum(weights)[:, :, 0]
    a = alpha
    a00 = a * a + total
    a11 = (1.0 - a) * (1.0 - a) + total
    a01 = a * (1.0 - a)
    inv_det = 1.0 / (a00 * a11 - a01 * a01)
    m00 = (a11 * inv_det)[:, :, None]
    m01 = (-a01 * inv_det)[:, :, None]
    m11 = (a00 * inv_det)[:, :, None]
    data = np.concatenate([a[:, :, None] * image, (1.0 - a)[:, :, None] * image], axis=2)

    padded = np.pad(fb, ((1, 1), (1, 1), (0, 0)), mode="edge")
    interior = padded[1:-1, 1:-1]
    red = ((np.arange(h)[:, None] + np.arange(w)[None, :]) % 2 == 0)[:, :, None]
    rhs = np.empty_like(data)
    term = np.empty_like(data)
    new = np.empty_like(data)
    half = np.empty_like(data[:, :, :3])
    for _ in range(iterations):
        for colour in (red, ~red):
            np.multiply(weights[0], padded[shifts[0]], out=rhs)
            rhs += data
            for weight, (sy, sx) in zip(weights[1:], shifts[1:], strict=True):
                np.multiply(weight, padded[sy, sx], out=term)
                rhs += term
            rhs_f, rhs_b = rhs[:, :, :3], rhs[:, :, 3:]
            np.multiply(m00, rhs_f, out=new[:, :, :3])
            np.multiply(m01, rhs_b, out=half)
            new[:, :, :3] += half
            np.multiply(m01, rhs_f, out=new[:, :, 3:])
            np.multiply(m11, rhs_b, out=half)
            new[:, :, 3:] += half
            np.clip(new, 0.0, 1.0, out=new)
            np.copyto(interior, new, where=colour)
            _refresh_border(padded)
    fb = padded[1:-1, 1:-1].copy()
    opaque, clear = alpha >= 1.0, alpha <= 0.0
    fb[:, :, :3][opaque] = image[opaque]
    fb[:, :, 3:][clear] = image[clear]
    return fb


def estimate_foreground_background(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    regularization: float = 1e-5,
    gradient_weight: float = 1.0,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate foreground and background colours by multi-level optimisation.

    Args:
        image: ``(H, W, 3)`` RGB image, float in [0, 1] or uint8/uint16.
        alpha: ``(H, W)`` matte, float in [0, 1] or uint8/uint16.
        regularization: Smoothness weight ``eps`` between all neighbours (> 0).
        gradient_weight: Extra smoothness where the matte changes (``w``, >= 0).
        small_iterations: Sweeps per level while both sides are ``<= small_size``.
        big_iterations: Sweeps per level for larger levels.
        small_size: Side length separating small and big levels.

    Returns:
        ``(F, B)``: float32 ``(H, W, 3)`` arrays in [0, 1]. ``F`` equals the image where
        ``alpha == 1`` and ``B`` equals it where ``alpha == 0``.

    Raises:
        InputError: Malformed inputs, different sizes, or invalid parameters.
    """
    image = as_image(image, "image")
    alpha = as_alpha(alpha, "alpha")
    check_same_size(image.shape, alpha.shape, "alpha")
    if not (math.isfinite(regularization) and regularization > 0):
        raise InputError(f"must be a positive number, got {regularization!r}", "regularization")
    if not (math.isfinite(gradient_weight) and gradient_weight >= 0):
        raise InputError(f"must be >= 0, got {gradient_weight!r}", "gradient_weight")
    for name, value in (("small_iterations", small_iterations),
                        ("big_iterations", big_iterations), ("small_size", small_size)):
        if not isinstance(value, int) or value < 0:
            raise InputError(f"must be a non-negative integer, got {value!r}", name)

    height, width = alpha.shape
    levels = max(1, math.ceil(math.log2(max(height, width))))
    mean = image.reshape(-1, 3).mean(axis=0)
    fb = np.concatenate([mean, mean]).astype(np.float32).reshape(1, 1, 6)
    for level in range(levels + 1):
        h = max(1, round(height ** (level / levels)))
        w = max(1, round(width ** (level / levels)))
        small = h <= small_size and w <= small_size
        fb = _solve_level(
            _resize_nearest(image, h, w),
            _resize_nearest(alpha, h, w),
            _resize_nearest(fb, h, w),
            np.float32(regularization),
            np.float32(gradient_weight),
            small_iterations if small else big_iterations,
        )
    return fb[:, :, :3].copy(), fb[:, :, 3:].copy()


def estimate_foreground(
    image: np.ndarray,
    alpha: np.ndarray,
    *,
    regularization: float = 1e-5,
    gradient_weight: float = 1.0,
    small_iterations: int = 10,
    big_iterations: int = 2,
    small_size: int = 32,
) -> np.ndarray:
    """Colour-decontaminated foreground ``F`` with ``I ≈ alpha F + (1 - alpha) B``.

    See :func:`estimate_foreground_background` for the arguments.

    Returns:
        float32 ``(H, W, 3)`` foreground in [0, 1], equal to the image where ``alpha == 1``.
    """
    foreground, _ = estimate_foreground_background(
        image,
        alpha,
        regularization=regularization,
        gradient_weight=gradient_weight,
        small_iterations=small_iterations,
        big_iterations=big_iterations,
        small_size=small_size,
    )
    return foreground
