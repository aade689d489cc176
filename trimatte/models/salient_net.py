"""Salient-object probability maps from the U²-Net-p network shipped with trimatte.

The weights (``trimatte/models/weights/u2netp.pth``, Apache-2.0, see
``NOTICE-u2netp.md`` beside them) are found, read and cached by
:mod:`trimatte.models.weights`; nothing is ever downloaded. (The trimap built from
the saliency map is :mod:`trimatte.trimap.saliency`.)

Pre- and post-processing, and why:

* **Resize** the image to ``size x size`` (320 by default, the training size),
  ignoring the aspect ratio as the network was trained; area interpolation when
  shrinking (no aliasing), bilinear when enlarging.
* **Divide by the image maximum**, then **ImageNet-normalise** (mean 0.485, 0.456,
  0.406; std 0.229, 0.224, 0.225). U-2-Net's training loader and rembg both divide
  by the maximum before normalising, so the weights expect a brightest pixel of 1;
  on a typical photo this is a no-op, on a dark or low-key photo it restores the
  contrast the network saw in training. An all-black image is left at zero.
* **Output** the fused map (first of the seven outputs) as a sigmoid probability.
  rembg (and U-2-Net's demo) additionally *min-max stretch* the map to [0, 1] per
  image; we do **not** by default (``stretch=False``): stretching makes every image
  contain a "certain" foreground pixel even when nothing is salient, which would
  make the thresholds of :func:`trimatte.trimap.saliency.trimap_from_saliency`
  meaningless. ``stretch=True`` reproduces rembg's convention.
* **Resize back** to ``H x W`` bilinearly and clip to [0, 1].
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import as_image
from trimatte.models.weights import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    cached,
    read_state_dict,
    resolve_weights,
    shipped_weights,
)

if TYPE_CHECKING:  # torch is imported only when a network runs
    from trimatte.models.u2netp import U2NetP

__all__ = [
    "INPUT_SIZE",
    "load_u2netp",
    "predict_saliency",
    "preprocess",
    "shipped_weights_path",
]

INPUT_SIZE = 320


def shipped_weights_path() -> Path:
    """Path of the U²-Net-p state dict shipped inside the package.

    Raises:
        ModelUnavailableError: The file is missing (a broken installation).
    """
    return shipped_weights("u2netp")


def _build_u2netp(path: Path, device: str) -> U2NetP:
    from trimatte.models.u2netp import U2NetP

    try:
        state = read_state_dict(path)
    except InputError as exc:  # corrupt file, not a torch file, ...
        raise InputError(f"cannot read a state dict ({exc.reason})", path) from exc
    model = U2NetP()
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise InputError(f"not a U2NetP state dict ({exc})", path) from exc
    model.to(device).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def load_u2netp(device: str = "cpu", *, weights: str | Path | None = None) -> U2NetP:
    """The U²-Net-p network with the shipped weights, in eval mode (cached per process).

    The same module object is returned on every call with the same ``device`` and
    ``weights``; do not modify it (copy it with ``copy.deepcopy`` to fine-tune).

    Args:
        device: Torch device string, e.g. ``"cpu"`` or ``"cuda:0"``.
        weights: A local state-dict file to load instead of the shipped one. Model-hub
            names and URLs are refused (trimatte never downloads weights).

    Returns:
        :class:`trimatte.models.u2netp.U2NetP` in eval mode, parameters frozen.

    Raises:
        ModelUnavailableError: ``weights`` is a URL / hub name, or the shipped file is missing.
        InputError: ``weights`` does not exist or is not a U2NetP state dict; bad device.
    """
    import torch

    try:
        device = str(torch.device(device))
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"not a torch device ({exc})", "device") from exc
    path = resolve_weights(
        weights, "u2netp", missing="no such weights file (expected a local U2NetP state dict)"
    )
    return cached(path, device, "u2netp", lambda: _build_u2netp(path, device))


def _check_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 32:
        raise InputError(f"must be an integer >= 32 pixels, got {size!r}", "size")
    return int(size)


def preprocess(image: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """The network input for ``image``: resized, max-scaled, ImageNet-normalised.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1] (anything :func:`as_image` accepts).
        size: Side of the square network input in pixels.

    Returns:
        float32 ``(1, 3, size, size)`` array.
    """
    image = as_image(image)
    size = _check_size(size)
    height, width = image.shape[:2]
    shrinking = size * size < height * width
    resized = cv2.resize(
        image, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    )
    peak = float(resized.max())
    if peak > 0:
        resized = resized / peak
    normalised = (resized - np.float32(IMAGENET_MEAN)) / np.float32(IMAGENET_STD)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[None], dtype=np.float32)


def predict_saliency(
    image: np.ndarray, *, model: U2NetP | None = None, size: int = INPUT_SIZE, stretch: bool = False
) -> np.ndarray:
    """Salient-object probability of every pixel of ``image``.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1] (uint8/uint16 are scaled).
        model: A :class:`~trimatte.models.u2netp.U2NetP`; default the shipped network
            on the CPU (:func:`load_u2netp`). It runs on its own device.
        size: Side of the square network input (320, the training size, is best).
        stretch: Min-max stretch the map to [0, 1] as rembg does (see module notes).

    Returns:
        float32 ``(H, W)`` saliency in [0, 1].

    Raises:
        InputError: Bad image or size.
    """
    import torch

    from trimatte.models.tensors import batch_to_map

    image = as_image(image)
    height, width = image.shape[:2]
    batch = preprocess(image, size)
    if model is None:
        model = load_u2netp()
    try:
        device = next(model.parameters()).device
    except (AttributeError, StopIteration, TypeError) as exc:
        raise InputError("expected a U2NetP torch module", "model") from exc
    with torch.inference_mode():
        fused = model(torch.from_numpy(batch).to(device))[0]
    saliency = batch_to_map(fused)
    if stretch:
        low, high = float(saliency.min()), float(saliency.max())
        saliency = (saliency - low) / (high - low) if high > low else np.zeros_like(saliency)
    saliency = cv2.resize(saliency, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(saliency, 0.0, 1.0).astype(np.float32, copy=False)
