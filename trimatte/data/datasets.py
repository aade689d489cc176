"""PyTorch datasets producing dicts of tensors for training and validation.

:class:`CompositionDataset` builds DIM training samples on the fly (see
:mod:`trimatte.data.augment`). A sample is a pure function of ``(seed, epoch,
index)``: its random generator is ``numpy.random.default_rng([seed, epoch, index])``,
so the same sample comes out in any worker process, on any rank of a distributed
run, and after resuming from a checkpoint. The epoch travels with the index: the
dataset accepts ``dataset[(epoch, index)]`` (what
:class:`trimatte.training.trainer.ResumableDistributedSampler` yields) as well as
``dataset[index]`` (epoch 0).

Tensors in a training sample (``S = out_size``):

===================  ===============================  ==================================
key                  dtype, shape                     meaning
===================  ===============================  ==================================
``image``            float32 ``(3, S, S)``            composite ``alpha*F + (1-alpha)*B``
``fg``               float32 ``(3, S, S)``            foreground F
``bg``               float32 ``(3, S, S)``            background B
``alpha``            float32 ``(1, S, S)``            ground-truth alpha
``trimap``           float32 ``(1, S, S)``            trimap / 255 (0, 128/255, 1)
``trimap_class``     int64 ``(S, S)``                 0 background, 1 unknown, 2 foreground
``index``            int64 ``()``                     dataset index
===================  ===============================  ==================================

:class:`MatteEvalDataset` gives whole real photos (not composites) with a
deterministic trimap, for validation.
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
from trimatte.trimap.morphology import random_trimap, trimap_from_alpha


class _PairCache:
    """Decoded (image, alpha) of each pair, shrunk to ``max_side``, kept in memory."""

    def __init__(self, max_side: int | None, cache: bool) -> None:
        self.max_side = max_side
        self.cache = cache
        self._store: dict[Path, np.ndarray] = {}

    def image(self, path: Path) -> np.ndarray:
        return self._get(path, read_image)

    def alpha(self, path: Path) -> np.ndarray:
        return self._get(path, read_alpha)

    def _get(self, path: Path, reader) -> np.ndarray:
        if path in self._store:
            return self._store[path]
        array = augment.limit_size(reader(path), self.max_side)
        if self.max_side is not None:  # area resampling can overshoot [0, 1] by 1 ulp
            array = np.clip(array, 0.0, 1.0)
        if self.cache:
            self._store[path] = array
        return array


class CompositionDataset(Dataset):
    """DIM training samples composited on the fly, deterministic per (seed, epoch, index).

    Args:
        pairs: Foregrounds (or photos) with their alpha mattes.
        backgrounds: Background photos; each sample draws one at random.
        seed: Base seed of all randomness.
        out_size: Side of the square samples (320 in DIM).
        crop_sizes: Crop sizes centred on unknown pixels, resized to ``out_size``.
        trimap_radius: ``(min, max)`` radius of the random erosions (pixels at
            ``out_size``) that make the trimap's unknown band
            (:func:`trimatte.trimap.morphology.random_trimap`).
        repeats: Samples per pair and epoch (each with another background, crop...).
        max_side: Shrink decoded pairs so that their longer side is at most this
            (None: full resolution); decoding 1080p JPEGs dominates otherwise.
        jitter: Apply colour jitter to the foreground.
        cache: Keep decoded pairs and backgrounds in memory (per worker process).

    Raises:
        InputError: No pairs, no backgrounds, or bad sizes.
    """

    def __init__(
        self,
        pairs: Sequence[MattePair],
        backgrounds: Sequence[Path],
        seed: int = 0,
        out_size: int = 320,
        crop_sizes: Sequence[int] = (320, 480, 640),
        trimap_radius: tuple[int, int] = (1, 15),
        repeats: int = 1,
        max_side: int | None = None,
        jitter: bool = True,
        cache: bool = True,
    ) -> None:
        if not pairs:
            raise InputError("no (image, alpha) pairs to train on", "pairs")
        if not backgrounds:
            raise InputError("no background images to composite over", "backgrounds")
        if out_size < 8 or any(int(c) < 8 for c in crop_sizes) or not crop_sizes:
            raise InputError(
                f"out_size and crop sizes must be >= 8, got {out_size}, {list(crop_sizes)}",
                "crop_sizes",
            )
        if repeats < 1:
            raise InputError(f"repeats must be >= 1, got {repeats}", "repeats")
        self.pairs = list(pairs)
        self.backgrounds = [Path(p) for p in backgrounds]
        self.seed = int(seed)
        self.out_size = int(out_size)
        self.crop_sizes = tuple(int(c) for c in crop_sizes)
        self.trimap_radius = (int(trimap_radius[0]), int(trimap_radius[1]))
        self.repeats = int(repeats)
        self.jitter = bool(jitter)
        self._files = _PairCache(max_side, cache)
        # Backgrounds only need to cover a crop of out_size.
        self._backgrounds = _PairCache(max(2 * self.out_size, 64), cache)

    def __len__(self) -> int:
        return len(self.pairs) * self.repeats

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        if isinstance(key, tuple):
            epoch, index = int(key[0]), int(key[1])
        else:
            epoch, index = 0, int(key)
        return self.sample(epoch, index)

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        """The generator that decides every random choice of sample ``index`` in ``epoch``."""
        return np.random.default_rng([self.seed, epoch, index])

    def sample_arrays(self, epoch: int, index: int) -> dict[str, np.ndarray]:
        """One sample as numpy arrays (image convention of :mod:`trimatte.image`).

        Returns:
            ``image``, ``fg``, ``bg`` float32 ``(S, S, 3)``; ``alpha`` float32 ``(S, S)``;
            ``trimap`` uint8 ``(S, S)``.
        """
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        rng = self.rng(epoch, index)
        pair = self.pairs[index % len(self.pairs)]
        fg = self._files.image(pair.image)
        alpha = self._files.alpha(pair.alpha)
        if fg.shape[:2] != alpha.shape[:2]:
            raise InputError(
                f"alpha {alpha.shape[1]}x{alpha.shape[0]} does not match the image's "
                f"{fg.shape[1]}x{fg.shape[0]}",
                pair.alpha,
            )
        fg, alpha = augment.random_flip(rng, fg, alpha)
        fg, alpha = augment.random_crop_around_unknown(
            fg, alpha, rng, self.crop_sizes, self.out_size
        )
        if self.jitter:
            fg = augment.color_jitter(fg, rng)
        background_path = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        bg = augment.random_background_crop(
            self._backgrounds.image(background_path), rng, self.out_size
        )
        image = augment.composite(fg, bg, alpha)
        trimap = random_trimap(alpha, rng, *self.trimap_radius)
        return {"image": image, "fg": fg, "bg": bg, "alpha": alpha, "trimap": trimap}

    def sample(self, epoch: int, index: int) -> dict[str, torch.Tensor]:
        """Sample ``index`` of ``epoch`` as tensors (see the module docstring for keys)."""
        arrays = self.sample_arrays(epoch, index)
        return {
            "image": to_chw(arrays["image"]),
            "fg": to_chw(arrays["fg"]),
            "bg": to_chw(arrays["bg"]),
            "alpha": to_chw(arrays["alpha"]),
            "trimap": to_chw(trimap_to_float(arrays["trimap"])),
            "trimap_class": torch.from_numpy(trimap_to_classes(arrays["trimap"])),
            "index": torch.tensor(index, dtype=torch.int64),
        }


class MatteEvalDataset(Dataset):
    """Real photos with their alpha and a fixed trimap, for validation.

    The trimap is :func:`trimatte.trimap.morphology.trimap_from_alpha` with radius
    ``band`` (no randomness), so every evaluation of
    every run sees the same trimaps.

    Args:
        pairs: Photos with alpha mattes (a held-out split, see :mod:`trimatte.data.splits`).
        max_side: Shrink photos so that their longer side is at most this.
        band: Unknown-band radius in pixels (at the shrunk size).

    Items are dicts with ``image`` float32 ``(3, H, W)``, ``alpha`` and ``trimap``
    float32 ``(1, H, W)`` (trimap / 255) and ``name`` (str). Sizes differ between
    items: use batch size 1.
    """

    def __init__(self, pairs: Sequence[MattePair], max_side: int | None = 640, band: int = 10):
        if not pairs:
            raise InputError("no validation pairs", "pairs")
        if band < 1:
            raise InputError(f"band must be >= 1, got {band}", "band")
        self.pairs = list(pairs)
        self.band = int(band)
        self._files = _PairCache(max_side, cache=True)

    def __len__(self) -> int:
        return len(self.pairs)

    def arrays(self, index: int) -> dict[str, np.ndarray]:
        """Item ``index`` as numpy arrays: ``image``, ``alpha``, ``trimap`` (uint8)."""
        pair = self.pairs[index]
        image = self._files.image(pair.image)
        alpha = self._files.alpha(pair.alpha)
        if image.shape[:2] != alpha.shape[:2]:
            raise InputError("alpha size does not match the image's", pair.alpha)
        trimap = trimap_from_alpha(alpha, self.band)
        return {"image": image, "alpha": alpha, "trimap": trimap}

    def __getitem__(self, index: int) -> dict[str, object]:
        arrays = self.arrays(index)
        return {
            "image": to_chw(arrays["image"]),
            "alpha": to_chw(arrays["alpha"]),
            "trimap": to_chw(trimap_to_float(arrays["trimap"])),
            "trimap_class": torch.from_numpy(trimap_to_classes(arrays["trimap"])),
            "name": self.pairs[index].name,
        }
