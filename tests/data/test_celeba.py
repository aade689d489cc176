"""Tests of the CelebA / CelebAMask-HQ readers on generated fixtures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trimatte.data.celeba import celeba_images, celebamask_samples, celebamask_trimap, part_mask
from trimatte.errors import InputError


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def test_celeba_images(tmp_path):
    for name in ("000002.jpg", "000001.jpg"):
        _write(tmp_path / "img_align_celeba" / name, np.zeros((218, 178, 3), np.uint8))
    assert [p.name for p in celeba_images(tmp_path)] == ["000001.jpg", "000002.jpg"]
    assert len(celeba_images(tmp_path / "img_align_celeba", limit=1)) == 1
    with pytest.raises(InputError, match="no img_align_celeba"):
        celeba_images(tmp_path / "elsewhere")


def _make_mask_hq(root):
    _write(root / "CelebA-HQ-img" / "2001.jpg", np.zeros((64, 64, 3), np.uint8))
    _write(root / "CelebA-HQ-img" / "5.jpg", np.zeros((64, 64, 3), np.uint8))
    skin = np.zeros((32, 32), np.uint8)
    skin[8:24, 8:24] = 255
    hair = np.zeros((32, 32), np.uint8)
    hair[4:10, 8:24] = 255
    _write(root / "CelebAMask-HQ-mask-anno" / "1" / "02001_skin.png", skin)
    _write(root / "CelebAMask-HQ-mask-anno" / "1" / "02001_hair.png", hair)


def test_celebamask_trimap_from_part_masks(tmp_path):
    _make_mask_hq(tmp_path)
    samples = celebamask_samples(tmp_path)
    assert [s.index for s in samples] == [2001]  # index 5 has no annotation folder 0/
    mask = part_mask(samples[0])
    assert mask.shape == (32, 32) and mask[5, 10] and mask[20, 20] and not mask[28, 28]
    trimap = celebamask_trimap(samples[0], band=2, hair_band=0)
    assert set(np.unique(trimap)) == {0, 128, 255}
    assert trimap[16, 16] == 255 and trimap[0, 0] == 0 and trimap[24, 16] == 128
    wider = celebamask_trimap(samples[0], band=2, hair_band=3)
    assert (wider == 128).sum() > (trimap == 128).sum()
    assert celebamask_trimap(samples[0], band=2, size=(64, 64)).shape == (64, 64)


def test_celebamask_errors(tmp_path):
    with pytest.raises(InputError, match="not a CelebAMask-HQ folder"):
        celebamask_samples(tmp_path)
    _make_mask_hq(tmp_path)
    sample = celebamask_samples(tmp_path)[0]
    with pytest.raises(InputError, match="no mask file"):
        part_mask(sample, parts=("hat",))
