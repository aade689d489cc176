"""Initialising encoders from local ImageNet weights (never downloaded).

EfficientNet-Lite0
------------------
``../shared/weights/efficientnet-lite0-57934424.pth`` is an EfficientNet-Lite0
ImageNet classifier saved in the naming of the ``EfficientNet-PyTorch`` family
("lukemelas" naming): ``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ...,
``_conv_head``, ``_bn1``, ``_fc``. :func:`remap_efficientnet_lite0` renames every
tensor to timm's ``efficientnet_lite0`` naming (``conv_stem``, ``bn1``,
``blocks.S.B.conv_pw`` ..., ``conv_head``, ``bn2``, ``classifier``), pairing the
16 flat ``_blocks.N`` with timm's stage/block order. The mapping is checked
exhaustively: every source tensor is used once, every target tensor is filled,
and all shapes agree (:class:`~trimatte.errors.InputError` otherwise).

The matching segmentation-models-pytorch encoder is ``"tu-efficientnet_lite0"``
(smp's wrapper around timm's ``efficientnet_lite0`` with ``features_only``; its
keys are the timm keys prefixed by ``model.``, without the head).
``"timm-tf_efficientnet_lite0"`` (smp's own copy, which keeps ``conv_head``/``bn2``)
is accepted as well. The file's classifier reproduces sensible ImageNet
predictions with timm's ``efficientnet_lite0`` and inputs normalised with
mean = std = 0.5 (the Lite models' TF preprocessing), see
``tests/models/test_encoders.py``.

Input-channel adaptation
------------------------
When the encoder's first conv has more input channels than the RGB weights (4
for DIM: RGB + trimap), the RGB filters are copied into the first three input
channels and **the extra channels are set to zero** (DIM's initialisation).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.models.hub import no_hub_download
from trimatte.models.weights import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LITE0_MEAN,
    LITE0_STD,
    read_state_dict,
)

__all__ = [
    "LITE0_MEAN",
    "LITE0_STD",
    "adapt_first_conv",
    "efficientnet_lite0_classifier",
    "init_encoder_from_file",
    "input_statistics",
    "is_lukemelas_efficientnet",
    "load_efficientnet_lite0_imagenet",
    "load_into",
    "read_state_dict",
    "remap_efficientnet_lite0",
]

_TOP_LEVEL = {
    "_conv_stem.weight": "conv_stem.weight",
    "_bn0": "bn1",
    "_conv_head.weight": "conv_head.weight",
    "_bn1": "bn2",
    "_fc": "classifier",
}
# lukemelas block layer -> timm layer, for blocks with an expansion conv
# (timm InvertedResidual) and without one (timm DepthwiseSeparableConv).
_EXPANDED = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_DEPTHWISE_SEPARABLE = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}


def is_lukemelas_efficientnet(state_dict: dict[str, torch.Tensor]) -> bool:
    """True for EfficientNet-PyTorch ("lukemelas") key naming (``_conv_stem``, ``_blocks.N``)."""
    return "_conv_stem.weight" in state_dict and any(k.startswith("_blocks.") for k in state_dict)


def _timm_block_names(block_counts: list[int]) -> list[str]:
    return [f"blocks.{s}.{b}" for s, count in enumerate(block_counts) for b in range(count)]


def remap_efficientnet_lite0(
    state_dict: dict[str, torch.Tensor],
    block_counts: tuple[int, ...] = (1, 2, 2, 3, 3, 4, 1),
) -> OrderedDict[str, torch.Tensor]:
    """Rename an EfficientNet-Lite0 state dict from lukemelas naming to timm naming.

    Args:
        state_dict: Keys like ``_blocks.3._expand_conv.weight``.
        block_counts: Blocks per stage (EfficientNet-Lite0: 1, 2, 2, 3, 3, 4, 1).

    Returns:
        The same tensors under timm ``efficientnet_lite0`` keys (including
        ``conv_head``, ``bn2`` and ``classifier``).

    Raises:
        InputError: A key that cannot be mapped, or a block count that does not match.
    """
    if not is_lukemelas_efficientnet(state_dict):
        raise InputError("not an EfficientNet state dict in lukemelas naming", "state_dict")
    block_ids = sorted({int(k.split(".")[1]) for k in state_dict if k.startswith("_blocks.")})
    names = _timm_block_names(list(block_counts))
    if block_ids != list(range(len(names))):
        raise InputError(
            f"expected blocks 0..{len(names) - 1} (EfficientNet-Lite0), found {len(block_ids)}",
            "state_dict",
        )
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, tensor in state_dict.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            index, layer, leaf = int(parts[1]), parts[2], ".".join(parts[3:])
            has_expand = f"_blocks.{index}._expand_conv.weight" in state_dict
            table = _EXPANDED if has_expand else _DEPTHWISE_SEPARABLE
            if layer not in table:
                raise InputError(f"cannot map {key!r} (unknown block layer)", "state_dict")
            new_key = f"{names[index]}.{table[layer]}.{leaf}"
        else:
            head = key if key in _TOP_LEVEL else parts[0]
            if head not in _TOP_LEVEL:
                raise InputError(f"cannot map {key!r} (unknown top-level layer)", "state_dict")
            new_key = _TOP_LEVEL[head] + key[len(head):]
        if new_key in out:
            raise InputError(f"two tensors map to {new_key!r}", "state_dict")
        out[new_key] = tensor
    return out


def _first_conv_key(target: dict[str, torch.Tensor]) -> str | None:
    for key, tensor in target.items():
        if tensor.ndim == 4:
            return key
    return None


def adapt_first_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """RGB conv weights ``(O, 3, k, k)`` widened to ``in_channels``, extra inputs zero."""
    if weight.shape[1] == in_channels:
        return weight
    if weight.shape[1] > in_channels:
        raise InputError(
            f"pretrained first conv has {weight.shape[1]} input channels, the model "
            f"{in_channels}",
            "encoder_init",
        )
    extra = weight.new_zeros((weight.shape[0], in_channels - weight.shape[1], *weight.shape[2:]))
    return torch.cat([weight, extra], dim=1)


def load_into(
    module: nn.Module,
    source: dict[str, torch.Tensor],
    *,
    prefix: str = "",
    ignore: tuple[str, ...] = (),
    name: object = "weights",
) -> list[str]:
    """Load ``source`` (keys without ``prefix``) into ``module`` strictly.

    Every tensor of ``module`` must be filled and shapes must agree, except the
    first conv, which may have more input channels (extra channels zeroed,
    :func:`adapt_first_conv`). Source keys starting with one of ``ignore`` may be
    left unused (e.g. the classifier when loading an encoder).

    Returns:
        The source keys that were not used (all of them in ``ignore``).

    Raises:
        InputError: Missing, unexpected or mismatched tensors.
    """
    target = module.state_dict()
    first = _first_conv_key(target)
    new_state: dict[str, torch.Tensor] = {}
    missing: list[str] = []
    for key, tensor in target.items():
        src_key = key[len(prefix):] if key.startswith(prefix) else None
        if src_key is None or src_key not in source:
            missing.append(key)
            continue
        value = source[src_key]
        if key == first:
            value = adapt_first_conv(value, tensor.shape[1])
        if tuple(value.shape) != tuple(tensor.shape):
            raise InputError(
                f"shape of {src_key!r} is {tuple(value.shape)}, the model expects "
                f"{tuple(tensor.shape)}",
                name,
            )
        new_state[key] = value.to(tensor.dtype)
    if missing:
        raise InputError(
            f"{len(missing)} model tensors have no weights (e.g. {', '.join(missing[:3])})", name
        )
    used = {k[len(prefix):] for k in new_state}
    unused = sorted(set(source) - used)
    unexpected = [k for k in unused if not k.startswith(ignore)]
    if unexpected:
        raise InputError(
            f"{len(unexpected)} weights were not used (e.g. {', '.join(unexpected[:3])})", name
        )
    module.load_state_dict(new_state, strict=True)
    return unused


def load_efficientnet_lite0_imagenet(module: nn.Module, path: str | Path) -> list[str]:
    """Load the lukemelas-named EfficientNet-Lite0 ImageNet weights into ``module``.

    Args:
        module: One of: an smp ``"tu-efficientnet_lite0"`` encoder (keys
            ``model.*``), an smp ``"timm-tf_efficientnet_lite0"`` encoder, or timm's
            full ``efficientnet_lite0`` classifier. A first conv with more than 3
            input channels gets zeros for the extra channels.
        path: The ``.pth`` file (e.g. ``../shared/weights/efficientnet-lite0-57934424.pth``).

    Returns:
        The (timm-named) source tensors the module has no place for: the
        classifier head (``conv_head``, ``bn2``, ``classifier``) for an encoder,
        nothing for the full classifier.

    Raises:
        InputError: Not an EfficientNet-Lite0 file, or a module it does not fit.
    """
    remapped = remap_efficientnet_lite0(read_state_dict(path))
    keys = module.state_dict().keys()
    prefix = "model." if any(k.startswith("model.") for k in keys) else ""
    return load_into(
        module, remapped, prefix=prefix, ignore=("conv_head.", "bn2.", "classifier."), name=path
    )


def init_encoder_from_file(encoder: nn.Module, init: str | Path, encoder_name: str) -> None:
    """Initialise an smp encoder from a local RGB weights file.

    Args:
        encoder: The smp encoder (``model.encoder``); its first conv may have
            more than 3 input channels (extra channels are zeroed).
        init: A local path. EfficientNet files in lukemelas naming are remapped
            (:func:`load_efficientnet_lite0_imagenet`); any other file must hold a
            state dict with the encoder's own keys (optionally prefixed ``encoder.``).
            Hub names (``"imagenet"`` ...) raise
            :class:`~trimatte.errors.ModelUnavailableError`.
        encoder_name: The smp encoder name (for messages).

    Raises:
        ModelUnavailableError: ``init`` is not a local file but looks like a hub name.
        InputError: The file does not fit the encoder.
    """
    path = Path(init)
    if not path.is_file():
        if path.suffix or "/" in str(init) or "\\" in str(init):
            raise InputError("encoder weights file not found", path)
        no_hub_download(f"{init!r} weights for encoder {encoder_name!r}")
    state = read_state_dict(path)
    if is_lukemelas_efficientnet(state):
        load_efficientnet_lite0_imagenet(encoder, path)
        return
    if all(k.startswith("encoder.") for k in state):
        state = {k[len("encoder."):]: v for k, v in state.items()}
    load_into(encoder, state, ignore=("fc.", "classifier.", "head."), name=path)


def efficientnet_lite0_classifier(path: str | Path) -> nn.Module:
    """timm's ``efficientnet_lite0`` ImageNet classifier with the weights of ``path``.

    Expects inputs normalised with :data:`LITE0_MEAN` / :data:`LITE0_STD`. Used to
    check the remapping (the classifier must give sensible ImageNet predictions).
    """
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False, num_classes=1000)
    load_efficientnet_lite0_imagenet(model, path)
    return model.eval()


def input_statistics(
    encoder_init: str | None,
    input_mean: tuple[float, ...] | list[float] | None,
    input_std: tuple[float, ...] | list[float] | None,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The RGB normalisation statistics of an encoder's input.

    Args:
        encoder_init: The encoder weights file the network starts from, or None.
        input_mean, input_std: Given statistics (3 values each), or None.

    Returns:
        ``(mean, std)``, 3 floats each: the given ones, else those the ``encoder_init``
        weights expect (EfficientNet-Lite0's 0.5/0.5 for the lukemelas-style file),
        else ImageNet's.

    Raises:
        InputError: Not 3 values each, or a non-positive std.
    """
    default_mean, default_std = IMAGENET_MEAN, IMAGENET_STD
    if encoder_init is not None and (input_mean is None or input_std is None):
        if Path(encoder_init).is_file() and is_lukemelas_efficientnet(
            read_state_dict(encoder_init)
        ):
            default_mean, default_std = LITE0_MEAN, LITE0_STD
    mean = tuple(float(v) for v in (input_mean if input_mean is not None else default_mean))
    std = tuple(float(v) for v in (input_std if input_std is not None else default_std))
    if len(mean) != 3 or len(std) != 3:
        raise InputError(f"needs 3 RGB values each, got mean {mean} and std {std}",
                         "input_mean/input_std")
    if min(std) <= 0:
        raise InputError(f"must be positive, got {std}", "input_std")
    return mean, std
