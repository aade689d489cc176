"""Tests of trimatte.data.trimap_photos and of the trimap stage's training data."""

from __future__ import annotations

import numpy as np
import pytest

from trimatte.data.folders import MattePair
from trimatte.data.trimap_photos import TrimapPhotoDataset, random_crop_box, train_band
from trimatte.errors import InputError
from trimatte.io import write_alpha, write_image
from trimatte.training.config import TrainConfig
from trimatte.training.sources import build_datasets
from trimatte.trimap.morphology import trimap_from_alpha

RED, GREEN = (0.9, 0.1, 0.1), (0.1, 0.9, 0.1)


def photo_and_alpha(size=48, radius=10):
    """A red photo with a blue soft-edged disc in its upper-left part (plain red far away)."""
    yy, xx = np.mgrid[:size, :size]
    distance = np.hypot(yy - 14, xx - 14)
    alpha = np.clip(radius + 1.5 - distance, 0, 3).astype(np.float32) / 3
    image = np.empty((size, size, 3), np.float32)
    image[:] = RED
    image = alpha[..., None] * np.float32([0.1, 0.1, 0.9]) + (1 - alpha[..., None]) * image
    return image.astype(np.float32), alpha


@pytest.fixture(scope="module")
def photo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    image, alpha = photo_and_alpha()
    for name in ("a", "b", "c", "d", "e"):
        write_image(root / "image" / f"{name}.png", image)
        write_alpha(root / "alpha" / f"{name}.png", alpha)
    green = np.empty((40, 40, 3), np.float32)
    green[:] = GREEN
    write_image(root / "backgrounds" / "green.png", green)
    return root


def trimap_config(root, **data) -> TrainConfig:
    return TrainConfig.from_dict({
        "stage": "trimap",
        "model": {"encoder": "tu-resnet10t", "encoder_depth": 3, "decoder_channels": [16, 8, 8]},
        "data": {"kind": "folders", "root": str(root), "background_dir": str(root / "backgrounds"),
                 "val_count": 1, "out_size": 16, "crop_sizes": [16, 24], "repeats": 8,
                 "max_side": None, "val_max_side": None, "val_band": 2, "jitter": False,
                 **data},
        "optim": {"batch_size": 2, "steps": 1},
        "run": {"device": "cpu"},
    })


def test_trimap_stage_trains_on_the_photos_not_on_composites(photo_root):
    """Photos pasted over foreign backgrounds teach "photo texture = not background"."""
    train_set, _ = build_datasets(trimap_config(photo_root))
    for index in range(len(train_set)):
        image = train_set[(0, index)]["image"].permute(1, 2, 0).numpy()
        green = np.all(np.abs(image - np.float32(GREEN)) < 0.05, axis=-1)
        assert not green.any(), f"sample {index} shows the compositing background"


def test_trimap_stage_crops_also_show_plain_background(photo_root):
    train_set, _ = build_datasets(trimap_config(photo_root, trimap_unknown_fraction=0.5))
    classes = [train_set[(1, i)]["trimap_class"].numpy() for i in range(len(train_set))]
    no_unknown = sum(not (c == 1).any() for c in classes)
    assert no_unknown >= 3  # crops far from the disc exist (a pure-unknown-centred set has none)
    assert sum((c == 1).any() for c in classes) >= 3


def test_composites_only_pure_foregrounds(photo_root):
    train_set, _ = build_datasets(trimap_config(photo_root, foreground=True))
    images = [train_set[(0, i)]["image"].permute(1, 2, 0).numpy() for i in range(len(train_set))]
    assert any(np.all(np.abs(im - np.float32(GREEN)) < 0.05, axis=-1).any() for im in images)


def test_targets_use_the_fixed_band_not_random_ones():
    image, alpha = photo_and_alpha()
    pair = MattePair("x", image=None, alpha=None)
    dataset = TrimapPhotoDataset([pair], seed=3, out_size=48, crop_sizes=[48], band=4,
                                 unknown_fraction=1.0, repeats=6, jitter=False)
    dataset._pairs[0] = (image, alpha, trimap_from_alpha(alpha, 4))
    expected = trimap_from_alpha(alpha, 4)
    for index in range(6):
        arrays = dataset.sample_arrays(0, index)
        flipped = not np.array_equal(arrays["alpha"], alpha)
        np.testing.assert_array_equal(arrays["trimap"], expected[:, ::-1] if flipped else expected)
        np.testing.assert_allclose(arrays["image"], image[:, ::-1] if flipped else image)


def test_samples_are_deterministic_per_seed_epoch_index(photo_root):
    train_set, _ = build_datasets(trimap_config(photo_root, jitter=True))
    a, b = train_set[(2, 5)], train_set[(2, 5)]
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    assert not np.array_equal(a["image"].numpy(), train_set[(3, 5)]["image"].numpy())


def test_random_crop_box_stays_inside():
    rng = np.random.default_rng(0)
    alpha = np.zeros((30, 50), np.float32)
    for fraction in (0.0, 1.0):
        for _ in range(50):
            y, x = random_crop_box(alpha, 20, rng, fraction)
            assert 0 <= y <= 10 and 0 <= x <= 30


def test_train_band_matches_the_validation_scale():
    assert train_band(6, 512, 320) == 10
    assert train_band(6, None, 320) == 6
    assert train_band(1, 64, 640) == 1


def test_bad_arguments_are_input_errors():
    pair = MattePair("x", image=None, alpha=None)
    with pytest.raises(InputError):
        TrimapPhotoDataset([], band=3)
    with pytest.raises(InputError):
        TrimapPhotoDataset([pair], unknown_fraction=1.5)
    with pytest.raises(InputError):
        TrimapPhotoDataset([pair], crop_sizes=[4])
