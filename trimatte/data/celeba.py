"""CelebA for inference and qualitative grids, and CelebAMask-HQ part masks as trimaps.

Layouts understood:

* CelebA aligned faces: ``<root>/img_align_celeba/<000001>.jpg`` (178x218 JPEGs);
  ``root`` may also be the ``img_align_celeba`` folder itself.
* CelebAMask-HQ: ``<root>/CelebA-HQ-img/<i>.jpg`` (1024x1024) and
  ``<root>/CelebAMask-HQ-mask-anno/<i // 2000>/<i:05d>_<part>.png`` (512x512 binary
  masks of 19 parts: skin, hair, cloth, neck, ...). Masks carry no alpha, so they
  only give trimaps: the union of the person's parts, eroded/dilated into an
  unknown band, with a wider band around the hair where the true matte is soft.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trimatte.data.augment import resize
from trimatte.data.folders import PathLike
from trimatte.errors import InputError
from trimatte.image import UNKNOWN
from trimatte.io import list_images
from trimatte.trimap.morphology import trimap_from_mask

#: CelebAMask-HQ part labels that belong to the person (every part except background).
PERSON_PARTS = (
    "skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear",
    "mouth", "u_lip", "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth",
)
#: Annotation files per sub-folder in CelebAMask-HQ-mask-anno.
IMAGES_PER_FOLDER = 2000


def celeba_images(root: PathLike, limit: int | None = None) -> list[Path]:
    """The aligned CelebA photos, sorted by name (optionally only the first ``limit``).

    Raises:
        InputError: No ``img_align_celeba`` folder or no images in it.
    """
    root = Path(root)
    folder = root if root.name == "img_align_celeba" else root / "img_align_celeba"
    if not folder.is_dir():
        raise InputError("not a CelebA folder: no img_align_celeba/ inside", root)
    images = list_images(folder)
    if not images:
        raise InputError("holds no images", folder)
    return images[:limit] if limit is not None else images


@dataclass(frozen=True)
class CelebAMaskSample:
    """One CelebAMask-HQ photo and the folder of its part masks."""

    index: int
    image: Path
    mask_dir: Path

    def part_path(self, part: str) -> Path:
        """Path of the mask of ``part`` (it may not exist: absent parts have no file)."""
        return self.mask_dir / f"{self.index:05d}_{part}.png"


def celebamask_samples(root: PathLike) -> list[CelebAMaskSample]:
    """The CelebAMask-HQ photos that have an annotation folder, sorted by index.

    Raises:
        InputError: ``root`` lacks ``CelebA-HQ-img/`` or ``CelebAMask-HQ-mask-anno/``.
    """
    root = Path(root)
    image_dir, anno_dir = root / "CelebA-HQ-img", root / "CelebAMask-HQ-mask-anno"
    for folder in (image_dir, anno_dir):
        if not folder.is_dir():
            raise InputError(f"not a CelebAMask-HQ folder: no {folder.name}/", root)
    samples = []
    for image in list_images(image_dir):
        if not image.stem.isdigit():
            continue
        index = int(image.stem)
        mask_dir = anno_dir / str(index // IMAGES_PER_FOLDER)
        if mask_dir.is_dir():
            samples.append(CelebAMaskSample(index, image, mask_dir))
    return sorted(samples, key=lambda s: s.index)


def _read_mask(path: Path) -> np.ndarray:
    mask = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise InputError("not a readable mask image", path)
    return mask > 127


def part_mask(sample: CelebAMaskSample, parts: tuple[str, ...] = PERSON_PARTS) -> np.ndarray:
    """bool ``(512, 512)`` union of the given parts' masks.

    Raises:
        InputError: None of the parts has a mask file, or a mask does not decode.
    """
    masks = [_read_mask(sample.part_path(p)) for p in parts if sample.part_path(p).is_file()]
    if not masks:
        raise InputError(f"no mask file for any of the parts {', '.join(parts)}", sample.mask_dir)
    union = masks[0].copy()
    for mask in masks[1:]:
        if mask.shape != union.shape:
            raise InputError(f"part masks differ in size {mask.shape} vs {union.shape}",
                             sample.mask_dir)
        union |= mask
    return union


def celebamask_trimap(
    sample: CelebAMaskSample,
    band: int = 8,
    hair_band: int = 20,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Trimap of a CelebAMask-HQ photo from its part masks.

    Args:
        sample: The photo and its masks.
        band: Unknown band (pixels, at mask resolution) on each side of the
            person's outline.
        hair_band: Wider band around the hair's outline, where the matte is soft.
        size: ``(height, width)`` to resize the trimap to (nearest neighbour), e.g. the
            photo's 1024x1024; None keeps the 512x512 mask resolution.

    Returns:
        uint8 trimap with 0/128/255.
    """
    trimap = trimap_from_mask(part_mask(sample), band)
    hair_path = sample.part_path("hair")
    if hair_band > 0 and hair_path.is_file():
        hair_edge = trimap_from_mask(_read_mask(hair_path), hair_band) == UNKNOWN
        trimap[hair_edge] = UNKNOWN
    if size is not None:
        trimap = resize(trimap, size, nearest=True)
    return trimap
