"""A robust, noise-aware difference between a photo and its (matched) plate.

Where the photo shows the background, ``photo - plate`` is sensor noise (from both
shots) plus what registration leaves: sub-pixel misalignment, which is large only
on the plate's edges. So each channel's residual is divided by its expected size

    s_c(x)^2 = sigma_c^2 + (tolerance * |grad B_c(x)|)^2

(``sigma_c`` the noise of the difference, measured on the image itself;
``tolerance`` the registration error in pixels), the channels are combined as a
root mean square, and the squares are averaged over a small Gaussian window. The
score is ~1 on background and grows with the subject's contrast to the plate, in
units of the noise.

A *shadow* the subject casts darkens the background without changing its colour
or texture: ``photo ≈ a * plate`` with ``a < 1`` (the brightness distortion of
Horprasert, Harwood & Davis 1999) and a small remainder ``photo - a * plate``
(their chromaticity distortion). Such pixels are background, not subject.
"""

from __future__ import annotations

import cv2
import numpy as np

from trimatte.plate.propagate import blur

#: Smallest noise level assumed (a quarter of an 8-bit step), per channel.
MIN_SIGMA = 0.25 / 255.0


def plate_gradient(background: np.ndarray) -> np.ndarray:
    """Per-channel gradient magnitude of the plate (per pixel), float32 ``(H, W, 3)``."""
    gx = cv2.Sobel(background, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(background, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return np.sqrt(gx * gx + gy * gy)


def estimate_noise(photo: np.ndarray, background: np.ndarray, gradient: np.ndarray,
                   valid: np.ndarray | None = None) -> np.ndarray:
    """Standard deviation of ``photo - background`` on flat background, per channel.

    Uses the 25th percentile of ``|photo - background|`` over the flattest half of
    the (valid) pixels; for Gaussian noise that percentile is ``0.3186 sigma``, and
    it is unaffected by a subject covering up to half of those pixels.

    Returns:
        float32 ``(3,)``, at least :data:`MIN_SIGMA`.
    """
    flatness = gradient.max(axis=2)
    usable = np.ones(flatness.shape, bool) if valid is None else valid
    if usable.sum() < 64:
        usable = np.ones(flatness.shape, bool)
    flat = usable & (flatness <= np.quantile(flatness[usable], 0.5))
    residual = np.abs(photo[flat] - background[flat])
    sigma = np.quantile(residual, 0.25, axis=0) / 0.3186
    return np.maximum(sigma, MIN_SIGMA).astype(np.float32)


def expected_residual(sigma: np.ndarray, gradient: np.ndarray, tolerance: float) -> np.ndarray:
    """``s_c(x)``: the residual expected on background, float32 ``(H, W, 3)``."""
    return np.sqrt(sigma[None, None, :] ** 2 + (tolerance * gradient) ** 2).astype(np.float32)


def difference_score(photo: np.ndarray, background: np.ndarray, scale: np.ndarray,
                     smooth: float = 1.0) -> np.ndarray:
    """Noise-normalised colour difference, ~1 on background.

    Args:
        photo: float32 ``(H, W, 3)``.
        background: float32 ``(H, W, 3)``, the plate matched to the photo.
        scale: float32 ``(H, W, 3)`` from :func:`expected_residual`.
        smooth: Gaussian sigma (pixels) over which squared scores are averaged.

    Returns:
        float32 ``(H, W)`` >= 0.
    """
    squared = np.mean(((photo - background) / scale) ** 2, axis=2)
    return np.sqrt(blur(squared, smooth))


def brightness_ratio(photo: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``a = (I . B) / |B|^2``: how much brighter (> 1) or darker (< 1) the photo is."""
    num = np.einsum("ijc,ijc->ij", photo, background)
    den = np.einsum("ijc,ijc->ij", background, background) + 1e-4
    return (num / den).astype(np.float32)


def shadow_mask(photo: np.ndarray, background: np.ndarray, scale: np.ndarray,
                *, darkest: float = 0.4, chroma_threshold: float = 2.5,
                roughness: float = 0.05, smooth: float = 1.5) -> np.ndarray:
    """Pixels where the photo is the plate in shadow: ``photo ≈ a plate``, ``darkest <= a < 1``.

    A cast shadow is a smooth multiplicative field, so besides a small colour
    remainder the ratio ``a`` must vary little around the pixel (local standard
    deviation below ``roughness``): a subject whose colour happens to be a darker
    copy of the plate's seldom follows the plate's texture that closely.

    Args:
        photo, background: float32 ``(H, W, 3)``.
        scale: float32 ``(H, W, 3)`` from :func:`expected_residual`.
        darkest: Smallest brightness ratio taken for a shadow (darker is subject).
        chroma_threshold: Largest noise-normalised colour remainder ``|I - a B| / s``.
        roughness: Largest local standard deviation of the ratio.
        smooth: Gaussian sigma (pixels) of the local averages.

    Returns:
        bool ``(H, W)``.
    """
    raw = brightness_ratio(photo, background)
    ratio = blur(raw, smooth)
    spread = np.sqrt(np.maximum(blur(raw * raw, smooth) - ratio * ratio, 0.0))
    remainder = (photo - ratio[..., None] * background) / scale
    chroma = np.sqrt(blur(np.mean(remainder**2, axis=2), smooth))
    return ((ratio >= darkest) & (ratio < 0.98) & (chroma <= chroma_threshold)
            & (spread <= roughness))
