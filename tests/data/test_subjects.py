"""Trimap-predictor data: class maps from masks and alphas, the bank, augmented crops."""

from __future__ import annotations

import numpy as np
import pytest

from trimatte.data.subjects import (
    IGNORE,
    LabelledPhoto,
    SubjectBank,
    SubjectDataset,
    SubjectEvalDataset,
    classes_from_alpha,
    classes_from_mask,
    mask_photos,
    split_held_out,
)
from trimatte.io import write_alpha, write_image


def _disc(size=40, radius=12.0):
    yy, xx = np.mgrid[0:size, 0:size]
    return np.hypot(yy - size / 2, xx - size / 2) <= radius


def test_mask_classes_have_a_core_and_an_ignored_ring():
    mask = _disc()
    classes = classes_from_mask(mask, core=1.5, ring=4.0)
    assert set(np.unique(classes)) == {0, 1, 2, IGNORE}
    assert (classes[20, 20] == 2) and (classes[0, 0] == 0)
    # the unknown core touches the edge, the ignored ring lies between core and known
    edge = mask ^ np.roll(mask, 1, axis=1)
    assert (classes[edge] != 0).all() and (classes[edge] != 2).all()
    assert ((classes == 2) <= mask).all() and ((classes == 0) <= ~mask).all()


def test_uniform_masks_have_no_band():
    assert (classes_from_mask(np.ones((5, 5), bool), 1, 3) == 2).all()
    assert (classes_from_mask(np.zeros((5, 5), bool), 1, 3) == 0).all()


def test_alpha_classes_mark_every_soft_pixel_unknown():
    alpha = np.zeros((30, 30), np.float32)
    alpha[:, 15:] = 1
    alpha[5:25, 12:15] = 0.5  # a soft strip
    classes = classes_from_alpha(alpha, core=1.0)
    assert (classes[5:25, 12:15] == 1).all()
    assert classes[0, 0] == 0 and classes[0, 29] == 2
    assert IGNORE not in classes


def test_held_out_split_is_every_fifth_per_set(tmp_path):
    photos = [LabelledPhoto(f"{kind}/{i:03d}", tmp_path, tmp_path, False)
              for kind in ("portrait", "sod") for i in range(7)]
    train, held = split_held_out(photos)
    assert [p.name for p in held] == ["portrait/000", "portrait/005", "sod/000", "sod/005"]
    assert len(train) == 10


@pytest.fixture
def bank(tmp_path):
    photos = []
    rng = np.random.default_rng(0)
    for i in range(3):
        image = rng.random((30, 44, 3)).astype(np.float32)
        mask = np.zeros((30, 44), np.float32)
        mask[8:24, 10 + i : 30 + i] = 1
        write_image(tmp_path / f"p{i}.png", image)
        write_alpha(tmp_path / f"m{i}.png", mask)
        photos.append(LabelledPhoto(f"x/{i}", tmp_path / f"p{i}.png", tmp_path / f"m{i}.png",
                                    soft=i == 2))
    return SubjectBank(photos, lambda im: im.mean(axis=2), bank_side=32,
                       cache=tmp_path / "bank.npz", progress=False)


def test_bank_is_cached_and_reloaded(bank, tmp_path):
    assert len(bank) == 3 and bank.images[0].shape == (22, 32, 3)
    calls = []
    again = SubjectBank([LabelledPhoto(n, tmp_path, tmp_path, s) for n, s in
                         zip(bank.names, bank.soft, strict=True)],
                        lambda im: calls.append(1), bank_side=32, cache=tmp_path / "bank.npz",
                        progress=False)
    assert not calls
    np.testing.assert_array_equal(again.classes[1], bank.classes[1])


def test_dataset_samples_are_deterministic_and_shaped(bank):
    data = SubjectDataset(bank, seed=2, out_size=24, repeats=2, soft_weight=3)
    assert len(data) == 2 * (1 + 1 + 3)
    item, again = data[(1, 4)], data[(1, 4)]
    assert item["image"].shape == (3, 24, 24) and item["prior"].shape == (1, 24, 24)
    assert item["trimap_class"].shape == (24, 24)
    assert all(np.array_equal(item[k], again[k]) for k in item)
    assert set(np.unique(item["trimap_class"].numpy())) <= {0, 1, 2, IGNORE}
    evaluation = SubjectEvalDataset(bank, limit=2)
    assert len(evaluation) == 2 and evaluation[0]["trimap"].shape == (1, 22, 32)


def test_mask_photos_of_shared(shared_dir):
    photos = mask_photos(shared_dir / "data")
    assert len(photos) > 500
    train, held = split_held_out(photos)
    assert len(held) > 100 and len(train) + len(held) == len(photos)
    assert not {p.name for p in train} & {p.name for p in held}
