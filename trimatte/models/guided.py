"""The classical-guided DIM: a U-Net and DIM's refinement CNN that correct closed-form alpha.

Input convention (tensors, batch first):

* ``image`` float32 ``(B, 3, H, W)`` RGB in [0, 1] (normalised inside the model with
  the statistics its encoder weights expect, stored in the config);
* ``trimap`` float32 ``(B, 1, H, W)``, trimap / 255;
* ``guide`` float32 ``(B, 1, H, W)``: closed-form matting's alpha for that trimap
  (or the trimap's own value where closed-form cannot run).

The encoder-decoder (:class:`~trimatte.models.dim.MattingUNet`, 5 input channels: RGB,
trimap, guide) predicts a correction ``delta``; the coarse alpha is
``clip(guide + delta, 0, 1)``. DIM's refinement CNN (RGB, coarse alpha, guide) adds a
second correction. Both output convolutions start at zero, so an untrained model
returns the guide exactly: training can only move away from closed-form where the
loss says so. Known trimap pixels are kept exact by the callers
(:func:`~trimatte.models.dim.keep_known` in training).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from trimatte.models.dim import (
    DEFAULT_ENCODER,
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageNormalizer,
    MattingUNet,
    RefinementCNN,
)
from trimatte.params import check_choice

__all__ = ["CORRECTIONS", "GuidedMatting", "build_guided_net", "predict_guided_alpha",
           "smooth_correction"]


class GuidedMatting(nn.Module):
    """Encoder-decoder + refinement CNN correcting a guide alpha (see the module docstring).

    Args:
        matting: A 5-channel :class:`MattingUNet` whose output head starts at zero.
        refinement: A 5-channel :class:`RefinementCNN` (RGB, coarse alpha, guide).
        config: Architecture config stored in checkpoints.
        input_mean, input_std: RGB normalisation statistics of the encoder.
    """

    def __init__(self, matting: MattingUNet, refinement: RefinementCNN,
                 config: dict[str, Any] | None = None,
                 input_mean: tuple[float, ...] = IMAGENET_MEAN,
                 input_std: tuple[float, ...] = IMAGENET_STD) -> None:
        super().__init__()
        self.normalize = ImageNormalizer(input_mean, input_std)
        self.matting = matting
        self.refinement = refinement
        self.config: dict[str, Any] = dict(config or {})

    @property
    def stride(self) -> int:
        """Height and width of the input must be multiples of this."""
        return self.matting.stride

    @property
    def encoder(self) -> nn.Module:
        """The smp encoder of the encoder-decoder."""
        return self.matting.encoder

    def forward(self, image: torch.Tensor, trimap: torch.Tensor, guide: torch.Tensor,
                refine: bool = True) -> dict[str, torch.Tensor]:
        """Corrected alpha.

        Returns:
            ``{"alpha_coarse", "alpha", "delta"}``, each float32 ``(B, 1, H, W)``;
            ``alpha`` is ``alpha_coarse`` when ``refine`` is False.
        """
        normalized = self.normalize(image)
        delta = self.matting(torch.cat([normalized, trimap, guide], dim=1))
        coarse = torch.clamp(guide + delta, 0.0, 1.0)
        alpha = coarse
        if refine:
            residual = self.refinement(normalized, torch.cat([coarse, guide], dim=1))
            alpha = torch.clamp(coarse + residual, 0.0, 1.0)
        return {"alpha_coarse": coarse, "alpha": alpha, "delta": delta}


def build_guided_net(
    encoder: str = DEFAULT_ENCODER,
    encoder_init: str | None = None,
    *,
    encoder_depth: int = 5,
    decoder_channels: tuple[int, ...] | None = (96, 48, 32, 16, 16),
    refine_channels: int = 32,
    input_mean: tuple[float, ...] | None = None,
    input_std: tuple[float, ...] | None = None,
) -> GuidedMatting:
    """Build the classical-guided network (never downloads weights).

    Args:
        encoder: smp encoder name.
        encoder_init: None or a local RGB encoder weights file (the trimap and guide
            channels of the first conv start at zero).
        encoder_depth: Encoder levels (3 to 5).
        decoder_channels: Decoder widths, one per level.
        refine_channels: Width of the refinement CNN.
        input_mean, input_std: RGB statistics; None: those the ``encoder_init``
            weights expect (see :func:`trimatte.models.trimap_unet.build_trimap_net`).

    Returns:
        A :class:`GuidedMatting` whose output equals its guide until trained.
    """
    from trimatte.models.encoders import input_statistics

    mean, std = input_statistics(encoder_init, input_mean, input_std)
    matting = MattingUNet(encoder, 5, encoder_depth, decoder_channels)
    if encoder_init is not None:
        from trimatte.models.encoders import init_encoder_from_file

        init_encoder_from_file(matting.encoder, encoder_init, encoder)
    head = [m for m in matting.unet.segmentation_head.modules() if isinstance(m, nn.Conv2d)][-1]
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    refinement = RefinementCNN(5, refine_channels)
    config = {
        "architecture": "guided",
        "encoder": encoder,
        "encoder_depth": int(encoder_depth),
        "decoder_channels": list(decoder_channels) if decoder_channels is not None else None,
        "refine_channels": int(refine_channels),
        "input_mean": list(mean),
        "input_std": list(std),
    }
    return GuidedMatting(matting, refinement, config, mean, std)


CORRECTIONS = ("both", "lower")
"""How :func:`predict_guided_alpha` applies the network's correction: all of it, or only
where it lowers the guide's alpha (for wide automatic trimaps, whose unknown region is
mostly background the network tends to fill)."""


def smooth_correction(correction: np.ndarray, unknown: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth a correction map over the unknown pixels only (normalised convolution).

    The network's correction is trusted for its low frequencies (regions closed-form got
    wrong: bleeding, holes, washed-out fur) and not for its pixel-scale texture, which
    only adds gradient error; the fine detail comes from the closed-form guide instead.
    Values at known pixels (which the network is free to get wrong) do not leak in.

    Args:
        correction: float32 ``(H, W)`` network alpha minus guide.
        unknown: bool ``(H, W)`` unknown trimap pixels.
        sigma: Gaussian sigma in pixels; ``0`` returns the correction unchanged.

    Returns:
        float32 ``(H, W)``: the smoothed correction on unknown pixels, 0 elsewhere.
    """
    if sigma <= 0:
        return np.where(unknown, correction, 0.0).astype(np.float32)
    import cv2

    weight = unknown.astype(np.float32)
    total = cv2.GaussianBlur(correction.astype(np.float32) * weight, (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    return np.where(unknown, total / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


def predict_guided_alpha(
    model: GuidedMatting,
    image: np.ndarray,
    trimap: np.ndarray,
    guide: np.ndarray,
    *,
    refine: bool = True,
    context: int = 32,
    device: str | torch.device = "cpu",
    max_size: int | None = None,
    smoothing: float = 0.0,
    corrections: str = "both",
    min_size: int | None = None,
) -> np.ndarray:
    """Correct ``guide`` for one image, on the bounding box of the unknown region.

    With ``max_size``, a box whose long side is larger is shrunk to it for the network
    (the scale the network was trained at), and the network's *correction* (its alpha
    minus the shrunk guide) is enlarged back and added to the full-resolution guide, so
    the guide's fine detail is kept. With ``min_size``, a smaller box is enlarged to it
    in the same way (the correction is shrunk back).

    Args:
        model: A trained :class:`GuidedMatting`.
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` 0/128/255.
        guide: float32 ``(H, W)`` alpha the model corrects (closed-form's).
        refine: Run the refinement CNN.
        context: Pixels of context around the unknown box.
        device: Where the network runs.
        max_size: Longest side the network sees (None: full resolution).
        smoothing: Sigma, in pixels at the network's scale, of
            :func:`smooth_correction` applied to the correction (0: none).
        corrections: ``"both"``: the (smoothed) correction as it is; ``"lower"``: only
            its negative part, so the network may take alpha away from the guide (haze,
            bleeding background) but not add any (see :data:`CORRECTIONS`).
        min_size: A box whose long side is smaller is enlarged to it for the network
            (bilinear), and the correction shrunk back (area); None: never enlarged.

    Returns:
        float32 ``(H, W)`` alpha in [0, 1]; known trimap pixels exact.

    Raises:
        InputError: ``corrections`` is not one of :data:`CORRECTIONS` (checked before
            the network runs).
    """
    from trimatte.models.inference import pad_to_multiple, unknown_window, unpad
    from trimatte.models.tensors import image_to_batch, map_to_batch, trimap_to_float
    check_choice(corrections, CORRECTIONS, "corrections", "predict_guided_alpha")
    alpha = np.where(trimap == 255, 1.0, np.where(trimap == 0, 0.0, guide)).astype(np.float32)
    window = unknown_window(trimap, context)
    if window is None:
        return alpha
    box = window.slices()
    crop_image, crop_trimap, crop_guide = image[box], trimap[box], guide[box]
    height, width = crop_trimap.shape
    scale = 1.0
    if max_size is not None and max(height, width) > max_size:
        scale = max_size / max(height, width)
    elif min_size is not None and max(height, width) < min_size:
        scale = min_size / max(height, width)
    if scale != 1.0:
        import cv2

        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        smooth = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        crop_image = cv2.resize(crop_image, size, interpolation=smooth)
        crop_guide = cv2.resize(crop_guide, size, interpolation=smooth)
        crop_trimap = cv2.resize(crop_trimap, size, interpolation=cv2.INTER_NEAREST)
    x = image_to_batch(crop_image, device)
    t = map_to_batch(trimap_to_float(crop_trimap), device)
    g = map_to_batch(crop_guide, device)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            padded = [pad_to_multiple(v, model.stride) for v in (x, t, g)]
            pads = padded[0][1]
            out = model(padded[0][0], padded[1][0], padded[2][0], refine=refine)["alpha"]
            out = unpad(out, pads)
    finally:
        model.train(was_training)
    correction = smooth_correction(out[0, 0].float().cpu().numpy() - crop_guide,
                                   crop_trimap == 128, smoothing)
    if scale != 1.0:
        import cv2

        back = cv2.INTER_LINEAR if scale < 1.0 else cv2.INTER_AREA
        correction = cv2.resize(correction, (width, height), interpolation=back)
    if corrections == "lower":
        correction = np.minimum(correction, 0.0)
    corrected = guide[box] + correction
    known = trimap[box] != 128
    alpha[box] = np.where(known, alpha[box], corrected)
    return np.clip(alpha, 0.0, 1.0)
