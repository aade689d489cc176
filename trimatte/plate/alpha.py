"""Alpha with the background known at every pixel, and the decontaminated foreground.

With ``B`` known, ``I = alpha F + (1 - alpha) B`` leaves ``alpha`` and ``F``; for a
guess of ``F`` the best alpha is the projection

    alpha = ((I - B) . (F - B)) / |F - B|^2

and the remainder ``|I - (alpha F + (1 - alpha) B)|`` says how well that guess
explains the pixel. Candidate ``F`` come from the sure-foreground pixels nearby,
spread at several scales (:func:`trimatte.plate.propagate.fill`); each unknown
pixel takes the candidate with the smallest remainder (in noise units). Its
confidence grows with the contrast ``|F - B|`` (in noise units) and falls with the
remainder: where the subject's colour equals the plate's, nothing is known.

These per-pixel estimates are the data term of a closed-form solve (as in robust
matting, Wang & Cohen 2007): minimise

    alpha^T L alpha + sum_i w_i (alpha_i - alpha_hat_i)^2 + lambda sum_known (alpha_i - t_i)^2

with ``L`` the matting Laplacian of Levin et al. (2008) and ``w_i = data_weight *
confidence_i``, so the local colour-line model fills in where the plate says
little. The foreground follows from the compositing equation,
``F = (I - (1 - alpha) B) / alpha``, where alpha is large enough for that to be
stable, and from multi-level estimation elsewhere.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from trimatte.errors import TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.matting.closed_form import constrained_system, free_pixels, solve_spd
from trimatte.matting.laplacian import check_laplacian_parameters
from trimatte.plate.propagate import fill

#: Gaussian scales (pixels) at which foreground colours are spread into the unknown band.
CANDIDATE_SCALES = (2.0, 6.0, 18.0, 54.0)


def per_pixel_alpha(photo: np.ndarray, background: np.ndarray, scale: np.ndarray,
                    sure_foreground: np.ndarray, *,
                    scales: tuple[float, ...] = CANDIDATE_SCALES,
                    contrast: float = 5.0,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Alpha and confidence of every pixel from the compositing equation.

    Args:
        photo: float32 ``(H, W, 3)``.
        background: float32 ``(H, W, 3)``: the known background.
        scale: float32 ``(H, W, 3)``: residual expected on background (noise).
        sure_foreground: bool ``(H, W)``: pixels whose colour is pure foreground.
        scales: Spreading scales of the foreground candidates, in pixels.
        contrast: ``|F - B|`` (noise units) at which confidence reaches one half.

    Returns:
        ``(alpha, confidence, separation, foreground)``: float32 ``(H, W)`` in [0, 1];
        float32 ``(H, W)`` in [0, 1], the weight of the estimate; float32 ``(H, W)`` in
        [0, 1], the part of it that measures how far ``F`` is from ``B``
        (``c^2 / (c^2 + contrast^2)`` with ``c = |F - B|`` in noise units, 0 where the
        subject's colour equals the plate's); and float32 ``(H, W, 3)`` the chosen ``F``.
    """
    diff = photo - background
    best = np.full(photo.shape[:2], np.inf, np.float32)
    alpha = np.zeros(photo.shape[:2], np.float32)
    contrast2 = np.zeros(photo.shape[:2], np.float32)
    chosen = np.zeros_like(photo)
    for sigma in scales:
        candidate, level = fill(photo, sure_foreground, (sigma,))
        usable = level == 0
        v = candidate - background
        vv = np.einsum("ijc,ijc->ij", v, v)
        a = np.clip(np.einsum("ijc,ijc->ij", diff, v) / (vv + 1e-8), 0.0, 1.0)
        remainder = np.mean(((diff - a[..., None] * v) / scale) ** 2, axis=2)
        better = usable & (remainder < best)
        best[better] = remainder[better]
        alpha[better] = a[better]
        chosen[better] = candidate[better]
        contrast2[better] = np.mean((v / scale) ** 2, axis=2)[better]
    found = np.isfinite(best)
    separation = (contrast2 / (contrast2 + contrast**2)).astype(np.float32)
    separation[~found] = 0.0
    confidence = separation * np.exp(-0.5 * np.where(found, best, 0))
    return alpha, confidence.astype(np.float32), separation, chosen


def plate_alpha(photo: np.ndarray, trimap: np.ndarray, background: np.ndarray,
                scale: np.ndarray, *, data_weight: float = 0.02, epsilon: float = 1e-7,
                window_radius: int = 1, lambda_: float = 100.0,
                contrast: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Alpha matte given the background at every pixel.

    Args:
        photo: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)``: the unknown region is solved, the rest kept.
        background: float32 ``(H, W, 3)``: the known background (matched plate).
        scale: float32 ``(H, W, 3)``: residual expected on background.
        data_weight: Weight of the per-pixel estimates against the Laplacian (0: plain
            closed-form matting).
        epsilon, window_radius: Matting Laplacian parameters.
        lambda_: Weight of the trimap's known pixels.
        contrast: See :func:`per_pixel_alpha`.

    Returns:
        ``(alpha, confidence)``: float32 ``(H, W)`` in [0, 1], and float32 ``(H, W)`` in
        [0, 1]: 1 on known pixels, on unknown ones the separation of subject and plate
        colours (see :func:`per_pixel_alpha`; low where they are alike).

    Raises:
        TrimapError: Unknown pixels but no foreground or no background in the trimap.
    """
    eps, r = check_laplacian_parameters(epsilon, window_radius)
    sure_fg = trimap == FOREGROUND
    unknown = trimap == UNKNOWN
    alpha = sure_fg.astype(np.float32)
    confidence = np.ones(trimap.shape, np.float32)
    if not unknown.any():
        return alpha, confidence
    if not sure_fg.any() or not (trimap == BACKGROUND).any():
        raise TrimapError("needs both sure foreground and sure background around the unknown "
                          "region", "trimap")
    estimate, data_confidence, separation, _ = per_pixel_alpha(
        photo, background, scale, sure_fg, contrast=contrast)
    confidence[unknown] = separation[unknown]
    free = free_pixels(unknown, r, lambda_)
    matrix, rhs = constrained_system(photo, trimap, free, eps, r, lambda_)
    free_flat = np.flatnonzero(free)
    weights = (data_weight * data_confidence * unknown).reshape(-1)[free_flat].astype(np.float64)
    guess = np.where(unknown, estimate, alpha).reshape(-1)[free_flat].astype(np.float64)
    matrix = (matrix + scipy.sparse.diags(weights)).tocsr()
    rhs = rhs + weights * guess
    rhs -= matrix @ guess
    correction, _ = solve_spd(matrix, rhs)
    alpha.reshape(-1)[free_flat] = guess + correction
    np.clip(alpha, 0.0, 1.0, out=alpha)
    alpha[sure_fg] = 1.0
    alpha[trimap == BACKGROUND] = 0.0
    return alpha, confidence


def plate_foreground(photo: np.ndarray, alpha: np.ndarray, background: np.ndarray, *,
                     stable_alpha: float = 0.2) -> np.ndarray:
    """Colour-decontaminated foreground, using the known background.

    ``F = (I - (1 - alpha) B) / alpha`` is exact but amplifies noise as alpha
    shrinks; it is blended with the multi-level estimate
    (:func:`trimatte.foreground.estimation.estimate_foreground`) by the weight
    ``alpha^2 / (alpha^2 + stable_alpha^2)``.

    Args:
        photo: float32 ``(H, W, 3)``.
        alpha: float32 ``(H, W)``.
        background: float32 ``(H, W, 3)``.
        stable_alpha: Alpha at which both estimates weigh the same.

    Returns:
        float32 ``(H, W, 3)`` in [0, 1]; equal to the photo where alpha is 1.
    """
    from trimatte.foreground.estimation import estimate_foreground

    fallback = estimate_foreground(photo, alpha)
    a = alpha[..., None]
    direct = (photo - (1.0 - a) * background) / np.maximum(a, 1e-3)
    weight = a**2 / (a**2 + stable_alpha**2)
    weight = np.where(a >= 1.0, 1.0, weight)
    return np.clip(weight * direct + (1.0 - weight) * fallback, 0.0, 1.0).astype(np.float32)
