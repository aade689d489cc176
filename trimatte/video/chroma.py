"""Sharper colour edges for video decoded from subsampled chroma (4:2:0, 4:2:2).

Nearly every H.264, HEVC and VP9 file stores its two colour-difference planes at half
the width (and, for 4:2:0, half the height) of the brightness plane, and the decoder
stretches them back smoothly. A subject whose colour, not brightness, separates it
from the background then gets a colour edge two pixels wide, and matting reads that
blur as partial alpha: the matte's rim spreads over 3-4 pixels and eats into the
subject. :func:`restore_chroma` rebuilds the colour planes at full resolution from the
full-resolution brightness, by the local linear model of the guided filter (He, Sun
and Tang, 2010): in each small window of the subsampled grid the colour is fitted as
``a * Y + b``, and the averaged coefficients are applied to the full-resolution ``Y``.
Where colour follows brightness across an edge, the edge comes back sharp; where it
does not (same brightness, different colour) the result stays as smooth as the
decoder's.

Arrays: float32 ``(H, W, 3)`` RGB in [0, 1], as everywhere in trimatte.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from trimatte.image import as_image

__all__ = ["chroma_subsampling", "restore_chroma"]


def _box(array: np.ndarray, radius: int) -> np.ndarray:
    size = 2 * radius + 1
    return cv2.blur(array, (size, size), borderType=cv2.BORDER_REFLECT)


def restore_chroma(image: np.ndarray, factors: tuple[int, int] = (2, 2), *, radius: int = 1,
                   eps: float = 1e-5) -> np.ndarray:
    """Rebuild the colour of a frame decoded from subsampled chroma, guided by its luma.

    The frame is split into BT.601 luma and the two colour differences; both are
    averaged onto the subsampled grid, each colour difference is fitted there as
    ``a * Y + b`` over ``(2 radius + 1)``-sample windows, and the window-averaged
    ``a`` and ``b``, enlarged to full size, are applied to the full-resolution luma.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1], as decoded.
        factors: ``(horizontal, vertical)`` subsampling of the chroma planes: (2, 2) for
            4:2:0, (2, 1) for 4:2:2; (1, 1) returns the frame unchanged.
        radius: Window radius on the subsampled grid (1: 3x3 samples, 6x6 pixels).
        eps: Regulariser of the fit (variance units of [0, 1] luma): larger keeps more
            of the decoder's smooth colour.

    Returns:
        float32 ``(H, W, 3)`` RGB in [0, 1], a new array with the same luma.

    Raises:
        InputError: ``image`` is not an RGB image.
        ValueError: ``factors`` below 1, ``radius`` below 1 or ``eps`` not positive.
    """
    image = as_image(image, "image")
    fx, fy = (int(f) for f in factors)
    if fx < 1 or fy < 1 or radius < 1 or not eps > 0:
        raise ValueError(f"need factors >= 1, radius >= 1 and eps > 0, got {factors}, "
                         f"{radius}, {eps}")
    height, width = image.shape[:2]
    small = (max(1, -(-width // fx)), max(1, -(-height // fy)))
    if (fx, fy) == (1, 1) or small == (width, height):
        return image.copy()
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    luma = np.ascontiguousarray(ycc[..., 0])
    luma_small = cv2.resize(luma, small, interpolation=cv2.INTER_AREA)
    mean_luma = _box(luma_small, radius)
    variance = _box(luma_small * luma_small, radius) - mean_luma * mean_luma
    for channel in (1, 2):
        colour = cv2.resize(np.ascontiguousarray(ycc[..., channel]), small,
                            interpolation=cv2.INTER_AREA)
        mean_colour = _box(colour, radius)
        slope = (_box(luma_small * colour, radius) - mean_luma * mean_colour) / (
            np.maximum(variance, 0.0) + np.float32(eps))
        offset = mean_colour - slope * mean_luma
        slope = cv2.resize(_box(slope, radius), (width, height), interpolation=cv2.INTER_LINEAR)
        offset = cv2.resize(_box(offset, radius), (width, height),
                            interpolation=cv2.INTER_LINEAR)
        ycc[..., channel] = slope * luma + offset
    rgb = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


@functools.lru_cache(maxsize=64)
def chroma_subsampling(pixel_format: str) -> tuple[int, int]:
    """``(horizontal, vertical)`` chroma subsampling of an FFmpeg pixel format (cached).

    Args:
        pixel_format: FFmpeg's name, e.g. ``"yuv420p"``, ``"nv12"``, ``"yuv422p10le"``.

    Returns:
        (2, 2) for 4:2:0, (2, 1) for 4:2:2, (4, 1) for 4:1:1, (1, 1) for 4:4:4, RGB,
        grey or a name PyAV does not know.
    """
    import av

    try:
        planes = av.VideoFormat(pixel_format, 64, 64).components
    except (ValueError, av.FFmpegError, TypeError):
        return (1, 1)
    luma = [c for c in planes if getattr(c, "is_luma", False)]
    chroma = [c for c in planes if getattr(c, "is_chroma", False)]
    if not luma or not chroma:
        return (1, 1)
    return (max(1, round(luma[0].width / chroma[0].width)),
            max(1, round(luma[0].height / chroma[0].height)))
