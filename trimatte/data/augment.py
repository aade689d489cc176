"""DIM-style training augmentation as small pure functions.

Every random choice comes from the :class:`numpy.random.Generator` passed in, so a
sample is a pure function of its generator's seed (see
:class:`trimatte.data.datasets.CompositionDataset`, which seeds one generator per
``(seed, epoch, index)``). Arrays follow :mod:`trimatte.image`: images and
foregrounds float32 ``(H, W, 3)`` in [0, 1], alpha float32 ``(H, W)`` in [0, 1],
trimaps uint8 ``(H, W)`` with 0/128/255.

The recipe (Xu et al., *Deep Image Matting*, CVPR 2017, section 4.1 and 5):

1. flip the foreground and alpha, jitter the foreground's colours;
2. pick a crop size from ``(320, 480, 640)`` and a crop window centred on a random
   pixel of the unknown region, resize the crop to 320x320;
3. take a random crop of a random background of the same output size;
4. composite ``I = alpha * F + (1 - alpha) * B``;
5. build a random trimap by eroding the opaque and the clear regions of the alpha
   with random radii (:func:`trimatte.trimap.morphology.random_trimap`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.foreground import compositing

#: Alpha values above this count as opaque when choosing crop centres.
OPAQUE = 1.0 - 0.5 / 255.0
#: Alpha values below this count as transparent when choosing crop centres.
TRANSPARENT = 0.5 / 255.0


def composite(foreground: np.ndarray, background: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``I = alpha * F + (1 - alpha) * B`` for training samples (argument order F, B, alpha).

    A thin adapter over the library's one compositing function,
    :func:`trimatte.foreground.compositing.composite` (order F, alpha, B); new code
    should call that directly.

    Args:
        foreground: float32 ``(H, W, 3)`` in [0, 1].
        background: float32 ``(H, W, 3)`` in [0, 1].
        alpha: float32 ``(H, W)`` in [0, 1].

    Returns:
        float32 ``(H, W, 3)`` composite.

    Raises:
        InputError: The three arrays do not share height and width, or values outside [0, 1].
    """
    if foreground.shape[:2] != alpha.shape[:2] or background.shape[:2] != alpha.shape[:2]:
        raise InputError(
            f"foreground {foreground.shape[:2]}, background {background.shape[:2]} and "
            f"alpha {alpha.shape[:2]} must have the same size",
            "composite",
        )
    return compositing.composite(foreground, alpha, background)


def resize(array: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """Resize an ``(H, W)`` or ``(H, W, C)`` array to ``size = (height, width)``.

    Shrinking uses area averaging, enlarging bilinear interpolation, and
    ``nearest=True`` nearest neighbour (for trimaps and label maps). The dtype is kept.
    """
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise InputError(f"target size must be positive, got {size}", "resize")
    if array.shape[:2] == (height, width):
        return array.copy()
    if nearest:
        interpolation = cv2.INTER_NEAREST
    elif height < array.shape[0] and width < array.shape[1]:
        interpolation = cv2.INTER_AREA
    else:
        interpolation = cv2.INTER_LINEAR
    out = cv2.resize(array, (width, height), interpolation=interpolation)
    if array.ndim == 3 and out.ndim == 2:
        out = out[:, :, None]
    return out.astype(array.dtype, copy=False)


def limit_size(array: np.ndarray, max_side: int | None, nearest: bool = False) -> np.ndarray:
    """Shrink ``array`` so that its longer side is at most ``max_side`` (None: unchanged)."""
    if max_side is None or max(array.shape[:2]) <= max_side:
        return array
    scale = max_side / max(array.shape[:2])
    height = max(1, round(array.shape[0] * scale))
    width = max(1, round(array.shape[1] * scale))
    return resize(array, (height, width), nearest=nearest)


def random_flip(
    rng: np.random.Generator, *arrays: np.ndarray, probability: float = 0.5
) -> tuple[np.ndarray, ...]:
    """Flip all ``arrays`` left-right together with the given probability."""
    if rng.random() < probability:
        return tuple(np.ascontiguousarray(a[:, ::-1]) for a in arrays)
    return tuple(arrays)


def color_jitter(
    image: np.ndarray,
    rng: np.random.Generator,
    hue: float = 0.05,
    saturation: float = 0.3,
    brightness: float = 0.2,
    contrast: float = 0.2,
) -> np.ndarray:
    """Random hue shift and saturation, brightness and contrast scaling.

    Args:
        image: float32 ``(H, W, 3)`` in [0, 1].
        rng: Source of randomness.
        hue: Maximum hue shift as a fraction of the colour circle.
        saturation, brightness, contrast: Maximum relative change (factor drawn
            uniformly from ``[1 - x, 1 + x]``).

    Returns:
        float32 ``(H, W, 3)`` in [0, 1].
    """
    hue_shift = rng.uniform(-hue, hue) * 360.0
    sat_factor = rng.uniform(1.0 - saturation, 1.0 + saturation)
    bright_factor = rng.uniform(1.0 - brightness, 1.0 + brightness)
    contrast_factor = rng.uniform(1.0 - contrast, 1.0 + contrast)
    hsv = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32), cv2.COLOR_RGB2HSV)
    hsv[:, :, 0] = np.mod(hsv[:, :, 0] + hue_shift, 360.0)
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * sat_factor, 0.0, 1.0)
    hsv[:, :, 2] = np.clip(hsv[:, :, 2] * bright_factor, 0.0, 1.0)
    out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    mean = float(out.mean())
    out = (out - mean) * contrast_factor + mean
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def unknown_region(alpha: np.ndarray) -> np.ndarray:
    """bool ``(H, W)``: pixels whose alpha is neither transparent nor opaque."""
    return (alpha > TRANSPARENT) & (alpha < OPAQUE)


def crop_box_around_unknown(
    alpha: np.ndarray, crop_size: int, rng: np.random.Generator
) -> tuple[int, int]:
    """Top-left corner ``(y, x)`` of a ``crop_size`` square centred on a random unknown pixel.

    The window is shifted to stay inside the image, so the chosen pixel is at the
    centre unless it lies near a border. With no unknown pixel (an all-opaque or
    all-transparent alpha) the centre is a uniformly random pixel.

    Raises:
        InputError: The image is smaller than ``crop_size``.
    """
    height, width = alpha.shape[:2]
    if height < crop_size or width < crop_size:
        raise InputError(
            f"image {width}x{height} is smaller than the crop {crop_size}x{crop_size}; "
            "enlarge it first (see ensure_min_size)",
            "crop",
        )
    ys, xs = np.nonzero(unknown_region(alpha))
    if ys.size:
        pick = int(rng.integers(ys.size))
        cy, cx = int(ys[pick]), int(xs[pick])
    else:
        cy, cx = int(rng.integers(height)), int(rng.integers(width))
    y0 = min(max(cy - crop_size // 2, 0), height - crop_size)
    x0 = min(max(cx - crop_size // 2, 0), width - crop_size)
    return y0, x0


def ensure_min_size(array: np.ndarray, min_side: int, nearest: bool = False) -> np.ndarray:
    """Enlarge ``array`` (keeping its aspect) so that its shorter side is at least ``min_side``."""
    short = min(array.shape[:2])
    if short >= min_side:
        return array
    scale = min_side / short
    height = max(min_side, int(np.ceil(array.shape[0] * scale)))
    width = max(min_side, int(np.ceil(array.shape[1] * scale)))
    return resize(array, (height, width), nearest=nearest)


def crop(array: np.ndarray, y0: int, x0: int, size: int) -> np.ndarray:
    """The ``size`` x ``size`` window of ``array`` with top-left corner ``(y0, x0)``."""
    return array[y0 : y0 + size, x0 : x0 + size]


def random_crop_around_unknown(
    foreground: np.ndarray,
    alpha: np.ndarray,
    rng: np.random.Generator,
    crop_sizes: Sequence[int] = (320, 480, 640),
    out_size: int = 320,
) -> tuple[np.ndarray, np.ndarray]:
    """DIM's random crop: a square of a random size from ``crop_sizes`` centred on an
    unknown pixel, resized to ``out_size``.

    Images smaller than the chosen crop are first enlarged.

    Returns:
        foreground float32 ``(out_size, out_size, 3)``, alpha float32 ``(out_size, out_size)``.
    """
    if not crop_sizes:
        raise InputError("needs at least one crop size", "crop_sizes")
    size = int(crop_sizes[int(rng.integers(len(crop_sizes)))])
    foreground = ensure_min_size(foreground, size)
    alpha = ensure_min_size(alpha, size)
    y0, x0 = crop_box_around_unknown(alpha, size, rng)
    fg = resize(crop(foreground, y0, x0, size), (out_size, out_size))
    a = resize(crop(alpha, y0, x0, size), (out_size, out_size))
    return fg, np.clip(a, 0.0, 1.0)


def random_background_crop(
    background: np.ndarray, rng: np.random.Generator, out_size: int
) -> np.ndarray:
    """A random square crop of ``background`` (the largest square, at a random scale
    between half and all of the short side), flipped at random and resized to ``out_size``."""
    short = min(background.shape[:2])
    size = int(rng.integers(max(1, short // 2), short + 1))
    y0 = int(rng.integers(background.shape[0] - size + 1))
    x0 = int(rng.integers(background.shape[1] - size + 1))
    (window,) = random_flip(rng, crop(background, y0, x0, size))
    return resize(window, (out_size, out_size))
