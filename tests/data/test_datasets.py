"""Tests of the torch datasets: shapes, determinism per (seed, epoch, index)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trimatte.data.datasets import CompositionDataset, MatteEvalDataset
from trimatte.data.folders import list_backgrounds, make_synthetic_folders, match_by_stem
from trimatte.errors import InputError


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    image_dir, alpha_dir, bg_dir = make_synthetic_folders(root, count=4, size=45, backgrounds=3)
    pairs, _ = match_by_stem(image_dir, alpha_dir)
    return pairs, list_backgrounds(bg_dir)


def _dataset(fixture_data, **kwargs):
    pairs, backgrounds = fixture_data
    options = {"seed": 3, "out_size": 32, "crop_sizes": (24, 32, 64), "trimap_radius": (1, 3)}
    options.update(kwargs)
    return CompositionDataset(pairs, backgrounds, **options)


def test_training_sample_shapes_and_ranges(fixture_data):
    sample = _dataset(fixture_data)[0]
    assert sample["image"].shape == (3, 32, 32) and sample["image"].dtype == torch.float32
    for key in ("fg", "bg"):
        assert sample[key].shape == (3, 32, 32)
    for key in ("alpha", "trimap"):
        assert sample[key].shape == (1, 32, 32)
    assert sample["trimap_class"].shape == (32, 32) and sample["trimap_class"].dtype == torch.int64
    assert set(np.unique(np.rint(sample["trimap"].numpy() * 255))) <= {0, 128, 255}
    assert 0 <= float(sample["image"].min()) and float(sample["image"].max()) <= 1
    # the image is the composite of the sample's own fg, bg and alpha
    a = sample["alpha"]
    torch.testing.assert_close(sample["image"], a * sample["fg"] + (1 - a) * sample["bg"])
    # every fractional alpha is in the unknown region of the trimap
    soft = (a > 0.01) & (a < 0.99)
    assert torch.all(sample["trimap_class"][soft[0]] == 1)


def test_samples_are_a_function_of_seed_epoch_index(fixture_data):
    first, second = _dataset(fixture_data), _dataset(fixture_data)
    for key in ("image", "alpha", "trimap"):
        torch.testing.assert_close(first[(2, 3)][key], second[(2, 3)][key], rtol=0, atol=0)
    torch.testing.assert_close(first[3]["image"], first[(0, 3)]["image"], rtol=0, atol=0)
    assert not torch.equal(first[(1, 3)]["image"], first[(2, 3)]["image"])
    other_seed = _dataset(fixture_data, seed=4)
    assert not torch.equal(first[(1, 3)]["image"], other_seed[(1, 3)]["image"])


def test_length_and_repeats(fixture_data):
    dataset = _dataset(fixture_data, repeats=3)
    assert len(dataset) == 12
    with pytest.raises(IndexError):
        dataset[12]


def test_bad_arguments(fixture_data):
    pairs, backgrounds = fixture_data
    with pytest.raises(InputError, match="no background"):
        CompositionDataset(pairs, [])
    with pytest.raises(InputError, match="no \\(image, alpha\\) pairs"):
        CompositionDataset([], backgrounds)
    with pytest.raises(InputError, match="repeats"):
        CompositionDataset(pairs, backgrounds, repeats=0)


def test_eval_dataset_keeps_odd_sizes_and_fixed_trimap(fixture_data):
    pairs, _ = fixture_data
    dataset = MatteEvalDataset(pairs, max_side=None, band=2)
    item = dataset[1]
    assert item["image"].shape == (3, 45, 45) and item["alpha"].shape == (1, 45, 45)
    torch.testing.assert_close(item["trimap"], dataset[1]["trimap"], rtol=0, atol=0)
    assert item["name"] == pairs[1].name
    assert MatteEvalDataset(pairs, max_side=20)[0]["image"].shape == (3, 20, 20)


def test_shrunk_mattes_stay_within_unit_range(fixture_data):
    pairs, _ = fixture_data
    alpha = MatteEvalDataset(pairs, max_side=17, band=2).arrays(0)["alpha"]
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
