"""The training-data engine: unlimited, deterministic composites with exact ground truth.

A sample is ``I = alpha F + (1 - alpha) B`` where

* ``F, alpha`` come either from a real foreground (a crop of a training pair: AM-2k,
  pseudo-alpha portraits; flipped, colour-jittered) or from a synthetic generator of
  :mod:`trimatte.data.synthetic` (strands, blurred shapes, translucent fields,
  meshes) coloured with a crop of a real photo;
* ``B`` is a random crop of a background photo (BSDS500 and the 139 backgrounds);
* the trimap is :func:`irregular_trimap`: an unknown region that follows the soft
  part of the matte at a radius that varies smoothly along it (wide, irregular bands
  like hand-drawn trimaps, not a constant erosion), and with probability
  ``no_foreground`` a trimap with no definite foreground at all (a net, a wire).

``MattingEngine(...).sample(index)`` is a pure function of ``(seed, index)``. The
held-out synthetic split uses different foregrounds, backgrounds and seeds
(:func:`engine_split`). :func:`engine_contact_sheet` draws samples for a person to look
at; ``benchmarks/data_engine.py`` measures samples per second per core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trimatte.data import augment, synthetic
from trimatte.data.folders import MattePair
from trimatte.errors import InputError
from trimatte.io import read_alpha, read_image
from trimatte.trimap.morphology import distance_to

__all__ = [
    "EngineSplit",
    "MattingEngine",
    "engine_contact_sheet",
    "engine_split",
    "irregular_trimap",
]


def irregular_trimap(alpha: np.ndarray, rng: np.random.Generator, min_radius: float,
                     max_radius: float, no_foreground: bool = False) -> np.ndarray:
    """A trimap whose unknown band follows the matte's soft part at a varying radius.

    Args:
        alpha: float32 ``(H, W)`` ground truth.
        rng: Random generator.
        min_radius, max_radius: Range of the band radius in pixels; the radius is a
            smooth random field over the image, so the band widens and narrows.
        no_foreground: Mark every non-background pixel unknown (no definite foreground).

    Returns:
        uint8 ``(H, W)`` trimap (0/128/255). Every pixel with ``0 < alpha < 1`` is unknown.
    """
    soft = augment.unknown_region(alpha)
    hard = alpha >= 0.5
    edge = hard ^ cv2.erode(hard.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    seed_region = soft | edge
    height, width = alpha.shape
    if not seed_region.any():
        return np.where(hard, 255, 0).astype(np.uint8)
    radius = min_radius + (max_radius - min_radius) * synthetic.smooth_noise(
        (height, width), rng, scale=max(8.0, float(rng.uniform(0.2, 0.6)) * max(height, width)))
    unknown = (distance_to(seed_region) <= radius) | soft
    trimap = np.where(alpha >= augment.OPAQUE, 255, 0).astype(np.uint8)
    trimap[unknown] = 128
    if no_foreground:
        trimap[trimap == 255] = 128
    return trimap


@dataclass(frozen=True)
class EngineSplit:
    """Training and held-out sources of the engine (see :func:`engine_split`)."""

    train_foregrounds: list[MattePair]
    train_backgrounds: list[Path]
    held_foregrounds: list[MattePair]
    held_backgrounds: list[Path]


def engine_split(data_root: str | Path) -> EngineSplit:
    """Sources of ``data_root`` (``shared/data``): training foregrounds are the training
    pairs of :func:`trimatte.data.splits.shared_split`, held-out ones its validation
    pairs; backgrounds are ``backgrounds/`` plus BSDS500 ``train``/``val`` (training) and
    BSDS500 ``test`` (held out)."""
    from trimatte.data.splits import shared_split

    root = Path(data_root)
    split = shared_split(root)
    bsds = root / "bsds500"
    train_bg = list(split.backgrounds)
    train_bg += sorted((bsds / "train").glob("*.jpg")) + sorted((bsds / "val").glob("*.jpg"))
    held_bg = sorted((bsds / "test").glob("*.jpg"))
    held_names = {p.stem for p in held_bg}
    train_bg = [p for p in train_bg if p.stem.removeprefix("cbsd68_") not in held_names]
    return EngineSplit(split.train, train_bg, split.validation, held_bg)


class MattingEngine:
    """Composites with exact ``alpha``, ``F`` and ``B``.

    Args:
        foregrounds: Real (image or foreground, alpha) pairs.
        backgrounds: Background photos.
        size: Side of the square samples.
        seed: Base seed.
        synthetic_fraction: Share of samples with a synthetic foreground.
        radius: ``(min, max)`` band radius of :func:`irregular_trimap`, in pixels at ``size``.
        no_foreground: Share of samples whose trimap has no definite foreground.
        max_side: Real foregrounds are loaded at most this large (long side).

    Raises:
        InputError: No backgrounds, or neither foregrounds nor synthetic samples.
    """

    def __init__(self, foregrounds: Sequence[MattePair], backgrounds: Sequence[Path], *,
                 size: int = 192, seed: int = 0, synthetic_fraction: float = 0.5,
                 radius: tuple[float, float] = (3.0, 24.0), no_foreground: float = 0.05,
                 max_side: int = 640) -> None:
        if not backgrounds:
            raise InputError("the data engine needs background photos", "backgrounds")
        if not foregrounds and synthetic_fraction < 1.0:
            raise InputError("no real foregrounds: set synthetic_fraction to 1", "foregrounds")
        self.foregrounds = list(foregrounds)
        self.backgrounds = list(backgrounds)
        self.size = int(size)
        self.seed = int(seed)
        self.synthetic_fraction = float(synthetic_fraction)
        self.radius = (float(radius[0]), float(radius[1]))
        self.no_foreground = float(no_foreground)
        self.max_side = int(max_side)
        self._cache: dict[Path, np.ndarray] = {}

    def _load(self, path: Path, reader) -> np.ndarray:
        if path not in self._cache:
            self._cache[path] = augment.limit_size(reader(path), self.max_side)
        return self._cache[path]

    def _photo_crop(self, rng: np.random.Generator) -> np.ndarray:
        path = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        photo = augment.ensure_min_size(self._load(path, read_image), self.size)
        return augment.random_background_crop(photo, rng, self.size)

    def _real(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
        pair = self.foregrounds[int(rng.integers(len(self.foregrounds)))]
        fg = self._load(pair.image, read_image)
        alpha = self._load(pair.alpha, read_alpha)
        short = min(alpha.shape)
        crop = int(short * rng.uniform(0.25, 1.0))
        fg, alpha = augment.random_crop_around_unknown(fg, alpha, rng, (max(crop, 16),),
                                                       self.size)
        fg, alpha = augment.random_flip(rng, fg, alpha)
        fg = augment.color_jitter(fg, rng)
        return fg, alpha, pair.name

    def sample(self, index: int) -> dict[str, np.ndarray | str]:
        """Sample ``index``: ``image``, ``foreground``, ``background`` float32 ``(S, S, 3)``,
        ``alpha`` float32 ``(S, S)``, ``trimap`` uint8 ``(S, S)``, ``source`` str."""
        rng = np.random.default_rng([self.seed, int(index)])
        if rng.random() < self.synthetic_fraction:
            name = list(synthetic.GENERATORS)[int(rng.integers(len(synthetic.GENERATORS)))]
            fg, alpha = synthetic.GENERATORS[name]((self.size, self.size), rng,
                                                   self._photo_crop(rng))
            source = f"synthetic/{name}"
        else:
            fg, alpha, source = self._real(rng)
        background = self._photo_crop(rng)
        if rng.random() < 0.3:  # defocused backgrounds are common in photographs
            background = cv2.GaussianBlur(background, (0, 0), float(rng.uniform(1.0, 4.0)))
        fg = np.ascontiguousarray(fg, dtype=np.float32)
        alpha = np.ascontiguousarray(np.clip(alpha, 0.0, 1.0), dtype=np.float32)
        image = augment.composite(fg, background, alpha)
        trimap = irregular_trimap(alpha, rng, *self.radius,
                                  no_foreground=rng.random() < self.no_foreground)
        return {"image": image, "foreground": fg, "background": background.astype(np.float32),
                "alpha": alpha, "trimap": trimap, "source": source}


def engine_contact_sheet(engine: MattingEngine, indices: Sequence[int], path: str | Path
                         ) -> Path:
    """Write a PNG with one row per sample: composite, trimap, alpha, foreground."""
    from trimatte.io import write_image
    from trimatte.visualize import contact_sheet

    rows, labels = [], []
    for index in indices:
        s = engine.sample(index)
        rows.append({"image": s["image"], "trimap": s["trimap"], "alpha": s["alpha"],
                     "foreground": s["foreground"]})
        labels.append(f"{index}: {s['source']}")
    return write_image(path, contact_sheet(rows, row_height=engine.size, labels=labels))
