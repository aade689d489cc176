"""A U-Net that predicts a trimap (background / unknown / foreground) from an image.

Convention
----------
* Input of :meth:`TrimapUNet.forward`: float32 ``(B, 3, H, W)`` RGB in [0, 1]; the
  model normalises it itself with the statistics its encoder weights were trained
  with (stored in its config, so checkpoints restore them): ImageNet mean/std by
  default, ``mean = std = 0.5`` (inputs in [-1, 1]) for the EfficientNet-Lite0
  ImageNet file (lukemelas naming, ``../shared/weights``), whose classifier only
  recognises images normalised that way. ``H`` and ``W`` must be multiples of
  :attr:`TrimapUNet.stride`.
* Output: float32 logits ``(B, 3, H, W)`` for the classes in :data:`CLASS_VALUES`
  order: 0 background, 1 unknown, 2 foreground. Train with cross-entropy against
  :func:`trimatte.trimap.classes.trimap_to_classes` of trimaps made from ground-truth alpha by
  erode/dilate.
* :func:`predict_trimap` maps the argmax back to a uint8 trimap (0/128/255);
  pipelines then pass it through the erode/dilate refinement stage.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.image import as_image
from trimatte.models.dim import (
    DEFAULT_ENCODER,
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageNormalizer,
    make_unet,
)
from trimatte.trimap.classes import CLASS_VALUES, classes_to_trimap, trimap_to_classes

__all__ = [  # the class maps live in trimatte.trimap.classes; re-exported for old imports
    "CLASS_VALUES",
    "TrimapUNet",
    "build_trimap_net",
    "classes_to_trimap",
    "predict_trimap",
    "trimap_probabilities",
    "trimap_to_classes",
]



class TrimapUNet(nn.Module):
    """smp U-Net with 3 output classes and built-in input normalisation.

    Args:
        encoder: smp encoder name.
        encoder_depth: Encoder levels (3 to 5); the stride is ``2**depth``.
        decoder_channels: Decoder widths, one per level.
        config: Architecture config stored in checkpoints.
        input_mean, input_std: Per-channel RGB statistics of the input normalisation
            (default ImageNet's).
    """

    def __init__(
        self,
        encoder: str = DEFAULT_ENCODER,
        encoder_depth: int = 5,
        decoder_channels: tuple[int, ...] | None = None,
        config: dict[str, Any] | None = None,
        input_mean: tuple[float, ...] = IMAGENET_MEAN,
        input_std: tuple[float, ...] = IMAGENET_STD,
        prior_channels: int = 0,
    ) -> None:
        super().__init__()
        self.normalize = ImageNormalizer(input_mean, input_std)
        self.prior_channels = int(prior_channels)
        self.unet = make_unet(encoder, 3 + self.prior_channels, len(CLASS_VALUES),
                              encoder_depth, decoder_channels)
        self.stride = 2**encoder_depth
        self.config: dict[str, Any] = dict(config or {})

    @property
    def encoder(self) -> nn.Module:
        """The smp encoder."""
        return self.unet.encoder

    def forward(self, image: torch.Tensor, prior: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, 3, H, W)`` RGB in [0, 1] -> class logits ``(B, 3, H, W)``.

        ``prior``: ``(B, prior_channels, H, W)`` in [0, 1] (the salient-object
        probability), required when the model was built with ``prior_channels > 0``.
        """
        x = self.normalize(image)
        if self.prior_channels:
            if prior is None or prior.shape[1] != self.prior_channels:
                raise InputError(f"needs a ({self.prior_channels}-channel) prior input",
                                 "TrimapUNet")
            x = torch.cat([x, (prior - 0.5) / 0.5], dim=1)
        return self.unet(x)


def build_trimap_net(
    encoder: str = DEFAULT_ENCODER,
    encoder_init: str | None = None,
    *,
    encoder_depth: int = 5,
    decoder_channels: tuple[int, ...] | None = None,
    input_mean: tuple[float, ...] | None = None,
    input_std: tuple[float, ...] | None = None,
    prior_channels: int = 0,
    input_size: int | None = None,
) -> TrimapUNet:
    """Build the 3-class trimap U-Net (never downloads weights).

    Args:
        encoder: smp encoder name, e.g. ``"tu-efficientnet_lite0"`` or ``"resnet18"``.
        encoder_init: None, or a local file with RGB encoder weights
            (see :func:`trimatte.models.encoders.init_encoder_from_file`).
        encoder_depth: Encoder levels (3 to 5).
        decoder_channels: Decoder widths, one per level.
        input_mean, input_std: RGB normalisation statistics. None: those of the
            ``encoder_init`` weights (0.5/0.5 for the lukemelas EfficientNet-Lite0
            file), else ImageNet's. Stored in the config.
        prior_channels: 1 to feed the U²-Net-p saliency of the image as an extra
            input channel (:func:`predict_trimap` computes it), 0 for RGB only.
        input_size: Long side the network works at in :func:`predict_trimap`
            (None: the caller's ``max_size``). Stored in the config.

    Raises:
        InputError: Bad statistics, unknown encoder or a weights file that does not fit.
    """
    from trimatte.models.encoders import input_statistics

    mean, std = input_statistics(encoder_init, input_mean, input_std)
    model = TrimapUNet(
        encoder,
        encoder_depth,
        decoder_channels,
        config={
            "architecture": "unet-trimap",
            "encoder": encoder,
            "encoder_depth": int(encoder_depth),
            "decoder_channels": list(decoder_channels) if decoder_channels is not None else None,
            "input_mean": list(mean),
            "input_std": list(std),
            "prior_channels": int(prior_channels),
            "input_size": int(input_size) if input_size is not None else None,
        },
        input_mean=mean,
        input_std=std,
        prior_channels=prior_channels,
    )
    if encoder_init is not None:
        from trimatte.models.encoders import init_encoder_from_file

        init_encoder_from_file(model.encoder, encoder_init, encoder)
    return model


def trimap_probabilities(
    image: np.ndarray,
    model: TrimapUNet,
    *,
    device: str | torch.device = "cpu",
    max_size: int | None = 1024,
    prior: np.ndarray | None = None,
) -> np.ndarray:
    """Class probabilities of every pixel of ``image``.

    Args:
        image: ``(H, W, 3)`` RGB (float in [0, 1] or uint8).
        model: A :class:`TrimapUNet` (e.g. from :func:`trimatte.models.checkpoint.load_model`).
        device: Where to run the network.
        max_size: The image is downscaled so that its long side is at most this
            before the network runs (probabilities are upscaled back); None runs at
            full resolution. A model whose config has ``input_size`` uses that instead.
        prior: float32 ``(H, W)`` salient-object probability for a model with a prior
            channel; None computes it with the shipped U²-Net-p.

    Returns:
        float32 ``(H, W, 3)``: probabilities of background, unknown, foreground.
    """
    from trimatte.models.inference import pad_to_multiple, resize_tensor, unpad
    from trimatte.models.tensors import batch_to_image, image_to_batch, map_to_batch

    image = as_image(image)
    height, width = image.shape[:2]
    size = model.config.get("input_size") or max_size
    planes = [image_to_batch(image)]
    if getattr(model, "prior_channels", 0):
        if prior is None:
            from trimatte.models.salient_net import predict_saliency

            prior = predict_saliency(image)
        planes.append(map_to_batch(prior))
    x = torch.cat(planes, dim=1)
    scale = 1.0
    if size is not None and max(height, width) != size and (
            max(height, width) > size or model.config.get("input_size")):
        scale = size / max(height, width)
        x = resize_tensor(x, (max(1, round(height * scale)), max(1, round(width * scale))))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            padded, pads = pad_to_multiple(x.to(device), model.stride)
            rgb, extra = padded[:, :3], padded[:, 3:]
            logits = model(rgb, extra if extra.shape[1] else None)
            probs = unpad(torch.softmax(logits.float(), dim=1), pads)
            if scale != 1.0:
                probs = resize_tensor(probs, (height, width))
            return batch_to_image(probs)
    finally:
        model.train(was_training)


def predict_trimap(
    image: np.ndarray,
    model: TrimapUNet,
    *,
    device: str | torch.device = "cpu",
    max_size: int | None = 1024,
    prior: np.ndarray | None = None,
) -> np.ndarray:
    """Predict a trimap for one image: the most probable class of every pixel.

    Arguments as :func:`trimap_probabilities`.

    Returns:
        uint8 ``(H, W)`` trimap with values 0, 128, 255.
    """
    probs = trimap_probabilities(image, model, device=device, max_size=max_size, prior=prior)
    return classes_to_trimap(probs.argmax(axis=2))
