"""Training data for the trimap predictor: photos, a salient prior, and trimap targets.

The predictor (:mod:`trimatte.models.trimap_unet` with ``prior_channels=1``) sees an RGB
photo plus the U²-Net-p saliency of that photo, and learns where the subject and its
unknown band really are: what the salient net drops (dark clothes, the plant in the
pot) or adds (a second object), and how wide the band must be.

Two kinds of labelled photo teach it different things:

* **Binary masks** (human-drawn whole-object masks: ``../shared/data/portrait_masks``,
  ``sod_masks`` over ``bsds500``) say which pixels belong to the subject, but not how
  soft its edge is. Their target is *foreground*/*background* away from the edge, a
  narrow *unknown* core on the edge, and an **ignored** ring around that core
  (:data:`IGNORE` in the class map): the loss does not tell the network how wide
  the band is on hair it cannot see in a hard mask.
* **Alpha mattes** (AM-2k and the pseudo-alpha portraits of the shared split) say
  both: unknown where ``0 < alpha < 1`` (slightly dilated), so the band is wide on fur
  and hair and narrow on hard edges, with no ignored pixels.

A :class:`SubjectBank` holds every photo once at ``bank_side`` (long side), with its
prior and class map, as uint8 arrays in memory (a few hundred MB at most for a
thousand photos); :class:`SubjectDataset` cuts augmented crops from it. Samples are
a pure function of ``(seed, epoch, index)``, so resumed runs are exact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.io import read_alpha, read_image

__all__ = [
    "IGNORE",
    "LabelledPhoto",
    "SubjectBank",
    "SubjectDataset",
    "SubjectEvalDataset",
    "classes_from_alpha",
    "classes_from_mask",
    "mask_photos",
    "split_held_out",
]

log = logging.getLogger(__name__)

#: Class-map value of pixels the loss ignores (the ring around a hard mask's edge).
IGNORE = 255


@dataclass(frozen=True)
class LabelledPhoto:
    """A photo with a binary mask or a soft alpha.

    Attributes:
        name: Unique identifier, e.g. ``"portrait/02307"``.
        image: Path of the photo.
        label: Path of the mask (0/255) or alpha matte.
        soft: True when ``label`` is an alpha matte, False for a binary mask.
    """

    name: str
    image: Path
    label: Path
    soft: bool


def mask_photos(data_root: str | Path) -> list[LabelledPhoto]:
    """The portraits and the SOD objects of ``data_root`` (the ``shared/data`` folder).

    Returns:
        Photos sorted by name: ``portrait/<id>`` then ``sod/<id>``. Missing folders
        yield no entries (the caller decides whether that is an error).
    """
    root = Path(data_root)
    photos: list[LabelledPhoto] = []
    portraits = root / "portrait_masks"
    for mask in sorted((portraits / "mask").glob("*.png")):
        image = portraits / "image" / f"{mask.stem}.jpg"
        if image.is_file():
            photos.append(LabelledPhoto(f"portrait/{mask.stem}", image, mask, soft=False))
    bsds = {p.stem: p for p in (root / "bsds500").glob("*/*.jpg")}
    for mask in sorted((root / "sod_masks").glob("*.png")):
        if mask.stem in bsds:
            photos.append(LabelledPhoto(f"sod/{mask.stem}", bsds[mask.stem], mask, soft=False))
    return photos


def split_held_out(photos: Sequence[LabelledPhoto]) -> tuple[list, list]:
    """Split mask photos into ``(train, held_out)``: every 5th of each set is held out.

    The rule is fixed (sorted index within its set, ``index % 5 == 0`` is held out)
    so that every evaluation uses the same held-out photos.
    """
    train, held = [], []
    counters: dict[str, int] = {}
    for photo in photos:
        kind = photo.name.split("/")[0]
        index = counters.get(kind, 0)
        counters[kind] = index + 1
        (held if index % 5 == 0 else train).append(photo)
    return train, held


def _distance_to_edge(mask: np.ndarray) -> np.ndarray:
    """float32 ``(H, W)`` distance of each pixel to the other side of a bool mask's edge."""
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
    return np.maximum(inside, outside)


def classes_from_mask(mask: np.ndarray, core: float, ring: float) -> np.ndarray:
    """Class map of a binary mask: 0 bg, 2 fg, 1 within ``core`` px of the edge, else ignored.

    Args:
        mask: bool ``(H, W)`` subject mask.
        core: Pixels within this distance of the edge are *unknown*.
        ring: Pixels between ``core`` and ``ring`` from the edge are :data:`IGNORE`.

    Returns:
        uint8 ``(H, W)`` with values 0, 1, 2 and :data:`IGNORE`.
    """
    mask = np.asarray(mask, dtype=bool)
    classes = np.where(mask, 2, 0).astype(np.uint8)
    if mask.all() or not mask.any():
        return classes
    distance = _distance_to_edge(mask)
    classes[distance <= ring] = IGNORE
    classes[distance <= core] = 1
    return classes


def classes_from_alpha(alpha: np.ndarray, core: float) -> np.ndarray:
    """Class map of an alpha matte: unknown where soft (dilated by ``core`` px), else 0/2.

    Args:
        alpha: float32 ``(H, W)`` in [0, 1].
        core: Radius of the dilation of the soft region (and of the hard edge).

    Returns:
        uint8 ``(H, W)`` with values 0, 1, 2.
    """
    alpha = np.asarray(alpha, dtype=np.float32)
    fg = alpha >= 0.98
    bg = alpha <= 0.02
    soft = ~(fg | bg)
    classes = np.where(fg, 2, 0).astype(np.uint8)
    near_edge = _distance_to_edge(alpha >= 0.5) <= core if fg.any() and bg.any() else soft
    if soft.any():
        near_soft = cv2.distanceTransform((~soft).astype(np.uint8), cv2.DIST_L2, 3) <= core
    else:
        near_soft = soft
    classes[soft | near_soft | near_edge] = 1
    return classes


def _fit_long_side(array: np.ndarray, side: int, nearest: bool = False) -> np.ndarray:
    height, width = array.shape[:2]
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if nearest:
        interpolation = cv2.INTER_NEAREST
    else:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(array, size, interpolation=interpolation)


class SubjectBank:
    """Photos, salient priors and class maps held in memory at one scale.

    Args:
        photos: The labelled photos.
        saliency: Function from a float32 ``(H, W, 3)`` photo to its float32 ``(H, W)``
            saliency (e.g. :func:`trimatte.models.salient_net.predict_saliency`); it runs
            on the full photo, as at inference.
        bank_side: Long side the photos are stored at.
        core, ring: Band radii of the targets in pixels at ``bank_side``.
        cache: Optional ``.npz`` file: loaded when it exists and matches, else written.
        progress: Show a progress bar while building.
    """

    def __init__(
        self,
        photos: Sequence[LabelledPhoto],
        saliency: Callable[[np.ndarray], np.ndarray],
        *,
        bank_side: int = 384,
        core: float = 2.0,
        ring: float = 8.0,
        cache: str | Path | None = None,
        progress: bool = True,
    ) -> None:
        if not photos:
            raise InputError("no labelled photos to train on", "data")
        self.names = [p.name for p in photos]
        self.soft = np.array([p.soft for p in photos])
        key = f"{bank_side}-{core}-{ring}-" + "|".join(self.names)
        if cache is not None and Path(cache).is_file():
            with np.load(cache, allow_pickle=False) as data:
                if str(data["key"]) == key:
                    self._unpack(data)
                    return
        self.images, self.priors, self.classes = [], [], []
        from tqdm import tqdm

        for photo in tqdm(photos, desc="subject bank", disable=not progress, unit="photo"):
            image = read_image(photo.image)
            prior = saliency(image)
            label = read_alpha(photo.label)
            if label.shape != image.shape[:2]:
                label = cv2.resize(label, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)
            image = _fit_long_side(image, bank_side)
            prior = _fit_long_side(prior, bank_side)
            label = _fit_long_side(label, bank_side)
            if photo.soft:
                classes = classes_from_alpha(label, core)
            else:
                classes = classes_from_mask(label >= 0.5, core, ring)
            self.images.append(np.rint(image * 255).astype(np.uint8))
            self.priors.append(np.rint(prior * 255).astype(np.uint8))
            self.classes.append(classes)
        if cache is not None:
            self._save(Path(cache), key)

    def _save(self, path: Path, key: str) -> None:
        import io

        from trimatte.io import atomic_write_bytes

        buffer = io.BytesIO()
        arrays = {"key": np.array(key)}
        for i in range(len(self.names)):
            arrays[f"image{i}"] = self.images[i]
            arrays[f"prior{i}"] = self.priors[i]
            arrays[f"classes{i}"] = self.classes[i]
        np.savez(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())

    def _unpack(self, data) -> None:
        count = len(self.names)
        self.images = [data[f"image{i}"] for i in range(count)]
        self.priors = [data[f"prior{i}"] for i in range(count)]
        self.classes = [data[f"classes{i}"] for i in range(count)]

    def __len__(self) -> int:
        return len(self.names)


def _degrade_prior(prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random, mild corruptions of a float32 saliency map, so the net does not copy it."""
    if rng.random() < 0.3:
        radius = int(rng.integers(1, 6))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
        prior = cv2.dilate(prior, kernel) if rng.random() < 0.5 else cv2.erode(prior, kernel)
    if rng.random() < 0.2:
        prior = cv2.GaussianBlur(prior, (0, 0), float(rng.uniform(1.0, 4.0)))
    if rng.random() < 0.2:
        height, width = prior.shape
        blob = np.zeros_like(prior)
        cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
        axes = (int(rng.integers(5, width // 4 + 6)), int(rng.integers(5, height // 4 + 6)))
        cv2.ellipse(blob, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), 3.0)
        prior = prior * (1 - blob) if rng.random() < 0.5 else np.maximum(prior, blob)
    return np.clip(prior, 0.0, 1.0)


class SubjectDataset:
    """Augmented square crops of a :class:`SubjectBank`.

    Each sample: a random crop covering 55-100 % of the photo's short side, a random
    flip, colour jitter (brightness, contrast, saturation, hue), mild corruption of
    the prior, resized to ``out_size``.

    Args:
        bank: The photos.
        seed: Base seed; a sample is a pure function of ``(seed, epoch, index)``.
        out_size: Side of the square samples.
        repeats: Samples per photo per epoch.
        soft_weight: How many times more often a photo with a soft alpha is drawn.

    Items (``dataset[(epoch, index)]`` or ``dataset[index]`` for epoch 0):
        ``image`` float32 ``(3, S, S)`` in [0, 1], ``prior`` float32 ``(1, S, S)`` in
        [0, 1], ``trimap_class`` int64 ``(S, S)`` (0, 1, 2 or :data:`IGNORE`),
        ``index`` int64.
    """

    def __init__(self, bank: SubjectBank, *, seed: int = 0, out_size: int = 256,
                 repeats: int = 1, soft_weight: float = 1.0) -> None:
        self.bank = bank
        self.seed = int(seed)
        self.out_size = int(out_size)
        self.repeats = int(repeats)
        weights = np.where(bank.soft, float(soft_weight), 1.0)
        self._order = np.repeat(np.arange(len(bank)), np.maximum(1, np.rint(weights)).astype(int))

    def __len__(self) -> int:
        return len(self._order) * self.repeats

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        return self.sample(epoch, index)

    def sample_arrays(self, epoch: int, index: int) -> dict[str, np.ndarray]:
        """The sample as arrays: image HxWx3 float32, prior HxW float32, classes HxW uint8."""
        rng = np.random.default_rng([self.seed, epoch, index])
        number = int(self._order[index % len(self._order)])
        image = self.bank.images[number].astype(np.float32) / 255.0
        prior = self.bank.priors[number].astype(np.float32) / 255.0
        classes = self.bank.classes[number]
        height, width = classes.shape
        side = max(8, round(min(height, width) * rng.uniform(0.55, 1.0)))
        aspect = float(np.exp(rng.uniform(-0.2, 0.2)))
        crop_h = min(height, max(8, round(side * aspect)))
        crop_w = min(width, max(8, round(side / aspect)))
        y0 = int(rng.integers(0, height - crop_h + 1))
        x0 = int(rng.integers(0, width - crop_w + 1))
        box = (slice(y0, y0 + crop_h), slice(x0, x0 + crop_w))
        size = (self.out_size, self.out_size)
        image = cv2.resize(image[box], size, interpolation=cv2.INTER_AREA)
        prior = cv2.resize(prior[box], size, interpolation=cv2.INTER_LINEAR)
        classes = cv2.resize(classes[box], size, interpolation=cv2.INTER_NEAREST)
        if rng.random() < 0.5:
            image, prior, classes = image[:, ::-1], prior[:, ::-1], classes[:, ::-1]
        image = _jitter(image, rng)
        prior = _degrade_prior(np.ascontiguousarray(prior), rng)
        return {"image": np.ascontiguousarray(image), "prior": prior,
                "classes": np.ascontiguousarray(classes)}

    def sample(self, epoch: int, index: int) -> dict:
        """The sample as torch tensors (see the class docstring)."""
        import torch

        from trimatte.models.tensors import to_chw

        arrays = self.sample_arrays(epoch, index)
        classes = arrays["classes"].astype(np.int64)
        return {
            "image": to_chw(arrays["image"]),
            "prior": to_chw(arrays["prior"]),
            "trimap_class": torch.from_numpy(classes),
            "index": torch.tensor(index, dtype=torch.int64),
        }


def _jitter(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, saturation and hue jitter of a float32 RGB image."""
    image = image * rng.uniform(0.7, 1.3) + rng.uniform(-0.08, 0.08)
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.7, 1.3) + mean
    gray = image.mean(axis=2, keepdims=True)
    image = gray + (image - gray) * rng.uniform(0.5, 1.4)
    image = np.clip(image, 0.0, 1.0).astype(np.float32)
    if rng.random() < 0.5:
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-12, 12)) % 360
        image = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    if rng.random() < 0.1:
        image = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


class SubjectEvalDataset:
    """Whole photos of a :class:`SubjectBank`, unaugmented, for validation.

    Items: ``image`` float32 ``(3, H, W)``, ``prior`` float32 ``(1, H, W)``,
    ``trimap_class`` int64 ``(H, W)`` (0, 1, 2 or :data:`IGNORE`), and for figures
    ``trimap`` float32 ``(1, H, W)`` (the target as a trimap / 255; ignored pixels
    shown as unknown) and ``alpha`` (the same, as the "ground truth" panel).
    """

    def __init__(self, bank: SubjectBank, limit: int | None = None) -> None:
        self.bank = bank
        count = len(bank)
        if limit is not None and limit < count:
            self.numbers = np.linspace(0, count - 1, limit).round().astype(int).tolist()
        else:
            self.numbers = list(range(count))

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index: int) -> dict:
        import torch

        number = self.numbers[index]
        image = self.bank.images[number].astype(np.float32) / 255.0
        prior = self.bank.priors[number].astype(np.float32) / 255.0
        classes = self.bank.classes[number].astype(np.int64)
        shown = np.choose(np.minimum(classes, 3), [0.0, 0.5, 1.0, 0.5]).astype(np.float32)
        return {
            "image": torch.from_numpy(image.transpose(2, 0, 1).copy()),
            "prior": torch.from_numpy(prior[None].copy()),
            "trimap_class": torch.from_numpy(classes),
            "trimap": torch.from_numpy(shown[None].copy()),
            "alpha": torch.from_numpy(shown[None].copy()),
        }
