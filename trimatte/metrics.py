"""Alpha-matte error metrics defined as in the Deep Image Matting evaluation code.

The four standard matting metrics (SAD, MSE, gradient error, connectivity error)
follow the MATLAB evaluation code published with Xu et al., *Deep Image Matting*
(CVPR 2017): ``compute_sad_loss.m``, ``compute_mse_loss.m``,
``compute_gradient_loss.m`` with ``gaussgradient.m``, and
``compute_connectivity_error.m``, including the ``/1000`` that the evaluation
driver applies to the gradient and connectivity errors. Every metric is summed or
averaged over the trimap's *unknown* pixels (``trimap == 128``) only.

=========  ================================================================  ==========
key        definition (sums over unknown pixels U)                           scale
=========  ================================================================  ==========
``SAD``    ``sum |p - g|``                                                   ``/ 1000``
``MSE``    ``sum (p - g)**2 / |U|``                                          none
``Grad``   ``sum (|grad_s(mat2gray p)| - |grad_s(mat2gray g)|)**2``, s=1.4    ``/ 1000``
``Conn``   ``sum |phi(p) - phi(g)|`` with ``phi = 1 - d * [d >= 0.15]``,      ``/ 1000``
           ``d = alpha - l`` and ``l`` the connectivity level (step 0.1)
=========  ================================================================  ==========

``p`` and ``g`` are alpha values in [0, 1]. The MATLAB code receives 8-bit PNGs and
divides by 255; here float mattes are used as given, and ``quantize=True`` first
rounds both mattes to 8 bits exactly as writing and re-reading PNGs would. Mattes
that are already 8-bit (uint8 arrays, or float arrays read from 8-bit PNGs) give the
same numbers with or without ``quantize``. The connectivity error reproduces
MATLAB's single-precision arithmetic (``single(pred)/255`` compared with double
thresholds), which decides ties such as alpha ``153/255`` against the level 0.6.

A trimap without unknown pixels makes the MSE ``0/0``; MATLAB returns NaN and so
does :func:`mse` (with a :class:`~trimatte.errors.TrimatteWarning`), while SAD, Grad
and Conn are empty sums and return 0.0. See ``docs/metrics.md`` for the formulas
and how this module was checked against an independent implementation.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import ndimage

from trimatte.errors import InputError, TrimatteWarning
from trimatte.image import UNKNOWN, as_alpha, as_trimap

__all__ = [
    "compute_metrics",
    "connectivity_error",
    "connectivity_levels",
    "dtssd",
    "gaussian_gradient",
    "gaussian_gradient_kernel",
    "gradient_error",
    "ground_truth_flow",
    "largest_component",
    "mat2gray",
    "messddt",
    "mse",
    "sad",
    "video_metrics",
]

GRADIENT_SIGMA: float = 1.4
CONNECTIVITY_STEP: float = 0.1
CONNECTIVITY_THRESHOLD: float = 0.15
_FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


# ----------------------------------------------------------------------------- inputs


def _alpha_levels(alpha: np.ndarray, quantize: bool) -> np.ndarray:
    """float64 alpha in [0, 1]; exact ``k / 255`` when the matte is 8-bit."""
    codes = np.rint(alpha.astype(np.float64) * 255.0)
    is_8bit = np.array_equal((codes.astype(np.float32) / np.float32(255.0)), alpha)
    if quantize or is_8bit:
        return codes / 255.0
    return alpha.astype(np.float64)


def _prepare(
    pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, quantize: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check and coerce the three inputs; returns float64 pred, gt and the unknown mask."""
    pred32 = as_alpha(pred, "pred")
    gt32 = as_alpha(gt, "gt")
    tri = as_trimap(trimap, "trimap")
    for name, shape in (("gt", gt32.shape), ("trimap", tri.shape)):
        if shape != pred32.shape:
            raise InputError(
                f"size {shape[1]}x{shape[0]} (WxH) does not match pred's "
                f"{pred32.shape[1]}x{pred32.shape[0]}",
                name,
            )
    return _alpha_levels(pred32, quantize), _alpha_levels(gt32, quantize), tri == UNKNOWN


# ----------------------------------------------------------------------------- SAD / MSE


def sad(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, *, quantize: bool = False) -> float:
    """Sum of absolute differences over the unknown region, divided by 1000.

    Args:
        pred: Predicted alpha, ``(H, W)`` float in [0, 1] or uint8/uint16.
        gt: Ground-truth alpha, same size and conventions as ``pred``.
        trimap: ``(H, W)`` trimap (uint8 0/128/255); only ``128`` pixels count.
        quantize: Round both mattes to 8 bits first (as the PNG-based DIM evaluation).

    Returns:
        ``sum(|pred - gt| over unknown) / 1000``; 0.0 when nothing is unknown.

    Raises:
        InputError: An input is malformed or the sizes differ (the message names it).
    """
    return _sad(*_prepare(pred, gt, trimap, quantize))


def _sad(p: np.ndarray, g: np.ndarray, unknown: np.ndarray) -> float:
    return float(np.abs(p - g)[unknown].sum() / 1000.0)


def mse(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, *, quantize: bool = False) -> float:
    """Mean squared error over the unknown region (no extra scaling).

    Arguments as :func:`sad`.

    Returns:
        ``mean((pred - gt)**2 over unknown)``. NaN, with a
        :class:`~trimatte.errors.TrimatteWarning`, when the trimap has no unknown
        pixel (MATLAB's ``0/0``).
    """
    return _mse(*_prepare(pred, gt, trimap, quantize))


def _mse(p: np.ndarray, g: np.ndarray, unknown: np.ndarray) -> float:
    count = int(unknown.sum())
    if count == 0:
        warnings.warn(
            "trimap: no unknown (128) pixels, MSE is undefined and returned as NaN",
            TrimatteWarning,
            stacklevel=3,
        )
        return math.nan
    return float(np.square(p - g)[unknown].sum() / count)


# ----------------------------------------------------------------------------- gradient


def mat2gray(array: np.ndarray) -> np.ndarray:
    """Stretch an array linearly so its minimum becomes 0 and its maximum 1.

    Follows MATLAB's ``mat2gray``: a constant array is returned as itself (in
    float64) clipped to [0, 1], because its range cannot be stretched.

    Args:
        array: Any real 2-D array.

    Returns:
        float64 array of the same shape, values in [0, 1].
    """
    values = np.asarray(array, dtype=np.float64)
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        return np.clip(values, 0.0, 1.0)
    return np.clip((values - lo) / (hi - lo), 0.0, 1.0)


def gaussian_gradient_kernel(
    sigma: float = GRADIENT_SIGMA, epsilon: float = 1e-2
) -> tuple[np.ndarray, np.ndarray]:
    """Separable factors of the derivative-of-Gaussian kernel of ``gaussgradient.m``.

    The 2-D x-derivative kernel is ``h[r, c] = G(r) * G'(c)`` on offsets
    ``-n..n`` with ``n = ceil(sigma * sqrt(-2 ln(sqrt(2 pi) sigma epsilon)))``
    (``n = 4`` for sigma 1.4), ``G`` the normalised Gaussian and ``G'(x) = -x G(x) /
    sigma**2``, scaled to unit Euclidean (Frobenius) norm. The y kernel is its
    transpose.

    Returns:
        ``(smooth, derivative)``: float64 vectors of length ``2n + 1`` whose outer
        product ``np.outer(smooth, derivative)`` is the unit-norm x kernel.
    """
    half = math.ceil(sigma * math.sqrt(-2.0 * math.log(math.sqrt(2.0 * math.pi) * sigma * epsilon)))
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    smooth = np.exp(-(offsets**2) / (2.0 * sigma**2)) / (sigma * math.sqrt(2.0 * math.pi))
    derivative = -offsets * smooth / sigma**2
    # ||outer(a, b)||_F = ||a|| * ||b||: split the normalisation between the factors.
    return smooth / np.linalg.norm(smooth), derivative / np.linalg.norm(derivative)


def gaussian_gradient(
    image: np.ndarray, sigma: float = GRADIENT_SIGMA
) -> tuple[np.ndarray, np.ndarray]:
    """x and y derivative-of-Gaussian responses, replicate border, true convolution.

    Equivalent to MATLAB ``imfilter(image, h, 'replicate', 'conv')`` with the
    kernels of :func:`gaussian_gradient_kernel`, computed separably.

    Args:
        image: ``(H, W)`` real array.
        sigma: Gaussian standard deviation in pixels.

    Returns:
        ``(gx, gy)``, float64 arrays of shape ``(H, W)``.
    """
    smooth, derivative = gaussian_gradient_kernel(sigma)
    values = np.asarray(image, dtype=np.float64)
    gx = ndimage.convolve1d(values, smooth, axis=0, mode="nearest")
    gx = ndimage.convolve1d(gx, derivative, axis=1, mode="nearest")
    gy = ndimage.convolve1d(values, smooth, axis=1, mode="nearest")
    gy = ndimage.convolve1d(gy, derivative, axis=0, mode="nearest")
    return gx, gy


def gradient_error(
    pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, *, quantize: bool = False
) -> float:
    """Gradient error: squared difference of gradient magnitudes, divided by 1000.

    Each matte is first stretched by :func:`mat2gray` (independently), then
    differentiated by :func:`gaussian_gradient` (sigma 1.4); magnitudes are rounded
    to float32 as MATLAB's ``single()`` does. Arguments as :func:`sad`.

    Returns:
        ``sum((|grad pred| - |grad gt|)**2 over unknown) / 1000``.
    """
    return _gradient_error(*_prepare(pred, gt, trimap, quantize))


def _gradient_error(p: np.ndarray, g: np.ndarray, unknown: np.ndarray) -> float:
    if not unknown.any():
        return 0.0
    magnitudes = []
    for alpha in (p, g):
        gx, gy = gaussian_gradient(mat2gray(alpha))
        magnitudes.append(np.sqrt(gx**2 + gy**2).astype(np.float32))
    error = np.square(magnitudes[0] - magnitudes[1]).astype(np.float64)
    return float(error[unknown].sum() / 1000.0)


# ----------------------------------------------------------------------------- connectivity


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected component of a boolean mask.

    Ties go to the component met first in MATLAB's column-major scan (what
    ``bwconncomp`` followed by ``max`` selects). An empty mask gives an empty result.

    Args:
        mask: ``(H, W)`` boolean array.

    Returns:
        ``(H, W)`` boolean array, True on the largest component.
    """
    # Labelling the transpose numbers components in column-major order of the original.
    labels_t, count = ndimage.label(np.asarray(mask, dtype=bool).T, structure=_FOUR_CONNECTED)
    if count == 0:
        return np.zeros(np.shape(mask), dtype=bool)
    sizes = np.bincount(labels_t.ravel())[1:]
    return (labels_t == int(np.argmax(sizes)) + 1).T


def _thresholds(step: float) -> np.ndarray:
    """MATLAB ``0:step:1`` as float32 (the precision the comparisons happen in)."""
    if not (isinstance(step, (int, float)) and 0.0 < step <= 1.0):
        raise InputError(f"must be a number in (0, 1], got {step!r}", "step")
    count = math.floor(1.0 / step + 1e-10) + 1
    return (np.arange(count, dtype=np.float64) * step).astype(np.float32)


def connectivity_levels(pred: np.ndarray, gt: np.ndarray, step: float = CONNECTIVITY_STEP):
    """The connectivity level ``l`` of every pixel (``l_map`` of the DIM code).

    For thresholds ``t_1 < t_2 < ...`` of ``0:step:1``, ``omega_i`` is the largest
    4-connected component of ``(pred >= t_i) & (gt >= t_i)``. A pixel's level is the
    threshold just below the first ``t_i`` at which it leaves ``omega_i``, and 1 if
    it never leaves.

    Args:
        pred: ``(H, W)`` float32 alpha (single precision as in MATLAB).
        gt: ``(H, W)`` float32 alpha.
        step: Threshold step.

    Returns:
        ``(H, W)`` float32 levels.
    """
    thresholds = _thresholds(step)
    level = np.full(np.shape(pred), -1.0, dtype=np.float32)
    for i in range(1, thresholds.size):
        omega = largest_component((pred >= thresholds[i]) & (gt >= thresholds[i]))
        level[(level == -1.0) & ~omega] = thresholds[i - 1]
    level[level == -1.0] = 1.0
    return level


def connectivity_error(
    pred: np.ndarray,
    gt: np.ndarray,
    trimap: np.ndarray,
    step: float = CONNECTIVITY_STEP,
    *,
    quantize: bool = False,
) -> float:
    """Connectivity error of ``compute_connectivity_error.m``, divided by 1000.

    With ``l`` from :func:`connectivity_levels` and ``d = alpha - l``, each matte's
    degree of connectivity is ``phi = 1 - d * [d >= 0.15]``; the error is the sum of
    ``|phi(pred) - phi(gt)|`` over unknown pixels. Arithmetic is in float32 like the
    MATLAB code. The DIM code also computes distance maps (``bwdist``) that never
    enter the result; they are not computed here.

    Args:
        pred, gt, trimap, quantize: As :func:`sad`.
        step: Threshold step (0.1 in all published results).

    Returns:
        ``sum(|phi(pred) - phi(gt)| over unknown) / 1000``.
    """
    return _connectivity_error(*_prepare(pred, gt, trimap, quantize), step)


def _connectivity_error(
    p: np.ndarray, g: np.ndarray, unknown: np.ndarray, step: float = CONNECTIVITY_STEP
) -> float:
    p32, g32 = p.astype(np.float32), g.astype(np.float32)
    level = connectivity_levels(p32, g32, step)
    threshold = np.float32(CONNECTIVITY_THRESHOLD)
    phis = []
    for alpha in (p32, g32):
        d = alpha - level
        phis.append(np.float32(1.0) - d * (d >= threshold).astype(np.float32))
    error = np.abs(phis[0] - phis[1]).astype(np.float64)
    return float(error[unknown].sum() / 1000.0)


# ----------------------------------------------------------------------------- all four


def compute_metrics(
    pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray, *, quantize: bool = False
) -> dict[str, float]:
    """All four DIM metrics at once.

    Arguments as :func:`sad`.

    Returns:
        ``{"SAD": ..., "MSE": ..., "Grad": ..., "Conn": ...}`` (floats; MSE is NaN when
        the trimap has no unknown pixel).
    """
    prepared = _prepare(pred, gt, trimap, quantize)
    return {
        "SAD": _sad(*prepared),
        "MSE": _mse(*prepared),
        "Grad": _gradient_error(*prepared),
        "Conn": _connectivity_error(*prepared),
    }


# ----------------------------------------------------------------------------- video

# Temporal-coherence metrics of the video-matting benchmark of Erofeev, Gitman, Vatolin,
# Fedorov and Wang, "Perceptually Motivated Benchmark for Video Matting" (BMVC 2015,
# videomatting.com). For a pair of frames (t-1, t), with alpha p, ground truth g, the
# evaluation region M (all pixels by default) and the ground truth's motion v from t-1
# to t:
#
#   dtSSD_t   = sqrt( sum_{q in M} ((p_t(q) - p_{t-1}(q)) - (g_t(q) - g_{t-1}(q)))^2 )
#   MESSDdt_t = sum_{q in M} | (p_{t-1}(q) - g_{t-1}(q))^2
#                              - (p_t(q + v(q)) - g_t(q + v(q)))^2 |
#
# and a clip's value is the mean over its frame pairs. dtSSD penalises a temporal change
# of alpha that the ground truth does not have (flicker); MESSDdt compares the error of
# a pixel with the error at the same scene point in the next frame (an error that moves
# with the subject is consistent, one that comes and goes is not).


def _video_pair(pred_prev, pred, gt_prev, gt, mask):
    arrays = [as_alpha(a, n).astype(np.float64) for a, n in
              ((pred_prev, "pred_prev"), (pred, "pred"), (gt_prev, "gt_prev"), (gt, "gt"))]
    shape = arrays[0].shape
    for array, name in zip(arrays[1:], ("pred", "gt_prev", "gt"), strict=True):
        if array.shape != shape:
            raise InputError(f"size {array.shape} does not match pred_prev's {shape}", name)
    region = np.ones(shape, bool) if mask is None else np.asarray(mask, bool)
    if region.shape != shape:
        raise InputError(f"size {region.shape} does not match the mattes' {shape}", "mask")
    return (*arrays, region)


def dtssd(pred_prev: np.ndarray, pred: np.ndarray, gt_prev: np.ndarray, gt: np.ndarray,
          mask: np.ndarray | None = None) -> float:
    """dtSSD of one frame pair (Erofeev et al. 2015): error of the temporal derivative.

    ``sqrt(sum over mask of ((pred - pred_prev) - (gt - gt_prev))**2)``; see the
    comment above this function for the definition and the clip average.

    Args:
        pred_prev, pred: Predicted alpha of frames t-1 and t, ``(H, W)`` in [0, 1].
        gt_prev, gt: Ground-truth alpha of the same frames.
        mask: Optional bool ``(H, W)`` evaluation region (all pixels when None).

    Returns:
        The value for this pair (0 when prediction and truth change alike).
    """
    p0, p1, g0, g1, region = _video_pair(pred_prev, pred, gt_prev, gt, mask)
    diff = (p1 - p0) - (g1 - g0)
    return float(np.sqrt(np.square(diff)[region].sum()))


def ground_truth_flow(gt_prev: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Motion of the ground-truth matte from t-1 to t (Farneback on the 8-bit mattes).

    Returns:
        float32 ``(H, W, 2)`` ``(dx, dy)`` with ``gt_prev[q] ~ gt[q + v[q]]``.
    """
    import cv2

    a = np.rint(as_alpha(gt_prev, "gt_prev") * 255).astype(np.uint8)
    b = np.rint(as_alpha(gt, "gt") * 255).astype(np.uint8)
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 5, 10, 2, 7, 1.5,
                                        cv2.OPTFLOW_FARNEBACK_GAUSSIAN)


def messddt(pred_prev: np.ndarray, pred: np.ndarray, gt_prev: np.ndarray, gt: np.ndarray,
            flow: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
    """MESSDdt of one frame pair (Erofeev et al. 2015): motion-compensated error change.

    ``sum over mask of |E_{t-1}(q) - E_t(q + v(q))|`` with ``E = (pred - gt)**2`` and
    ``v`` the ground truth's motion (nearest pixel, clamped to the frame).

    Args:
        pred_prev, pred, gt_prev, gt, mask: As :func:`dtssd`.
        flow: float32 ``(H, W, 2)`` motion from t-1 to t; :func:`ground_truth_flow`
            when None (an exact motion, e.g. of a synthetic clip, can be passed).

    Returns:
        The value for this pair.
    """
    p0, p1, g0, g1, region = _video_pair(pred_prev, pred, gt_prev, gt, mask)
    motion = ground_truth_flow(g0, g1) if flow is None else np.asarray(flow, np.float64)
    h, w = p0.shape
    rows, cols = np.mgrid[0:h, 0:w]
    y = np.clip(np.rint(rows + motion[..., 1]), 0, h - 1).astype(np.intp)
    x = np.clip(np.rint(cols + motion[..., 0]), 0, w - 1).astype(np.intp)
    error_prev = np.square(p0 - g0)
    error_next = np.square(p1 - g1)[y, x]
    return float(np.abs(error_prev - error_next)[region].sum())


def video_metrics(preds, gts, masks=None) -> dict[str, object]:
    """Per-frame SAD/MSE and clip dtSSD/MESSDdt, streaming over frame iterables.

    SAD and MSE are :func:`sad` and :func:`mse` over the mask (all pixels by default,
    since a video has no single trimap); dtSSD and MESSDdt are averaged over frame pairs.

    Args:
        preds, gts: Iterables of ``(H, W)`` alphas of equal length.
        masks: Optional iterable of bool ``(H, W)`` evaluation regions.

    Returns:
        ``{"SAD": mean, "MSE": mean, "dtSSD": mean, "MESSDdt": mean, "frames": n,
        "per_frame": {"SAD": [...], "MSE": [...], "dtSSD": [...], "MESSDdt": [...]}}``
        (the temporal lists have ``n - 1`` entries).
    """
    per_frame: dict[str, list[float]] = {"SAD": [], "MSE": [], "dtSSD": [], "MESSDdt": []}
    previous = None
    masks_iter = iter(masks) if masks is not None else None
    for pred, gt in zip(preds, gts, strict=True):
        mask = next(masks_iter) if masks_iter is not None else None
        region = np.ones(np.shape(gt), bool) if mask is None else np.asarray(mask, bool)
        trimap = np.where(region, UNKNOWN, 0).astype(np.uint8)
        per_frame["SAD"].append(sad(pred, gt, trimap))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrimatteWarning)
            per_frame["MSE"].append(mse(pred, gt, trimap))
        if previous is not None:
            per_frame["dtSSD"].append(dtssd(previous[0], pred, previous[1], gt, region))
            per_frame["MESSDdt"].append(messddt(previous[0], pred, previous[1], gt, mask=region))
        previous = (pred, gt)

    def mean(values: list[float]) -> float:
        finite = [v for v in values if math.isfinite(v)]
        return float(np.mean(finite)) if finite else math.nan

    result: dict[str, object] = {k: mean(v) for k, v in per_frame.items()}
    result["frames"] = len(per_frame["SAD"])
    result["per_frame"] = per_frame
    return result
