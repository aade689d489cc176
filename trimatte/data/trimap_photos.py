"""Training samples for the trimap network: real photos, crops anywhere, fixed-band targets.

Why not the DIM composites of :class:`trimatte.data.datasets.CompositionDataset`? Those
paste the *photo* (``shared``/``aisegment`` pairs are photos, not pure foregrounds)
over a random background, so every pixel the photo keeps is inside or next to the
matte while the plain background is always a foreign picture. A trimap network
trained on them learns "photo texture = unknown/foreground" and, on a real photo
(whose background is the photo's own), labels the background unknown; and crops
always centred on unknown pixels rarely show plain background. Measured on the
``shared`` split: 73% pixel accuracy on training composites, 55% on the *training*
photos themselves and 42% on the held-out photos (below the 65% of "all
background").

A sample here is a crop of the real photo (flipped, colour-jittered), centred on an
unknown pixel with probability ``unknown_fraction`` and uniformly placed otherwise,
resized to ``out_size``. The target is :func:`trimatte.trimap.morphology.trimap_from_alpha`
of the whole (loaded) alpha with a fixed ``band`` -- the definition validation uses,
not DIM's random bands (the image cannot tell the network which band was drawn).
Pairs that are pure foregrounds (``MattePair.is_foreground``, e.g. Composition-1k
``fg/``) have no background of their own: their crop is composited over a random
crop of ``backgrounds`` as in DIM.

Samples are a pure function of ``(seed, epoch, index)`` like
:class:`~trimatte.data.datasets.CompositionDataset`, so resuming and distributed runs
stay exact. Keys: ``image`` float32 ``(3, S, S)``, ``alpha`` float32 ``(1, S, S)``,
``trimap`` float32 ``(1, S, S)`` (trimap / 255), ``trimap_class`` int64 ``(S, S)``,
``index`` int64 ``()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from trimatte.data import augment
from trimatte.data.folders import MattePair
from trimatte.errors import InputError
from trimatte.io import read_alpha, read_image
from trimatte.models.tensors import to_chw, trimap_to_float
from trimatte.trimap.classes import trimap_to_classes
from trimatte.trimap.morphology import trimap_from_alpha


def random_crop_box(
    alpha: np.ndarray, size: int, rng: np.random.Generator, unknown_fraction: float
) -> tuple[int, int]:
    """Top-left ``(y, x)`` of a ``size`` square: centred on an unknown pixel with
    probability ``unknown_fraction`` (:func:`trimatte.data.augment.crop_box_around_unknown`),
    else uniformly placed. ``alpha`` must be at least ``size`` on both sides."""
    if rng.random() < unknown_fraction:
        return augment.crop_box_around_unknown(alpha, size, rng)
    height, width = alpha.shape[:2]
    return int(rng.integers(height - size + 1)), int(rng.integers(width - size + 1))


def train_band(val_band: int, max_side: int | None, val_max_side: int | None) -> int:
    """Unknown-band radius at the training resolution that matches validation's
    ``val_band`` at ``val_max_side`` (photos are loaded at ``max_side``)."""
    if max_side is None or val_max_side is None:
        return int(val_band)
    return max(1, round(val_band * max_side / val_max_side))


class TrimapPhotoDataset(Dataset):
    """Trimap-network training samples, deterministic per ``(seed, epoch, index)``.

    Args:
        pairs: Photos (or pure foregrounds) with alpha mattes.
        seed: Base seed of all randomness.
        out_size: Side of the square samples.
        crop_sizes: Crop sizes (at the loaded resolution), resized to ``out_size``.
        band: Unknown-band radius of the target trimap at the loaded resolution.
        unknown_fraction: Probability that a crop is centred on an unknown pixel.
        repeats: Samples per pair and epoch.
        max_side: Shrink pairs so that their longer side is at most this when loading.
        jitter: Colour jitter of the photo.
        backgrounds: Backgrounds for the pairs that are pure foregrounds.

    Raises:
        InputError: No pairs, bad sizes, band or fraction; foreground pairs without
            backgrounds.
    """

    def __init__(
        self,
        pairs: Sequence[MattePair],
        seed: int = 0,
        out_size: int = 320,
        crop_sizes: Sequence[int] = (320, 480, 640),
        band: int = 10,
        unknown_fraction: float = 0.5,
        repeats: int = 1,
        max_side: int | None = None,
        jitter: bool = True,
        backgrounds: Sequence[Path] | None = None,
    ) -> None:
        if not pairs:
            raise InputError("no (image, alpha) pairs to train on", "pairs")
        if out_size < 8 or not crop_sizes or min(int(c) for c in crop_sizes) < 8:
            raise InputError(f"out_size and crop sizes must be >= 8, got {out_size}, "
                             f"{list(crop_sizes)}", "crop_sizes")
        if band < 0:
            raise InputError(f"band must be >= 0, got {band}", "band")
        if not 0.0 <= unknown_fraction <= 1.0:
            raise InputError(f"must lie in [0, 1], got {unknown_fraction}", "unknown_fraction")
        if repeats < 1:
            raise InputError(f"repeats must be >= 1, got {repeats}", "repeats")
        if any(p.is_foreground for p in pairs) and not backgrounds:
            raise InputError("pure foregrounds need background images to composite over",
                             "backgrounds")
        self.pairs = list(pairs)
        self.seed = int(seed)
        self.out_size = int(out_size)
        self.crop_sizes = tuple(int(c) for c in crop_sizes)
        self.band = int(band)
        self.unknown_fraction = float(unknown_fraction)
        self.repeats = int(repeats)
        self.max_side = max_side
        self.jitter = bool(jitter)
        self.backgrounds = [Path(p) for p in backgrounds or ()]
        self._pairs: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._backgrounds: dict[Path, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.pairs) * self.repeats

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = (int(key[0]), int(key[1])) if isinstance(key, tuple) else (0, int(key))
        return self.sample(epoch, index)

    def _pair(self, number: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Photo, alpha and target trimap of pair ``number`` at the loaded size (cached)."""
        if number not in self._pairs:
            pair = self.pairs[number]
            image = np.clip(augment.limit_size(read_image(pair.image), self.max_side), 0, 1)
            alpha = np.clip(augment.limit_size(read_alpha(pair.alpha), self.max_side), 0, 1)
            if image.shape[:2] != alpha.shape[:2]:
                raise InputError(f"alpha {alpha.shape[1]}x{alpha.shape[0]} does not match "
                                 f"the image's {image.shape[1]}x{image.shape[0]}", pair.alpha)
            self._pairs[number] = (image, alpha, trimap_from_alpha(alpha, self.band))
        return self._pairs[number]

    def _background(self, path: Path) -> np.ndarray:
        if path not in self._backgrounds:
            self._backgrounds[path] = np.clip(
                augment.limit_size(read_image(path), max(2 * self.out_size, 64)), 0, 1)
        return self._backgrounds[path]

    def sample_arrays(self, epoch: int, index: int) -> dict[str, np.ndarray]:
        """Sample ``index`` of ``epoch``: ``image`` float32 ``(S, S, 3)``, ``alpha``
        float32 ``(S, S)``, ``trimap`` uint8 ``(S, S)``."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        rng = np.random.default_rng([self.seed, epoch, index])
        number = index % len(self.pairs)
        image, alpha, trimap = self._pair(number)
        image, alpha, trimap = augment.random_flip(rng, image, alpha, trimap)
        size = self.crop_sizes[int(rng.integers(len(self.crop_sizes)))]
        image = augment.ensure_min_size(image, size)
        alpha = augment.ensure_min_size(alpha, size)
        trimap = augment.ensure_min_size(trimap, size, nearest=True)
        y0, x0 = random_crop_box(alpha, size, rng, self.unknown_fraction)
        shape = (self.out_size, self.out_size)
        image = augment.resize(augment.crop(image, y0, x0, size), shape)
        alpha = np.clip(augment.resize(augment.crop(alpha, y0, x0, size), shape), 0.0, 1.0)
        trimap = augment.resize(augment.crop(trimap, y0, x0, size), shape, nearest=True)
        if self.jitter:
            image = augment.color_jitter(image, rng)
        if self.pairs[number].is_foreground:
            path = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
            background = augment.random_background_crop(self._background(path), rng,
                                                        self.out_size)
            image = augment.composite(image, background, alpha)
        return {"image": np.clip(image, 0.0, 1.0).astype(np.float32), "alpha": alpha,
                "trimap": trimap}

    def sample(self, epoch: int, index: int) -> dict[str, torch.Tensor]:
        """Sample ``index`` of ``epoch`` as tensors (see the module docstring)."""
        arrays = self.sample_arrays(epoch, index)
        return {
            "image": to_chw(arrays["image"]),
            "alpha": to_chw(arrays["alpha"]),
            "trimap": to_chw(trimap_to_float(arrays["trimap"])),
            "trimap_class": torch.from_numpy(trimap_to_classes(arrays["trimap"])),
            "index": torch.tensor(index, dtype=torch.int64),
        }
