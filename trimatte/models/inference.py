"""Running the DIM matting network on real images: any size, large images, batches.

What :func:`predict_alpha` does with one image and its trimap:

1. Optionally downscale so the long side is at most ``max_size`` (the alpha is
   upscaled back bilinearly at the end).
2. Crop to the bounding box of the trimap's unknown band plus ``context``
   pixels on every side (the crop's top-left corner is moved down to a multiple
   of the network stride, so the crop sees the same pixel grid as the full
   image). Pixels outside the crop are all known, so the network never runs on
   them. An image without unknown pixels is not run through the network at all.
3. Pad the crop on the bottom and right (edge replication) to a multiple of the
   stride, run the network under :func:`torch.inference_mode`, and remove the
   padding again (:func:`pad_to_multiple` / :func:`unpad`).
4. If the crop has more than ``tile_size**2`` pixels it is instead processed in
   overlapping ``tile_size`` tiles blended with linear ramps over the overlap
   (the outer quarter of each overlap, where a tile's own border effects are, gets
   weight 0); tiles without unknown pixels are skipped. Memory stays bounded by
   the tile size.
5. Known trimap pixels are set to 0 / 1 exactly (as
   :func:`trimatte.models.dim.keep_known` does for tensors).

:func:`predict_alpha_batch` does the same for many images, stacking crops of
equal padded size into batches of ``batch_size`` (results equal those of
:func:`predict_alpha`, image by image). ``half=True`` runs the network under
float16 autocast, on CUDA only (on the CPU it warns and uses float32).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trimatte.errors import InputError, TrimatteWarning
from trimatte.image import UNKNOWN, as_image, as_trimap, check_same_size
from trimatte.models.tensors import batch_to_map, image_to_batch, trimap_to_batch

__all__ = [
    "Pads",
    "Window",
    "pad_to_multiple",
    "predict_alpha",
    "predict_alpha_batch",
    "resize_tensor",
    "resolve_device",
    "tile_starts",
    "unknown_window",
    "unpad",
]

Pads = tuple[int, int]
"""Rows and columns added at the bottom and right by :func:`pad_to_multiple`."""


# ----------------------------------------------------------------------------- padding


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, Pads]:
    """Pad ``(B, C, H, W)`` at the bottom/right (edge replication) to multiples of ``multiple``.

    Returns:
        The padded tensor and ``(rows, cols)`` added, for :func:`unpad`.
    """
    if multiple < 1:
        raise InputError(f"must be a positive integer, got {multiple}", "multiple")
    height, width = x.shape[-2:]
    rows = (-height) % multiple
    cols = (-width) % multiple
    if rows == 0 and cols == 0:
        return x, (0, 0)
    return F.pad(x, (0, cols, 0, rows), mode="replicate"), (rows, cols)


def unpad(x: torch.Tensor, pads: Pads) -> torch.Tensor:
    """Undo :func:`pad_to_multiple` on a ``(B, C, H, W)`` tensor."""
    rows, cols = pads
    height, width = x.shape[-2:]
    return x[..., : height - rows, : width - cols]


def resize_tensor(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of ``(B, C, H, W)`` to ``size`` = (height, width), antialiased to shrink."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"auto"``/None -> CUDA when available else CPU; otherwise ``torch.device(device)``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"not a torch device: {device!r}", "device") from exc


# ----------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class Window:
    """A rectangle ``[top, bottom) x [left, right)`` of an image."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.bottom - self.top, self.right - self.left

    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)


def unknown_window(trimap: np.ndarray, context: int, stride: int = 1) -> Window | None:
    """Bounding box of the trimap's unknown pixels grown by ``context`` pixels.

    The box is clipped to the image and its top-left corner moved down to a
    multiple of ``stride``. Returns None when the trimap has no unknown pixel.
    """
    rows = np.flatnonzero((trimap == UNKNOWN).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((trimap == UNKNOWN).any(axis=0))
    height, width = trimap.shape
    top = max(0, int(rows[0]) - context)
    left = max(0, int(cols[0]) - context)
    top -= top % stride
    left -= left % stride
    bottom = min(height, int(rows[-1]) + 1 + context)
    right = min(width, int(cols[-1]) + 1 + context)
    return Window(top, bottom, left, right)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``[0, length)`` with >= ``overlap``."""
    if length <= tile:
        return [0]
    step = max(1, tile - overlap)
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def _ramp(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """Blend weights along one tile axis.

    At an edge shared with a neighbouring tile the weight is 0 for the first
    ``overlap // 4`` pixels (where the tile's own border effects are) and then
    rises linearly to 1 over the rest of the overlap; at an image edge it is 1.
    """
    weight = np.ones(length, np.float32)
    n = min(overlap, length)
    if n == 0:
        return weight
    skip = overlap // 4
    ramp = np.zeros(n, np.float32)
    ramp[skip:] = np.linspace(0.0, 1.0, n - skip + 1, dtype=np.float32)[1:]
    if not at_start:
        weight[:n] = np.minimum(weight[:n], ramp)
    if not at_end:
        weight[-n:] = np.minimum(weight[-n:], ramp[::-1])
    return weight


# ----------------------------------------------------------------------------- network


def _run_network(
    model: nn.Module,
    image: torch.Tensor,
    trimap: torch.Tensor,
    *,
    refine: bool,
    half: bool,
) -> torch.Tensor:
    """Padded forward pass; ``(B, 3, h, w)``, ``(B, 1, h, w)`` -> float32 alpha ``(B, 1, h, w)``."""
    stride = int(getattr(model, "stride", 32))
    image_p, pads = pad_to_multiple(image, stride)
    trimap_p, _ = pad_to_multiple(trimap, stride)
    if half:
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            out = model(image_p, trimap_p, refine=refine)
    else:
        out = model(image_p, trimap_p, refine=refine)
    return unpad(out["alpha"].float(), pads)


def _check_half(half: bool, device: torch.device) -> bool:
    if half and device.type != "cuda":
        warnings.warn(
            f"half precision is only used on CUDA; running in float32 on {device}",
            TrimatteWarning,
            stacklevel=3,
        )
        return False
    return half


@dataclass
class _Job:
    """One image prepared for the network."""

    index: int
    trimap_full: np.ndarray  # uint8 (H, W) at the original resolution
    image: np.ndarray  # float32 (h, w, 3), possibly downscaled
    trimap: np.ndarray  # uint8 (h, w), possibly downscaled
    window: Window | None
    alpha: np.ndarray | None = None  # float32 (h, w) network output inside window


def _prepare(index: int, image: np.ndarray, trimap: np.ndarray, *, context: int, stride: int,
             max_size: int | None) -> _Job:
    name = f"image[{index}]" if index >= 0 else "image"
    tname = f"trimap[{index}]" if index >= 0 else "trimap"
    image = as_image(image, name)
    trimap = as_trimap(trimap, tname)
    check_same_size(image.shape, trimap.shape, tname)
    full = trimap
    height, width = trimap.shape
    if max_size is not None and max(height, width) > max_size:
        import cv2

        scale = max_size / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        trimap = cv2.resize(trimap, size, interpolation=cv2.INTER_NEAREST)
        # a thin band can vanish when shrinking; keep every unknown pixel unknown
        unknown = cv2.resize((full == UNKNOWN).astype(np.uint8), size, interpolation=cv2.INTER_AREA)
        trimap[unknown > 0] = UNKNOWN
    return _Job(index, full, image, trimap, unknown_window(trimap, context, stride))


def _tiled_alpha(model, image, trimap, *, tile_size, tile_overlap, refine, half, device):
    height, width = trimap.shape
    stride = int(getattr(model, "stride", 32))
    tile = max(stride, tile_size - tile_size % stride)
    overlap = min(tile_overlap, tile // 2)
    total = np.zeros((height, width), np.float32)
    weight_sum = np.zeros((height, width), np.float32)
    ys, xs = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    for y in ys:
        for x in xs:
            sl = (slice(y, y + tile), slice(x, x + tile))
            if not (trimap[sl] == UNKNOWN).any():
                continue
            image_t = image_to_batch(image[sl], device)
            trimap_t = trimap_to_batch(trimap[sl], device)
            alpha = batch_to_map(_run_network(model, image_t, trimap_t, refine=refine, half=half))
            h, w = alpha.shape
            wy = _ramp(h, overlap, y == ys[0], y == ys[-1])
            wx = _ramp(w, overlap, x == xs[0], x == xs[-1])
            weight = wy[:, None] * wx[None, :]
            total[sl] += alpha * weight
            weight_sum[sl] += weight
    return total / np.maximum(weight_sum, 1e-12)


def _finish(job: _Job) -> np.ndarray:
    """Full-resolution alpha with the trimap's known pixels kept as given."""
    alpha = job.trimap.astype(np.float32) / 255.0
    if job.window is not None and job.alpha is not None:
        alpha[job.window.slices()] = job.alpha
    full = job.trimap_full
    if alpha.shape != full.shape:
        import cv2

        alpha = cv2.resize(alpha, (full.shape[1], full.shape[0]), interpolation=cv2.INTER_LINEAR)
    alpha = np.clip(alpha, 0.0, 1.0)
    alpha[full == 0] = 0.0
    alpha[full == 255] = 1.0
    return alpha.astype(np.float32)


# ----------------------------------------------------------------------------- public API


def predict_alpha_batch(
    model: nn.Module,
    images: Sequence[np.ndarray],
    trimaps: Sequence[np.ndarray],
    *,
    batch_size: int = 4,
    refine: bool = True,
    device: str | torch.device | None = "cpu",
    half: bool = False,
    context: int = 64,
    max_size: int | None = None,
    tile_size: int = 1024,
    tile_overlap: int = 64,
    progress: bool = False,
) -> list[np.ndarray]:
    """Alpha mattes for many images with the DIM network.

    Args:
        model: A :class:`trimatte.models.dim.DIMMatting` (or a module with the same
            ``forward(image, trimap, refine=...) -> {"alpha": ...}`` and ``stride``).
        images: ``(H, W, 3)`` RGB images (float in [0, 1] or uint8); sizes may differ.
        trimaps: Matching uint8 trimaps (0/128/255).
        batch_size: Crops of equal padded size are run together, this many at a time.
        refine: Use the refinement stage.
        device: ``"cpu"``, ``"cuda"``, ``"auto"``... The model is moved there.
        half: float16 autocast (CUDA only).
        context: Pixels of context around the unknown band's bounding box.
        max_size: Downscale images whose long side exceeds this (None: never).
        tile_size: Crops with more than ``tile_size**2`` pixels are processed in tiles.
        tile_overlap: Overlap of neighbouring tiles (blended linearly).
        progress: Show a tqdm progress bar.

    Returns:
        float32 ``(H, W)`` alpha per image, at each image's own size, with the
        trimap's known pixels exactly 0 or 1.

    Raises:
        InputError: Mismatched list lengths, bad arrays, or image/trimap size mismatch.
    """
    if len(images) != len(trimaps):
        raise InputError(f"{len(images)} images but {len(trimaps)} trimaps", "trimaps")
    if batch_size < 1:
        raise InputError(f"must be at least 1, got {batch_size}", "batch_size")
    device = resolve_device(device)
    half = _check_half(half, device)
    stride = int(getattr(model, "stride", 32))
    jobs = [
        _prepare(i if len(images) > 1 else -1, im, tri, context=context, stride=stride,
                 max_size=max_size)
        for i, (im, tri) in enumerate(zip(images, trimaps, strict=True))
    ]
    groups: dict[tuple[int, int], list[_Job]] = {}
    tiled: list[_Job] = []
    for job in jobs:
        if job.window is None:
            continue
        h, w = job.window.shape
        if h * w > tile_size * tile_size:
            tiled.append(job)
        else:
            groups.setdefault((h + (-h) % stride, w + (-w) % stride), []).append(job)
    batches = [group[i:i + batch_size] for group in groups.values()
               for i in range(0, len(group), batch_size)]

    from tqdm.auto import tqdm

    was_training = model.training
    model.to(device).eval()
    try:
        with torch.inference_mode(), tqdm(total=len(jobs), desc="matting", unit="image",
                                          disable=not progress) as bar:
            bar.update(len(jobs) - len(tiled) - sum(len(b) for b in batches))
            for batch in batches:
                padded = []
                for job in batch:
                    sl = job.window.slices()
                    image_t = image_to_batch(job.image[sl], device)
                    trimap_t = trimap_to_batch(job.trimap[sl], device)
                    image_p, pads = pad_to_multiple(image_t, stride)
                    trimap_p, _ = pad_to_multiple(trimap_t, stride)
                    padded.append((image_p, trimap_p, pads))
                alpha = _run_network(
                    model,
                    torch.cat([p[0] for p in padded]),
                    torch.cat([p[1] for p in padded]),
                    refine=refine,
                    half=half,
                )
                for k, (job, (_, _, pads)) in enumerate(zip(batch, padded, strict=True)):
                    job.alpha = batch_to_map(unpad(alpha[k:k + 1], pads))
                bar.update(len(batch))
            for job in tiled:
                sl = job.window.slices()
                job.alpha = _tiled_alpha(
                    model, job.image[sl], job.trimap[sl], tile_size=tile_size,
                    tile_overlap=tile_overlap, refine=refine, half=half, device=device,
                )
                bar.update(1)
    finally:
        model.train(was_training)
    return [_finish(job) for job in jobs]


def predict_alpha(
    model: nn.Module,
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    refine: bool = True,
    device: str | torch.device | None = "cpu",
    half: bool = False,
    context: int = 64,
    max_size: int | None = None,
    tile_size: int = 1024,
    tile_overlap: int = 64,
) -> np.ndarray:
    """Alpha matte of one image with the DIM network (see the module docstring).

    Args:
        model: A :class:`trimatte.models.dim.DIMMatting`.
        image: ``(H, W, 3)`` RGB (float in [0, 1] or uint8), any size.
        trimap: uint8 ``(H, W)`` trimap (0/128/255).
        refine, device, half, context, max_size, tile_size, tile_overlap: As in
            :func:`predict_alpha_batch`.

    Returns:
        float32 ``(H, W)`` alpha in [0, 1]; known trimap pixels are exactly 0 or 1.
    """
    return predict_alpha_batch(
        model, [image], [trimap], batch_size=1, refine=refine, device=device, half=half,
        context=context, max_size=max_size, tile_size=tile_size, tile_overlap=tile_overlap,
    )[0]
