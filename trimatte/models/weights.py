"""The one place that finds, reads, caches and describes network weights.

* **Find.** Shipped weights live in the package folder ``trimatte/models/weights``
  (:func:`weights_folder`), one file per network in :data:`SHIPPED`, with their licence
  and notice files beside them. :func:`resolve_weights` turns ``"default"`` (or None)
  into the shipped file and anything else into a local file. trimatte never downloads:
  a URL or model-hub name raises :class:`~trimatte.errors.ModelUnavailableError`.
* **Read.** :func:`read_checkpoint` opens a trimatte checkpoint (weights + architecture
  config + metadata, see :mod:`trimatte.models.checkpoint`); :func:`read_state_dict`
  opens a plain state dict (a mapping of names to tensors). Both load with
  ``weights_only=True`` (never run pickled code) onto the CPU, and raise
  :class:`~trimatte.errors.InputError` naming the file when it is missing or foreign.
* **Cache.** :func:`cached` keeps one loaded network per (file, modification time,
  device, kind) for the life of the process; the caller says how to build it, so this
  module imports no architecture.
* **Describe.** :func:`describe_weights` summarises a file (size, format, architecture,
  metadata, notice) without building a network.

It also holds the input statistics the encoders' ImageNet weights expect
(:data:`IMAGENET_MEAN`/:data:`IMAGENET_STD`, :data:`LITE0_MEAN`/:data:`LITE0_STD`).
torch is imported only when a file is read.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from trimatte.errors import InputError, ModelUnavailableError
from trimatte.models.hub import no_hub_download

__all__ = [
    "FORMAT",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LITE0_MEAN",
    "LITE0_STD",
    "SHIPPED",
    "VERSION",
    "cached",
    "clear_cache",
    "describe_weights",
    "is_hub_name",
    "read_checkpoint",
    "read_state_dict",
    "resolve_weights",
    "shipped_weights",
    "weights_folder",
]

T = TypeVar("T")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
"""RGB mean of ImageNet, for inputs in [0, 1] (torchvision's, U²-Net's and DIM's)."""
IMAGENET_STD = (0.229, 0.224, 0.225)
"""RGB standard deviation of ImageNet, for inputs in [0, 1]."""
LITE0_MEAN = (0.5, 0.5, 0.5)
"""Input mean the EfficientNet-Lite0 ImageNet classifier expects (RGB in [0, 1])."""
LITE0_STD = (0.5, 0.5, 0.5)
"""Input standard deviation of the EfficientNet-Lite0 ImageNet classifier."""

FORMAT = "trimatte-checkpoint"
"""``payload["format"]`` of a trimatte checkpoint file."""
VERSION = 1
"""The checkpoint format version this trimatte reads and writes."""

SHIPPED = {
    "dim": "dim_lite0.pth",
    "guided": "guided_lite0.pth",
    "unet-trimap": "unet_trimap_lite0.pth",
    "u2netp": "u2netp.pth",
}
"""File name, inside :func:`weights_folder`, of the default weights of each network."""

_HUB_PREFIXES = ("http://", "https://", "hf://", "hf-hub:", "hub:", "s3://", "gs://")
_CACHE: dict[tuple[Any, ...], Any] = {}


def weights_folder() -> Path:
    """The package folder holding shipped weights (``trimatte/models/weights``)."""
    return Path(str(importlib.resources.files("trimatte.models"))) / "weights"


def shipped_weights(network: str) -> Path:
    """Path of the weights shipped for ``network`` (a key of :data:`SHIPPED`).

    Raises:
        ModelUnavailableError: The file does not ship with this version (or the
            installation is broken).
        InputError: ``network`` is not a key of :data:`SHIPPED`.
    """
    if network not in SHIPPED:
        raise InputError(
            f"no shipped weights are known for {network!r}; known: {', '.join(sorted(SHIPPED))}",
            "network",
        )
    path = weights_folder() / SHIPPED[network]
    if not path.is_file():
        raise ModelUnavailableError(
            f"no default weights for the {network!r} network ship with this version "
            f"of trimatte (expected {path}); pass weights=<path to a local weights file>"
        )
    return path


def is_hub_name(weights: str | Path) -> bool:
    """True for a URL or model-hub identifier (``https://...``, ``hf://...``)."""
    return str(weights).lower().startswith(_HUB_PREFIXES)


def resolve_weights(
    weights: str | Path | None, network: str, *, missing: str = "weights file not found"
) -> Path:
    """The local file for ``weights``: ``"default"``/None → the shipped file, else a path.

    Args:
        weights: ``"default"``, None, or a local file path.
        network: Key of :data:`SHIPPED` used for ``"default"``, and in messages.
        missing: Message when a given path does not exist.

    Returns:
        An absolute path to an existing file.

    Raises:
        ModelUnavailableError: A URL or hub name (never downloaded), or no shipped file.
        InputError: The given path does not exist.
    """
    if weights is None or str(weights) == "default":
        return shipped_weights(network)
    if is_hub_name(weights):
        no_hub_download(f"{network} weights {str(weights)!r}")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise InputError(missing, weights)
    return path.resolve()


def _torch_load(path: Path, what: str) -> Any:
    """``torch.load`` of a local file (CPU, ``weights_only``), errors naming ``what``."""
    import torch

    if not path.exists():
        raise InputError(f"{what} file not found", path)
    if path.is_dir():
        raise InputError(f"is a folder, expected a {what} file", path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated / foreign files
        raise InputError(
            f"not a readable {what} (corrupt or not a torch file): {type(exc).__name__}", path
        ) from exc


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a trimatte checkpoint file without building the model.

    Returns:
        The dict with ``"config"``, ``"state_dict"``, ``"metadata"`` (and format/version).

    Raises:
        InputError: Missing, unreadable, corrupt, or not a trimatte checkpoint.
    """
    path = Path(path)
    payload = _torch_load(path, "checkpoint")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(
            "not a trimatte checkpoint (a bare state dict? save it with "
            "trimatte.models.checkpoint.save_checkpoint)",
            path,
        )
    if payload.get("version") != VERSION:
        raise InputError(
            f"checkpoint format version {payload.get('version')!r} is not supported "
            f"(this trimatte reads version {VERSION})",
            path,
        )
    for key in ("config", "state_dict", "metadata"):
        if not isinstance(payload.get(key), dict):
            raise InputError(f"checkpoint has no valid {key!r} entry", path)
    return payload


def read_state_dict(path: str | Path) -> dict[str, Any]:
    """Load a plain state dict (mapping of names to tensors) from a local file.

    Accepts a bare state dict, a trimatte checkpoint, or one nested under
    ``"state_dict"``/``"model"``.

    Raises:
        InputError: Missing, unreadable, or not a tensor mapping.
    """
    import torch

    path = Path(path)
    payload = _torch_load(path, "weights")
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        payload = payload.get("state_dict")
    for key in ("state_dict", "model"):
        if isinstance(payload, dict) and isinstance(payload.get(key), dict):
            payload = payload[key]
    if not isinstance(payload, dict) or not payload or not all(
        isinstance(v, torch.Tensor) for v in payload.values()
    ):
        raise InputError("does not hold a state dict (a mapping of names to tensors)", path)
    return dict(payload)


def cached(path: Path, device: object, kind: str, load: Callable[[], T]) -> T:
    """The network loaded from ``path`` for ``device``, built by ``load()`` once per process.

    The key is the resolved file, its modification time, the device and ``kind`` (what
    the file is loaded as, e.g. ``"checkpoint"`` or ``"u2netp"``), so a file rewritten
    on disk is loaded again. Do not modify the returned network in place.
    """
    path = Path(path)
    key = (str(path.resolve()), path.stat().st_mtime_ns, str(device), kind)
    if key not in _CACHE:
        _CACHE[key] = load()
    return _CACHE[key]


def clear_cache() -> None:
    """Forget every cached network (frees their memory once no one else holds them)."""
    _CACHE.clear()


def describe_weights(weights: str | Path | None = "default", network: str = "dim") -> dict:
    """A summary of a weights file, without building the network.

    Args:
        weights: ``"default"`` (the shipped file of ``network``) or a local path.
        network: Key of :data:`SHIPPED`, for ``"default"``.

    Returns:
        ``{"path", "bytes", "format"}`` with ``format`` ``"trimatte-checkpoint"`` or
        ``"state-dict"``; a checkpoint adds ``"architecture"``, ``"config"`` and
        ``"metadata"``, a state dict ``"tensors"`` and ``"parameters"``; ``"notice"``
        is the ``NOTICE-*.md`` file beside a shipped file (or None).

    Raises:
        ModelUnavailableError, InputError: As :func:`resolve_weights` and the readers.
    """
    path = resolve_weights(weights, network)
    info: dict[str, Any] = {"path": str(path), "bytes": path.stat().st_size}
    payload = _torch_load(path, "weights")
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        payload = read_checkpoint(path)
        info.update(
            format=FORMAT,
            architecture=payload["config"].get("architecture"),
            config=dict(payload["config"]),
            metadata=dict(payload["metadata"]),
        )
    else:
        state = read_state_dict(path)
        info.update(
            format="state-dict",
            tensors=len(state),
            parameters=int(sum(t.numel() for t in state.values())),
        )
    notice = path.parent / f"NOTICE-{path.stem}.md"
    info["notice"] = str(notice) if notice.is_file() else None
    return info
