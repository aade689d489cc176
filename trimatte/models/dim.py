"""Deep Image Matting (Xu et al. 2017) as an smp U-Net plus DIM's refinement CNN.

The two stages
--------------
1. :class:`MattingUNet` -- an encoder-decoder (a segmentation-models-pytorch
   ``Unet`` with any encoder smp knows, e.g. ``"tu-efficientnet_lite0"`` or
   ``"resnet18"``) with **4 input channels** (normalised RGB + trimap) and one
   output channel: the *logit* of the coarse alpha.
2. :class:`RefinementCNN` -- DIM's refinement stage: the normalised RGB and the
   coarse alpha (4 channels) go through three 3x3 conv layers with 64 channels
   and ReLU, then a 3x3 conv to one channel. Its output is a residual added to
   the coarse prediction as a skip connection, in logit space:
   ``alpha = sigmoid(logit_coarse + residual)``. The last conv is zero-initialised,
   so an untrained refinement stage returns the coarse alpha unchanged.

Input convention (shared by training and inference)
---------------------------------------------------
:class:`DIMMatting.forward` takes

* ``image``: float32 ``(B, 3, H, W)`` RGB in **[0, 1]** (not mean/std normalised:
  the model applies the ImageNet normalisation ``(x - mean) / std`` with
  ``mean = (0.485, 0.456, 0.406)``, ``std = (0.229, 0.224, 0.225)`` itself, so an
  exported model is self-contained);
* ``trimap``: float32 ``(B, 1, H, W)`` equal to ``trimap_uint8 / 255``, i.e. 0
  background, 128/255 ~ 0.502 unknown, 1 foreground.

``H`` and ``W`` must be multiples of :attr:`DIMMatting.stride` (pad first, see
:mod:`trimatte.models.inference`). :func:`prepare_inputs` turns the library's
numpy convention (:mod:`trimatte.image`) into these tensors; use it in both
training and inference code.

Output
------
A dict of float32 ``(B, 1, H, W)`` tensors:

* ``"logits_coarse"``: the first stage's pre-sigmoid output (for a
  BCE-with-logits loss if wanted);
* ``"alpha_coarse"``: ``sigmoid(logits_coarse)``, the encoder-decoder's alpha;
* ``"alpha"``: the refined alpha (equal to ``alpha_coarse`` when the model has no
  refinement stage or it is switched off with ``refine=False``).

The network predicts every pixel; keeping the trimap's known pixels as given is
done at inference time (:func:`keep_known`, used by
:mod:`trimatte.models.inference` and the exported models), so training losses
should be computed on the unknown region as in DIM.

Initialisation
--------------
``encoder_init`` in :func:`build_matting_net` loads RGB-pretrained encoder
weights from a local file (never a download). The first conv then receives the
pretrained RGB filters and **zeros for the trimap channel**, as DIM does, so
the pretrained features are unchanged at the start of training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.image import as_image, as_trimap, check_same_size
from trimatte.models.weights import IMAGENET_MEAN, IMAGENET_STD

DEFAULT_ENCODER = "tu-efficientnet_lite0"
DEFAULT_DECODER_CHANNELS = (256, 128, 64, 32, 16)


class ImageNormalizer(nn.Module):
    """``(x - mean) / std`` for ``(B, 3, H, W)`` RGB in [0, 1] (ImageNet statistics by default).

    The statistics are buffers, so checkpoints carry them.
    """

    def __init__(self, mean: tuple[float, ...] = IMAGENET_MEAN,
                 std: tuple[float, ...] = IMAGENET_STD) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
                             False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
                             False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std


def make_unet(
    encoder: str,
    in_channels: int,
    classes: int,
    encoder_depth: int = 5,
    decoder_channels: tuple[int, ...] | None = None,
) -> nn.Module:
    """An smp ``Unet`` built without any download (``encoder_weights=None``).

    Raises:
        InputError: Unknown encoder name or an inconsistent depth/decoder setting.
    """
    import segmentation_models_pytorch as smp

    if decoder_channels is None:
        decoder_channels = DEFAULT_DECODER_CHANNELS[:encoder_depth]
    decoder_channels = tuple(int(c) for c in decoder_channels)
    if len(decoder_channels) != encoder_depth:
        raise InputError(
            f"needs {encoder_depth} decoder channel counts (one per encoder level), "
            f"got {len(decoder_channels)}",
            "decoder_channels",
        )
    try:
        return smp.Unet(
            encoder_name=encoder,
            encoder_depth=encoder_depth,
            encoder_weights=None,
            decoder_channels=decoder_channels,
            in_channels=in_channels,
            classes=classes,
        )
    except (KeyError, ValueError, RuntimeError) as exc:
        raise InputError(
            f"cannot build a U-Net with encoder {encoder!r}: {exc}", "encoder"
        ) from exc


class MattingUNet(nn.Module):
    """DIM's first stage: a 4-channel-input U-Net predicting the coarse alpha logit.

    Args:
        encoder: smp encoder name (``"tu-efficientnet_lite0"``, ``"resnet18"``, ...).
        in_channels: Input channels; 4 = normalised RGB + trimap.
        encoder_depth: Number of encoder levels (3 to 5); the stride is ``2**depth``.
        decoder_channels: Channels of the decoder blocks, one per level.
    """

    def __init__(
        self,
        encoder: str = DEFAULT_ENCODER,
        in_channels: int = 4,
        encoder_depth: int = 5,
        decoder_channels: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        if in_channels < 4:
            raise InputError(f"needs at least 4 channels (RGB + trimap), got {in_channels}",
                             "in_channels")
        self.unet = make_unet(encoder, in_channels, 1, encoder_depth, decoder_channels)
        self.in_channels = in_channels
        self.stride = 2**encoder_depth

    @property
    def encoder(self) -> nn.Module:
        """The smp encoder (for initialisation from pretrained RGB weights)."""
        return self.unet.encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_channels, H, W)`` -> coarse alpha logits ``(B, 1, H, W)``."""
        return self.unet(x)


class RefinementCNN(nn.Module):
    """DIM's refinement stage: RGB + alpha -> residual logit added to the coarse prediction.

    Three 3x3 conv layers with ``channels`` filters and ReLU, then a 3x3 conv to
    one channel whose weights and bias start at zero.

    Args:
        in_channels: 4 (normalised RGB + coarse alpha).
        channels: Width of the hidden layers (64 in DIM).
    """

    def __init__(self, in_channels: int = 4, channels: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(3):
            layers += [nn.Conv2d(width, channels, 3, padding=1), nn.ReLU(inplace=True)]
            width = channels
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, 1, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, image_normalized: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """Residual logits ``(B, 1, H, W)`` from ``(B, 3, H, W)`` and ``(B, 1, H, W)``."""
        return self.head(self.body(torch.cat([image_normalized, alpha], dim=1)))


class DIMMatting(nn.Module):
    """Both DIM stages; see the module docstring for the exact input/output convention.

    Args:
        matting: The encoder-decoder.
        refinement: The refinement CNN, or None for a single-stage model.
        config: The architecture config (stored in checkpoints; set by
            :func:`build_matting_net`).
    """

    def __init__(
        self,
        matting: MattingUNet,
        refinement: RefinementCNN | None = None,
        config: dict[str, Any] | None = None,
        input_mean: tuple[float, ...] = IMAGENET_MEAN,
        input_std: tuple[float, ...] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        self.normalize = ImageNormalizer(input_mean, input_std)
        self.matting = matting
        self.refinement = refinement
        self.config: dict[str, Any] = dict(config or {})

    @property
    def stride(self) -> int:
        """Height and width of the input must be multiples of this."""
        return self.matting.stride

    def forward(
        self, image: torch.Tensor, trimap: torch.Tensor, refine: bool = True
    ) -> dict[str, torch.Tensor]:
        """Predict alpha.

        Args:
            image: float ``(B, 3, H, W)`` RGB in [0, 1].
            trimap: float ``(B, 1, H, W)``, trimap / 255.
            refine: Run the refinement stage (if the model has one).

        Returns:
            ``{"logits_coarse", "alpha_coarse", "alpha"}``, each ``(B, 1, H, W)``.
        """
        normalized = self.normalize(image)
        logits = self.matting(torch.cat([normalized, trimap], dim=1))
        alpha_coarse = torch.sigmoid(logits)
        if refine and self.refinement is not None:
            alpha = torch.sigmoid(logits + self.refinement(normalized, alpha_coarse))
        else:
            alpha = alpha_coarse
        return {"logits_coarse": logits, "alpha_coarse": alpha_coarse, "alpha": alpha}


def build_matting_net(
    encoder: str = DEFAULT_ENCODER,
    in_channels: int = 4,
    encoder_init: str | None = None,
    *,
    refine: bool = True,
    encoder_depth: int = 5,
    decoder_channels: tuple[int, ...] | None = None,
    refine_channels: int = 64,
    input_mean: tuple[float, ...] | None = None,
    input_std: tuple[float, ...] | None = None,
) -> DIMMatting:
    """Build the DIM matting network (encoder-decoder + optional refinement CNN).

    Args:
        encoder: smp encoder name; ``"tu-efficientnet_lite0"`` matches the
            EfficientNet-Lite0 ImageNet weights in ``../shared/weights``.
        in_channels: 4 (RGB + trimap).
        encoder_init: None (random initialisation) or a local file with RGB
            encoder weights (see :func:`trimatte.models.encoders.init_encoder_from_file`);
            the trimap channel of the first conv is then zero. Hub names such as
            ``"imagenet"`` raise :class:`~trimatte.errors.ModelUnavailableError`.
        refine: Include DIM's refinement CNN.
        encoder_depth: Encoder levels (3 to 5); small depths make tiny test models.
        decoder_channels: Decoder widths, one per level (default 256, 128, 64, 32, 16).
        refine_channels: Width of the refinement CNN (64 in DIM).
        input_mean, input_std: RGB statistics of the encoder's input; None: those the
            ``encoder_init`` weights expect (the EfficientNet-Lite0 file in ``../shared``
            wants mean 0.5 / std 0.5), else ImageNet's. Checkpoints written before these
            keys existed have none and keep ImageNet's statistics.

    Returns:
        A :class:`DIMMatting` in training mode, with ``.config`` filled in.
    """
    from trimatte.models.encoders import input_statistics

    mean, std = input_statistics(encoder_init, input_mean, input_std)
    matting = MattingUNet(encoder, in_channels, encoder_depth, decoder_channels)
    if encoder_init is not None:
        from trimatte.models.encoders import init_encoder_from_file

        init_encoder_from_file(matting.encoder, encoder_init, encoder)
    refinement = RefinementCNN(4, refine_channels) if refine else None
    config = {
        "architecture": "dim",
        "encoder": encoder,
        "in_channels": int(in_channels),
        "refine": bool(refine),
        "encoder_depth": int(encoder_depth),
        "decoder_channels": list(decoder_channels) if decoder_channels is not None else None,
        "refine_channels": int(refine_channels),
        "input_mean": list(mean),
        "input_std": list(std),
    }
    return DIMMatting(matting, refinement, config, mean, std)


# ----------------------------------------------------------------------------- inputs


def prepare_inputs(
    image: np.ndarray, trimap: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn library arrays into the network's input tensors.

    Args:
        image: ``(H, W, 3)`` image or ``(B, H, W, 3)`` batch (float in [0, 1] or
            uint8, see :func:`trimatte.image.as_image`).
        trimap: ``(H, W)`` trimap or ``(B, H, W)`` batch (uint8 0/128/255; other
            values are snapped by :func:`trimatte.image.as_trimap`).

    Returns:
        ``image`` float32 ``(B, 3, H, W)`` in [0, 1] and ``trimap`` float32
        ``(B, 1, H, W)`` equal to trimap / 255, on the CPU.

    Raises:
        InputError: Bad shapes, values, or image/trimap sizes that differ.
    """
    image = np.asarray(image)
    trimap = np.asarray(trimap)
    if image.ndim == 4:
        if trimap.ndim != 3 or trimap.shape[0] != image.shape[0]:
            raise InputError(
                f"a batch of {image.shape[0]} images needs a (B, H, W) trimap batch, "
                f"got shape {trimap.shape}",
                "trimap",
            )
        images = [as_image(im, f"image[{i}]") for i, im in enumerate(image)]
        trimaps = [as_trimap(t, f"trimap[{i}]") for i, t in enumerate(trimap)]
    else:
        images = [as_image(image, "image")]
        trimaps = [as_trimap(trimap, "trimap")]
    for im, tri in zip(images, trimaps, strict=True):
        check_same_size(im.shape, tri.shape, "trimap")
    image_t = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    trimap_t = torch.from_numpy(np.stack(trimaps).astype(np.float32) / 255.0)[:, None]
    return image_t, trimap_t


def keep_known(alpha: torch.Tensor, trimap: torch.Tensor) -> torch.Tensor:
    """Set alpha to the trimap's value where the trimap is known.

    Args:
        alpha: ``(B, 1, H, W)`` predicted alpha.
        trimap: ``(B, 1, H, W)`` trimap / 255 (0, ~0.5 or 1).

    Returns:
        ``alpha`` with 0 where trimap < 0.25 and 1 where trimap > 0.75.
    """
    alpha = torch.where(trimap > 0.75, torch.ones_like(alpha), alpha)
    return torch.where(trimap < 0.25, torch.zeros_like(alpha), alpha)

