"""Tests of trimatte.data.augment (pure DIM augmentation functions)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.data import augment
from trimatte.errors import InputError


def _soft_disc(size: int = 100, cy: float = 30, cx: float = 70) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return np.clip((12 - np.hypot(yy - cy, xx - cx)) / 4 + 0.5, 0, 1).astype(np.float32)


def test_composite_matches_the_equation():
    fg = np.full((2, 2, 3), 0.8, np.float32)
    bg = np.full((2, 2, 3), 0.2, np.float32)
    alpha = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    out = augment.composite(fg, bg, alpha)
    np.testing.assert_allclose(out[..., 0], [[0.2, 0.35], [0.5, 0.8]], atol=1e-6)
    assert out.dtype == np.float32


def test_composite_rejects_mismatched_sizes():
    with pytest.raises(InputError, match="same size"):
        augment.composite(np.zeros((3, 3, 3)), np.zeros((4, 3, 3)), np.zeros((3, 3)))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_composite_lies_between_foreground_and_background(seed):
    rng = np.random.default_rng(seed)
    fg, bg = rng.random((5, 5, 3), np.float32), rng.random((5, 5, 3), np.float32)
    alpha = rng.random((5, 5), np.float32)
    out = augment.composite(fg, bg, alpha)
    assert np.all(out >= np.minimum(fg, bg) - 1e-6)
    assert np.all(out <= np.maximum(fg, bg) + 1e-6)


def test_crop_is_centred_on_an_unknown_pixel_when_possible():
    alpha = np.zeros((200, 200), np.float32)
    alpha[100, 120] = 0.5  # the only unknown pixel
    y0, x0 = augment.crop_box_around_unknown(alpha, 64, np.random.default_rng(0))
    assert (y0, x0) == (100 - 32, 120 - 32)


def test_crop_window_stays_inside_the_image():
    alpha = np.zeros((100, 100), np.float32)
    alpha[2, 97] = 0.5
    y0, x0 = augment.crop_box_around_unknown(alpha, 64, np.random.default_rng(0))
    assert (y0, x0) == (0, 36)


def test_crop_bigger_than_image_is_an_input_error():
    with pytest.raises(InputError, match="smaller than the crop"):
        augment.crop_box_around_unknown(np.zeros((10, 10), np.float32), 20,
                                        np.random.default_rng(0))


def test_random_crop_contains_unknown_pixels_and_has_out_size():
    alpha = _soft_disc()
    fg = np.random.default_rng(1).random((100, 100, 3)).astype(np.float32)
    for seed in range(5):
        crop_fg, crop_alpha = augment.random_crop_around_unknown(
            fg, alpha, np.random.default_rng(seed), crop_sizes=(40, 60, 120), out_size=32
        )
        assert crop_fg.shape == (32, 32, 3) and crop_alpha.shape == (32, 32)
        assert augment.unknown_region(crop_alpha).any()
        assert crop_alpha.min() >= 0 and crop_alpha.max() <= 1


def test_random_crop_is_deterministic_given_the_seed():
    alpha = _soft_disc()
    fg = np.random.default_rng(1).random((100, 100, 3)).astype(np.float32)
    a = augment.random_crop_around_unknown(fg, alpha, np.random.default_rng(7), (40, 60), 32)
    b = augment.random_crop_around_unknown(fg, alpha, np.random.default_rng(7), (40, 60), 32)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_flip_flips_all_arrays_together():
    image = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    alpha = np.array([[0.0, 1.0], [0.5, 0.25]], np.float32)
    flipped = augment.random_flip(np.random.default_rng(0), image, alpha, probability=1.0)
    np.testing.assert_array_equal(flipped[0], image[:, ::-1])
    np.testing.assert_array_equal(flipped[1], alpha[:, ::-1])
    same = augment.random_flip(np.random.default_rng(0), image, alpha, probability=0.0)
    np.testing.assert_array_equal(same[1], alpha)


def test_color_jitter_stays_in_range_and_changes_colours():
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    out = augment.color_jitter(image, np.random.default_rng(3))
    assert out.dtype == np.float32 and out.shape == image.shape
    assert out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out, image)


def test_color_jitter_with_zero_strength_is_identity():
    image = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    out = augment.color_jitter(image, np.random.default_rng(0), 0, 0, 0, 0)
    np.testing.assert_allclose(out, image, atol=1e-5)


def test_resize_and_limits():
    array = np.zeros((30, 40, 3), np.float32)
    assert augment.resize(array, (15, 20)).shape == (15, 20, 3)
    assert augment.limit_size(array, 20).shape == (15, 20, 3)
    assert augment.limit_size(array, None) is array
    assert augment.ensure_min_size(np.zeros((10, 20), np.float32), 30).shape == (30, 60)
    assert augment.resize(np.zeros((5, 5, 1), np.float32), (10, 10)).shape == (10, 10, 1)
    with pytest.raises(InputError):
        augment.resize(array, (0, 4))


def test_background_crop_has_out_size():
    bg = np.random.default_rng(0).random((50, 70, 3)).astype(np.float32)
    out = augment.random_background_crop(bg, np.random.default_rng(0), 32)
    assert out.shape == (32, 32, 3)
