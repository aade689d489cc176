"""Training losses of Deep Image Matting and of the trimap network.

DIM (Xu et al., CVPR 2017, section 4.1) trains the encoder-decoder with

* the **alpha-prediction loss** ``sqrt((alpha_p - alpha_g)**2 + eps**2)`` and
* the **compositional loss** ``sqrt((c_p - c_g)**2 + eps**2)`` with
  ``c_p = alpha_p * F + (1 - alpha_p) * B`` the image re-composited with the
  predicted alpha and ``c_g`` the ground-truth composite (per RGB channel),

both averaged over the pixels of the trimap's unknown region, and the overall
loss ``0.5 * L_alpha + 0.5 * L_comp``; ``eps = 1e-6``. The refinement stage is
trained with the alpha-prediction loss alone.

Every loss here is averaged **per sample** (over that sample's unknown pixels) and
then over the batch. Per-sample normalisation makes the loss of a batch the mean of
its samples' losses, so data-parallel training (each process averaging its own
samples, DDP averaging the gradients) equals single-process training on the whole
batch. Tensors are ``(B, C, H, W)`` float; ``weight`` is ``(B, 1, H, W)`` with 1 on
the pixels that count (the unknown region) and 0 elsewhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: The epsilon of DIM's losses.
EPSILON = 1e-6
#: Trimap / 255 values strictly between these are the unknown region.
UNKNOWN_RANGE = (0.25, 0.75)


def unknown_weight(trimap: torch.Tensor) -> torch.Tensor:
    """float ``(B, 1, H, W)``: 1 where ``trimap`` (trimap / 255) is unknown, else 0."""
    low, high = UNKNOWN_RANGE
    return ((trimap > low) & (trimap < high)).to(trimap.dtype)


def _per_sample_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean of ``values`` (B, C, H, W) per sample over pixels and channels.

    A sample whose weight is zero everywhere contributes 0.
    """
    channels = values.shape[1]
    dims = tuple(range(1, values.ndim))
    total = (values * weight).sum(dim=dims)
    count = weight.sum(dim=dims) * channels
    return torch.where(count > 0, total / count.clamp_min(1e-12), torch.zeros_like(total))


def alpha_prediction_loss(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, eps: float = EPSILON
) -> torch.Tensor:
    """DIM's alpha-prediction loss, mean over weighted pixels per sample, then over the batch.

    Args:
        pred: Predicted alpha ``(B, 1, H, W)``.
        target: Ground-truth alpha ``(B, 1, H, W)``.
        weight: ``(B, 1, H, W)`` pixel weights (the unknown region).
        eps: The epsilon inside the square root.

    Returns:
        Scalar tensor.
    """
    error = torch.sqrt((pred - target) ** 2 + eps**2)
    return _per_sample_mean(error, weight).mean()


def composition_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    foreground: torch.Tensor,
    background: torch.Tensor,
    weight: torch.Tensor,
    eps: float = EPSILON,
) -> torch.Tensor:
    """DIM's compositional loss between images composited with predicted and true alpha.

    Args:
        pred: Predicted alpha ``(B, 1, H, W)``.
        target: Ground-truth alpha ``(B, 1, H, W)``.
        foreground: ``(B, 3, H, W)`` foreground colours F.
        background: ``(B, 3, H, W)`` background colours B.
        weight: ``(B, 1, H, W)`` pixel weights (the unknown region).
        eps: The epsilon inside the square root.

    Returns:
        Scalar tensor: mean over weighted pixels and the 3 channels per sample, then batch.
    """
    composite_pred = pred * foreground + (1.0 - pred) * background
    composite_true = target * foreground + (1.0 - target) * background
    error = torch.sqrt((composite_pred - composite_true) ** 2 + eps**2)
    return _per_sample_mean(error, weight).mean()


def dim_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    foreground: torch.Tensor,
    background: torch.Tensor,
    weight: torch.Tensor,
    alpha_weight: float = 0.5,
    eps: float = EPSILON,
) -> dict[str, torch.Tensor]:
    """The encoder-decoder loss ``w * L_alpha + (1 - w) * L_comp`` (DIM: ``w = 0.5``).

    Returns:
        ``{"loss", "alpha", "composition"}`` scalar tensors.
    """
    l_alpha = alpha_prediction_loss(pred, target, weight, eps)
    l_comp = composition_loss(pred, target, foreground, background, weight, eps)
    total = alpha_weight * l_alpha + (1.0 - alpha_weight) * l_comp
    return {"loss": total, "alpha": l_alpha, "composition": l_comp}


IGNORE_CLASS = 255
"""Target value of pixels that take no part in :func:`trimap_cross_entropy`."""


def trimap_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, class_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy of a 3-class trimap network, mean per sample then over the batch.

    Args:
        logits: ``(B, 3, H, W)`` scores of background, unknown, foreground.
        target: int64 ``(B, H, W)`` classes 0/1/2, or :data:`IGNORE_CLASS` for pixels
            that take no part.
        class_weights: Optional ``(3,)`` weights (e.g. to up-weight the thin unknown band);
            each sample's loss is then the weighted mean over its pixels.

    Returns:
        Scalar tensor.
    """
    valid = target != IGNORE_CLASS
    per_pixel = F.cross_entropy(logits, target, weight=class_weights, reduction="none",
                                ignore_index=IGNORE_CLASS)
    if class_weights is None:
        pixel_weights = valid.to(per_pixel.dtype)
    else:
        pixel_weights = class_weights[target.clamp(max=class_weights.numel() - 1)] * valid
    total = pixel_weights.flatten(1).sum(dim=1).clamp(min=1e-12)
    per_sample = per_pixel.flatten(1).sum(dim=1) / total
    return per_sample.mean()
