"""Matting data laid out as plain folders.

Three layouts are understood:

* **image + alpha**: ``image/<name>.jpg`` beside ``alpha/<name>.png`` (AM-2k,
  P3M, AIM samples, most portrait sets). The image is used as the foreground
  when compositing (an approximation that is exact where alpha is 0 or 1).
* **foreground + alpha + backgrounds**: ``fg/<name>.png``, ``alpha/<name>.png`` and
  a folder of background photos (Adobe Composition-1k / DIM style).
* **the developers' shared data** (``../shared/data``): ``am2k/image|alpha``,
  ``pseudo_alpha/<set>/image|alpha`` and ``backgrounds/``.

Files are matched by name without suffix. Unmatched files are not an error: they
are returned as :class:`PairProblem` entries so a caller can report and skip them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from trimatte.errors import InputError
from trimatte.io import IMAGE_SUFFIXES, list_images

PathLike = str | os.PathLike

__all__ = [
    "IMAGE_SUFFIXES",
    "PSEUDO_ALPHA_SETS",
    "MattePair",
    "PairProblem",
    "PathLike",
    "foreground_alpha_pairs",
    "image_alpha_pairs",
    "list_backgrounds",
    "make_synthetic_folders",
    "match_by_stem",
    "shared_backgrounds",
    "shared_pairs",
    "verify_pairs",
]

#: The subsets of ``../shared/data/pseudo_alpha``.
PSEUDO_ALPHA_SETS = ("aim_samples", "gfm_samples", "p3m_demo", "p3m_samples")


@dataclass(frozen=True)
class MattePair:
    """One training or evaluation example on disk.

    Attributes:
        name: Unique, human-readable identifier (e.g. ``"am2k/sample1"``).
        image: Path of the photo, or of the foreground when ``is_foreground``.
        alpha: Path of the alpha matte (a 1-channel PNG, or the alpha channel of an RGBA PNG).
        is_foreground: True when ``image`` is a pure foreground colour layer (DIM's
            ``fg/``), False when it is a photo of the subject in front of its own background.
    """

    name: str
    image: Path
    alpha: Path
    is_foreground: bool = False


@dataclass(frozen=True)
class PairProblem:
    """A file that could not be made into a :class:`MattePair`, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _require_folder(folder: PathLike, what: str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{what} folder not found", folder)
    return folder


def match_by_stem(
    image_dir: PathLike,
    alpha_dir: PathLike,
    prefix: str = "",
    is_foreground: bool = False,
) -> tuple[list[MattePair], list[PairProblem]]:
    """Pair the images of ``image_dir`` with the mattes of ``alpha_dir`` by file stem.

    Args:
        image_dir: Folder of photos (or foregrounds).
        alpha_dir: Folder of alpha mattes.
        prefix: Prepended to each pair's name (``"<prefix>/<stem>"``).
        is_foreground: Whether ``image_dir`` holds foreground layers.

    Returns:
        The pairs sorted by name, and one problem per unmatched file.

    Raises:
        InputError: A folder does not exist.
    """
    images = {p.stem: p for p in list_images(_require_folder(image_dir, "image"))}
    alphas = {p.stem: p for p in list_images(_require_folder(alpha_dir, "alpha"))}
    pairs = [
        MattePair(f"{prefix}/{stem}" if prefix else stem, images[stem], alphas[stem], is_foreground)
        for stem in sorted(images.keys() & alphas.keys())
    ]
    problems = [PairProblem(images[s], "no alpha matte with this name") for s in sorted(
        images.keys() - alphas.keys())]
    problems += [PairProblem(alphas[s], "no image with this name") for s in sorted(
        alphas.keys() - images.keys())]
    return pairs, problems


def image_alpha_pairs(
    root: PathLike, image_subdir: str = "image", alpha_subdir: str = "alpha", prefix: str = ""
) -> tuple[list[MattePair], list[PairProblem]]:
    """Pairs of a ``root/image`` + ``root/alpha`` layout (see :func:`match_by_stem`)."""
    root = Path(root)
    return match_by_stem(root / image_subdir, root / alpha_subdir, prefix=prefix)


def foreground_alpha_pairs(
    root: PathLike, fg_subdir: str = "fg", alpha_subdir: str = "alpha", prefix: str = ""
) -> tuple[list[MattePair], list[PairProblem]]:
    """Pairs of a Composition-1k-style ``root/fg`` + ``root/alpha`` layout."""
    root = Path(root)
    return match_by_stem(root / fg_subdir, root / alpha_subdir, prefix=prefix, is_foreground=True)


def list_backgrounds(folder: PathLike) -> list[Path]:
    """The background photos directly inside ``folder``, sorted.

    Raises:
        InputError: The folder is missing or holds no images.
    """
    found = list_images(_require_folder(folder, "background"))
    if not found:
        raise InputError("holds no images (expected background photos)", folder)
    return found


def shared_pairs(
    data_root: PathLike, sets: Iterable[str] = ("am2k", *PSEUDO_ALPHA_SETS)
) -> tuple[list[MattePair], list[PairProblem]]:
    """Every (image, alpha) pair of the developers' ``../shared/data`` folder.

    Names are ``"am2k/<stem>"`` and ``"pseudo_alpha/<set>/<stem>"``.

    Args:
        data_root: The ``shared/data`` folder.
        sets: Which subsets: ``"am2k"`` and/or names from :data:`PSEUDO_ALPHA_SETS`.

    Raises:
        InputError: Unknown subset name or missing folder.
    """
    data_root = Path(data_root)
    pairs: list[MattePair] = []
    problems: list[PairProblem] = []
    for name in sets:
        if name == "am2k":
            found = image_alpha_pairs(data_root / "am2k", prefix="am2k")
        elif name in PSEUDO_ALPHA_SETS:
            found = image_alpha_pairs(
                data_root / "pseudo_alpha" / name, prefix=f"pseudo_alpha/{name}"
            )
        else:
            raise InputError(
                f"unknown subset {name!r}; known: am2k, {', '.join(PSEUDO_ALPHA_SETS)}", "sets"
            )
        pairs += found[0]
        problems += found[1]
    return pairs, problems


def shared_backgrounds(data_root: PathLike) -> list[Path]:
    """The background photos of ``../shared/data/backgrounds``."""
    return list_backgrounds(Path(data_root) / "backgrounds")


def _probe(path: Path, need_channels: int | None = None) -> tuple[int, int] | str:
    """``(height, width)`` if ``path`` decodes as an image (with ``need_channels``
    channels), else the reason why not."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        return f"cannot read file ({exc.strerror})"
    if data.size == 0:
        return "file is empty"
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if array is None or array.size == 0:
        return "not a readable image"
    channels = 1 if array.ndim == 2 else array.shape[2]
    if need_channels is not None and channels != need_channels:
        return f"expected {need_channels} channels, found {channels}"
    return int(array.shape[0]), int(array.shape[1])


def verify_pairs(
    pairs: list[MattePair],
    alpha_channels: int | None = None,
    progress: bool = True,
) -> tuple[list[MattePair], list[PairProblem]]:
    """Decode every file of ``pairs`` and split them into readable pairs and problems.

    A pair is rejected when either file does not decode, when its image and alpha
    differ in size, or (with ``alpha_channels``) when the alpha file has another
    channel count (AISegment mattes must be 4-channel RGBA PNGs).

    Args:
        pairs: Candidate pairs.
        alpha_channels: Required channel count of the alpha files, or None for any.
        progress: Show a tqdm progress bar.

    Returns:
        The good pairs (order kept) and one problem per rejected pair.
    """
    good: list[MattePair] = []
    problems: list[PairProblem] = []
    for pair in tqdm(pairs, desc="checking pairs", unit="pair", disable=not progress):
        image_shape = _probe(pair.image)
        if isinstance(image_shape, str):
            problems.append(PairProblem(pair.image, image_shape))
            continue
        alpha_shape = _probe(pair.alpha, alpha_channels)
        if isinstance(alpha_shape, str):
            problems.append(PairProblem(pair.alpha, alpha_shape))
            continue
        if image_shape != alpha_shape:
            problems.append(PairProblem(
                pair.alpha, f"size {alpha_shape} differs from the image's {image_shape}"
            ))
            continue
        good.append(pair)
    return good, problems



def make_synthetic_folders(
    root: PathLike, count: int = 8, size: int = 96, backgrounds: int = 4, seed: int = 0
) -> tuple[Path, Path, Path]:
    """Write a small synthetic ``image/`` + ``alpha/`` + ``backgrounds/`` layout.

    Each example is a soft-edged ellipse with a furry (noisy) border in a random
    colour over a smooth random background; alpha is exact. For tests, the
    ``configs/tiny.yaml`` demo and quick experiments; never for reporting accuracy.

    Args:
        root: Folder to create (``root/image``, ``root/alpha``, ``root/backgrounds``).
        count: Number of (image, alpha) pairs.
        size: Side of the square images.
        backgrounds: Number of background images.
        seed: Seed of everything drawn.

    Returns:
        The image, alpha and background folders.
    """
    from trimatte.io import write_alpha, write_image

    root = Path(root)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    def smooth_noise() -> np.ndarray:
        coarse = rng.random((4, 4, 3)).astype(np.float32)
        return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1)

    for i in range(count):
        cy, cx = rng.uniform(0.35, 0.65, 2) * size
        ry, rx = rng.uniform(0.15, 0.3, 2) * size
        distance = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
        fur = rng.normal(0.0, 0.08, (size, size)).astype(np.float32)
        softness = rng.uniform(0.08, 0.25)
        alpha = np.clip((1.0 - distance) / softness + 0.5 + fur * (distance > 0.7), 0.0, 1.0)
        fg = np.clip(rng.random(3).astype(np.float32) * 0.8 + 0.1
                     + rng.normal(0, 0.03, (size, size, 3)).astype(np.float32), 0, 1)
        bg = smooth_noise()
        image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
        write_image(root / "image" / f"{i:03d}.png", image.astype(np.float32))
        write_alpha(root / "alpha" / f"{i:03d}.png", alpha.astype(np.float32))
    for i in range(backgrounds):
        write_image(root / "backgrounds" / f"bg{i:02d}.png", smooth_noise())
    return root / "image", root / "alpha", root / "backgrounds"
