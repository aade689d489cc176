"""The one boundary between the library's numpy arrays and torch tensors.

Arrays follow :mod:`trimatte.image` (image float32 ``(H, W, 3)`` in [0, 1], trimap
uint8 ``(H, W)`` 0/128/255, alpha and other maps float32 ``(H, W)``); networks take
float32 ``(B, C, H, W)`` batches. Training samples (no batch axis) use :func:`to_chw`,
inference uses the ``*_to_batch`` functions and reads results back with
:func:`batch_to_map` / :func:`batch_to_image`. A trimap enters a network as
``trimap / 255`` (0, ~0.502, 1).

Example:
    >>> import numpy as np
    >>> from trimatte.models.tensors import image_to_batch, batch_to_image
    >>> image = np.zeros((4, 5, 3), np.float32)
    >>> tuple(image_to_batch(image).shape)
    (1, 3, 4, 5)
    >>> batch_to_image(image_to_batch(image)).shape
    (4, 5, 3)
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "batch_to_image",
    "batch_to_map",
    "image_to_batch",
    "map_to_batch",
    "to_chw",
    "trimap_to_batch",
    "trimap_to_float",
]


def trimap_to_float(trimap: np.ndarray) -> np.ndarray:
    """float32 ``trimap / 255`` (0 background, ~0.502 unknown, 1 foreground), same shape."""
    return np.asarray(trimap).astype(np.float32) / 255.0


def to_chw(array: np.ndarray) -> torch.Tensor:
    """A training sample's array as a float32 ``(C, H, W)`` tensor (a copy, contiguous).

    Args:
        array: ``(H, W)`` (becomes ``(1, H, W)``) or ``(H, W, C)``; a uint8 trimap
            should go through :func:`trimap_to_float` first.
    """
    array = np.asarray(array)
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def image_to_batch(image: np.ndarray, device: str | torch.device | None = None) -> torch.Tensor:
    """float32 ``(H, W, 3)`` image → ``(1, 3, H, W)`` tensor on ``device`` (a view if it can)."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    return tensor if device is None else tensor.to(device)


def trimap_to_batch(trimap: np.ndarray, device: str | torch.device | None = None) -> torch.Tensor:
    """uint8 ``(H, W)`` trimap → float32 ``(1, 1, H, W)`` tensor of ``trimap / 255``."""
    tensor = torch.from_numpy(trimap_to_float(trimap))[None, None]
    return tensor if device is None else tensor.to(device)


def map_to_batch(array: np.ndarray, device: str | torch.device | None = None) -> torch.Tensor:
    """float ``(H, W)`` map (alpha, saliency, prior) → float32 ``(1, 1, H, W)`` tensor."""
    tensor = torch.from_numpy(np.asarray(array, dtype=np.float32))[None, None]
    return tensor if device is None else tensor.to(device)


def batch_to_map(tensor: torch.Tensor, index: int = 0) -> np.ndarray:
    """Channel 0 of batch item ``index`` of a ``(B, C, H, W)`` tensor → float32 ``(H, W)`` array."""
    return tensor[index, 0].float().cpu().numpy()


def batch_to_image(tensor: torch.Tensor, index: int = 0) -> np.ndarray:
    """Batch item ``index`` of a ``(B, C, H, W)`` tensor → float32 ``(H, W, C)`` array."""
    return np.ascontiguousarray(tensor[index].float().permute(1, 2, 0).cpu().numpy())
