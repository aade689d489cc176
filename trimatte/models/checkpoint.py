"""Model checkpoints: weights + the config needed to rebuild the architecture.

A checkpoint file is a ``torch.save`` of a plain dict (loadable with
``torch.load(..., weights_only=True)``, so opening one never runs pickled code)::

    {
        "format": "trimatte-checkpoint",
        "version": 1,
        "config": {"architecture": "dim", "encoder": "tu-efficientnet_lite0", ...},
        "state_dict": {...},        # tensors
        "metadata": {...},          # free-form: epoch, metrics, data, git commit ...
    }

``config["architecture"]`` names a builder in :data:`ARCHITECTURES` (``"dim"`` ->
:func:`trimatte.models.dim.build_matting_net`, ``"unet-trimap"`` ->
:func:`trimatte.models.trimap_unet.build_trimap_net`); the other keys are its
keyword arguments. Models built by those functions carry the config as
``model.config``, so :func:`save_checkpoint` needs only the model.

Files are written atomically (:func:`trimatte.io.atomic_write_bytes`) and read by
:func:`trimatte.models.weights.read_checkpoint`; a missing, corrupt or incompatible
file raises :class:`~trimatte.errors.InputError` naming the file.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.io import atomic_write_bytes
from trimatte.models.weights import FORMAT, VERSION, read_checkpoint

__all__ = [
    "ARCHITECTURES",
    "FORMAT",
    "VERSION",
    "load_checkpoint",
    "load_model",
    "model_from_config",
    "save_checkpoint",
]


def _build_dim(**kwargs: Any) -> nn.Module:
    from trimatte.models.dim import build_matting_net

    return build_matting_net(**kwargs)


def _build_trimap_unet(**kwargs: Any) -> nn.Module:
    from trimatte.models.trimap_unet import build_trimap_net

    return build_trimap_net(**kwargs)


def _build_guided(**kwargs: Any) -> nn.Module:
    from trimatte.models.guided import build_guided_net

    return build_guided_net(**kwargs)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "dim": _build_dim,
    "guided": _build_guided,
    "unet-trimap": _build_trimap_unet,
}


def model_from_config(config: dict[str, Any], source: object = "config") -> nn.Module:
    """Build an (untrained, randomly initialised) model from its config dict.

    Raises:
        InputError: No or unknown ``architecture``, or parameters the builder rejects.
    """
    if not isinstance(config, dict) or "architecture" not in config:
        raise InputError("model config has no 'architecture'", source)
    params = {k: v for k, v in config.items() if k != "architecture"}
    params.pop("encoder_init", None)  # weights come from the state dict, never re-initialised
    if isinstance(params.get("decoder_channels"), list):
        params["decoder_channels"] = tuple(params["decoder_channels"])
    name = config["architecture"]
    if name not in ARCHITECTURES:
        raise InputError(
            f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}", source
        )
    try:
        return ARCHITECTURES[name](**params)
    except TypeError as exc:
        raise InputError(f"config does not fit architecture {name!r}: {exc}", source) from exc


def save_checkpoint(
    model: nn.Module,
    path: str | Path,
    metadata: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    *,
    half: bool = False,
) -> Path:
    """Write ``model``'s weights, config and ``metadata`` to ``path`` atomically.

    Args:
        model: A model built by this package (it has ``.config``), or any module
            when ``config`` is given.
        path: Target file (``.pth`` by convention); parent folders are created.
        metadata: JSON-like extra information (numbers, strings, lists, dicts).
        config: Overrides ``model.config``.
        half: Store floating-point tensors as float16 (half the size, for shipping);
            :func:`load_model` casts them back to the model's float32.

    Returns:
        The path written.

    Raises:
        InputError: The model has no config.
    """
    config = dict(config if config is not None else getattr(model, "config", None) or {})
    if "architecture" not in config:
        raise InputError(
            "model has no config with an 'architecture'; build it with "
            "build_matting_net/build_trimap_net or pass config=",
            "model",
        )
    state_dict = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if half:
        state_dict = {
            k: v.half() if v.is_floating_point() else v for k, v in state_dict.items()
        }
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": config,
        "state_dict": state_dict,
        "metadata": dict(metadata or {}),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint file without building the model (see
    :func:`trimatte.models.weights.read_checkpoint`, which this calls).

    Returns:
        The dict with ``"config"``, ``"state_dict"``, ``"metadata"`` (and format/version).

    Raises:
        InputError: Missing, unreadable, corrupt, or not a trimatte checkpoint.
    """
    return read_checkpoint(path)


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the architecture stored in a checkpoint and load its weights.

    Args:
        path: A file written by :func:`save_checkpoint`.
        map_location: Device for the returned model.

    Returns:
        The model in eval mode, with ``.config`` and ``.metadata`` attributes.

    Raises:
        InputError: Missing/corrupt file, or weights that do not fit the stored
            architecture (the message lists a few missing/unexpected/mismatched keys).
    """
    path = Path(path)
    payload = load_checkpoint(path)
    model = model_from_config(payload["config"], source=path)
    state_dict = payload["state_dict"]
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    mismatched = sorted(
        k for k in set(own) & set(state_dict) if tuple(own[k].shape) != tuple(state_dict[k].shape)
    )
    if missing or unexpected or mismatched:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected),
                            ("wrong shape", mismatched)):
            if keys:
                parts.append(f"{len(keys)} {label} (e.g. {', '.join(keys[:3])})")
        raise InputError(
            "weights do not fit the stored architecture: " + "; ".join(parts), path
        )
    model.load_state_dict(state_dict)
    model.metadata = dict(payload["metadata"])
    return model.to(map_location).eval()
