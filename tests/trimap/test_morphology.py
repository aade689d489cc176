"""Tests of trimatte.trimap.morphology: bands from masks and mattes, rebuild and adjust."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.errors import InputError, TrimapError
from trimatte.trimap.morphology import (
    BG_THRESHOLD,
    FG_THRESHOLD,
    adjust_band,
    band_width_for,
    random_trimap,
    rebuild_band,
    trimap_from_alpha,
    trimap_from_mask,
)

FG, UNK, BG = 255, 128, 0
SETTINGS = settings(max_examples=60, deadline=None)

masks = arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24)))
bands = st.integers(0, 8)


def half_plane(height: int = 20, width: int = 40, column: int = 20) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[:, :column] = True
    return mask


def disc(size: int = 64, radius: float = 18.0) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    return np.hypot(yy - size / 2, xx - size / 2) < radius


def soft_disc(size: int = 64, radius: float = 18.0, soft: float = 4.0) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.hypot(yy - size / 2, xx - size / 2)
    return np.clip((radius - distance) / soft + 0.5, 0.0, 1.0).astype(np.float32)


def hard_trimaps():
    """Trimaps with all three classes arranged arbitrarily (noise) and from masks."""
    noise = arrays(np.uint8, st.tuples(st.integers(1, 20), st.integers(1, 20)),
                   elements=st.sampled_from([BG, UNK, FG]))
    banded = st.builds(trimap_from_mask, masks, bands)
    return st.one_of(noise, banded)


# ----------------------------------------------------------------------------- trimap_from_mask


@SETTINGS
@given(masks, bands)
def test_trimap_from_mask_invariants(mask, band):
    before = mask.copy()
    trimap = trimap_from_mask(mask, band)
    assert trimap.dtype == np.uint8 and trimap.shape == mask.shape
    assert set(np.unique(trimap)) <= {BG, UNK, FG}
    fg, unknown = trimap == FG, trimap == UNK
    assert not (fg & ~mask).any(), "foreground must lie inside the mask"
    assert not (mask & ~(fg | unknown)).any(), "mask must lie inside fg | unknown"
    np.testing.assert_array_equal(mask, before)


@SETTINGS
@given(masks, bands, st.integers(1, 5))
def test_trimap_from_mask_larger_band_has_larger_unknown(mask, band, extra):
    small = trimap_from_mask(mask, band) == UNK
    large = trimap_from_mask(mask, band + extra) == UNK
    assert not (small & ~large).any()


@SETTINGS
@given(masks)
def test_band_zero_is_the_mask_itself(mask):
    trimap = trimap_from_mask(mask, 0)
    assert not (trimap == UNK).any()
    np.testing.assert_array_equal(trimap == FG, mask)


@pytest.mark.parametrize("band", [1, 3, 7])
def test_band_has_band_pixels_on_each_side(band):
    trimap = trimap_from_mask(half_plane(column=20), band)
    unknown_columns = np.flatnonzero((trimap == UNK).all(axis=0))
    assert unknown_columns.tolist() == list(range(20 - band, 20 + band))
    assert (trimap[:, : 20 - band] == FG).all() and (trimap[:, 20 + band:] == BG).all()


def test_image_border_does_not_erode():
    assert (trimap_from_mask(np.ones((10, 12), bool), 3) == FG).all()
    assert (trimap_from_mask(np.zeros((10, 12), bool), 3) == BG).all()


def test_band_is_round():
    """An elliptical kernel: a single-pixel mask gives a disc-shaped unknown region."""
    mask = np.zeros((41, 41), bool)
    mask[20, 20] = True
    unknown = trimap_from_mask(mask, 10) == UNK
    assert unknown[20, 10] and unknown[10, 20] and not unknown[10, 10]
    assert abs(unknown.sum() - np.pi * 10.5**2) < 0.1 * np.pi * 10.5**2


def test_integer_masks_are_accepted():
    mask = disc()
    np.testing.assert_array_equal(trimap_from_mask(mask.astype(np.uint8) * 255, 2),
                                  trimap_from_mask(mask, 2))


@pytest.mark.parametrize("band", [-1, 1.5, "3", None, True])
def test_bad_band_is_an_input_error(band):
    with pytest.raises(InputError, match="band"):
        trimap_from_mask(disc(), band)


def test_bad_mask_is_an_input_error():
    with pytest.raises(InputError, match=r"mask.*2-D"):
        trimap_from_mask(np.zeros((4, 4, 3), bool), 1)
    with pytest.raises(InputError, match="empty"):
        trimap_from_mask(np.zeros((0, 4), bool), 1)


# ----------------------------------------------------------------------------- trimap_from_alpha


def test_trimap_from_alpha_band_zero_marks_exactly_the_soft_pixels():
    alpha = soft_disc()
    trimap = trimap_from_alpha(alpha, 0)
    soft = (alpha > 0) & (alpha < 1)
    np.testing.assert_array_equal(trimap == UNK, soft)
    np.testing.assert_array_equal(trimap == FG, alpha == 1)


def test_trimap_from_alpha_8bit_thresholds():
    alpha8 = np.array([[255, 254, 128, 1, 0]], np.uint8)
    assert trimap_from_alpha(alpha8, 0).tolist() == [[FG, UNK, UNK, UNK, BG]]
    as_float = alpha8.astype(np.float32) / 255.0
    assert trimap_from_alpha(as_float, 0).tolist() == [[FG, UNK, UNK, UNK, BG]]


def test_trimap_from_alpha_custom_thresholds():
    alpha = np.array([[0.95, 0.5, 0.05]], np.float32)
    trimap = trimap_from_alpha(alpha, 0, fg_threshold=0.9, bg_threshold=0.1)
    assert trimap.tolist() == [[FG, UNK, BG]]
    with pytest.raises(InputError, match="threshold"):
        trimap_from_alpha(alpha, 0, fg_threshold=0.2, bg_threshold=0.5)


@SETTINGS
@given(st.integers(0, 6), st.integers(1, 4), st.floats(8, 24), st.floats(0.5, 6))
def test_trimap_from_alpha_invariants(band, extra, radius, soft):
    alpha = soft_disc(radius=radius, soft=soft)
    before = alpha.copy()
    trimap = trimap_from_alpha(alpha, band)
    assert set(np.unique(trimap)) <= {BG, UNK, FG}
    assert (alpha[trimap == FG] >= FG_THRESHOLD).all()
    assert (alpha[trimap == BG] <= BG_THRESHOLD).all()
    assert (trimap[(alpha > BG_THRESHOLD) & (alpha < FG_THRESHOLD)] == UNK).all()
    wider = trimap_from_alpha(alpha, band + extra) == UNK
    assert not ((trimap == UNK) & ~wider).any()
    np.testing.assert_array_equal(alpha, before)


def test_trimap_from_alpha_band_on_each_side():
    alpha = np.zeros((10, 40), np.float32)
    alpha[:, :18] = 1.0
    alpha[:, 18:22] = 0.5
    trimap = trimap_from_alpha(alpha, 3)
    unknown_columns = np.flatnonzero((trimap == UNK).all(axis=0))
    assert unknown_columns.tolist() == list(range(15, 25))


def test_trimap_from_alpha_rejects_out_of_range():
    with pytest.raises(InputError, match="alpha"):
        trimap_from_alpha(np.full((4, 4), 2.0, np.float32), 1)


# ----------------------------------------------------------------------------- random_trimap


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_random_trimap_is_deterministic_per_seed(seed):
    alpha = soft_disc()
    first = random_trimap(alpha, np.random.default_rng(seed), 1, 10)
    second = random_trimap(alpha, np.random.default_rng(seed), 1, 10)
    np.testing.assert_array_equal(first, second)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 5), st.integers(0, 6))
def test_random_trimap_lies_between_its_band_limits(seed, min_band, span):
    alpha = soft_disc(radius=22)
    max_band = min_band + span
    trimap = random_trimap(alpha, np.random.default_rng(seed), min_band, max_band)
    unknown = trimap == UNK
    narrowest = trimap_from_alpha(alpha, min_band) == UNK
    widest = trimap_from_alpha(alpha, max_band) == UNK
    assert not (narrowest & ~unknown).any() and not (unknown & ~widest).any()


def test_random_trimap_varies_and_draws_fg_and_bg_independently():
    alpha = soft_disc(radius=22)
    rng = np.random.default_rng(1)
    trimaps = [random_trimap(alpha, rng, 1, 12) for _ in range(12)]
    fg_counts = {int((t == FG).sum()) for t in trimaps}
    bg_counts = {int((t == BG).sum()) for t in trimaps}
    pairs = {(int((t == FG).sum()), int((t == BG).sum())) for t in trimaps}
    assert len(fg_counts) > 3 and len(bg_counts) > 3
    # with a shared radius the pairs would be determined by one of the counts
    assert len(pairs) > len(fg_counts) or len(pairs) > len(bg_counts)


def test_random_trimap_checks_arguments():
    alpha = soft_disc()
    with pytest.raises(InputError, match="max_band"):
        random_trimap(alpha, np.random.default_rng(0), 5, 2)
    with pytest.raises(InputError, match="rng"):
        random_trimap(alpha, 0, 1, 2)


# ----------------------------------------------------------------------------- band_width_for


def test_band_width_for():
    assert band_width_for((480, 640), 0.01) == 6
    assert band_width_for((480, 640, 3), 0.05) == 32
    assert band_width_for((10, 10), 0.001) == 1
    assert band_width_for((100, 50), 0.0) == 1
    with pytest.raises(InputError, match="fraction"):
        band_width_for((10, 10), -0.1)
    with pytest.raises(InputError, match="shape"):
        band_width_for((10,), 0.1)


# ----------------------------------------------------------------------------- rebuild_band


def test_rebuild_band_recovers_a_straight_edge_exactly():
    mask = half_plane()
    np.testing.assert_array_equal(rebuild_band(trimap_from_mask(mask, 6), 2),
                                  trimap_from_mask(mask, 2))


def test_rebuild_band_on_a_disc_is_close_to_the_direct_band():
    mask = disc()
    rebuilt = rebuild_band(trimap_from_mask(mask, 5), 3)
    direct = trimap_from_mask(mask, 3)
    assert (rebuilt != direct).mean() < 0.01


def test_rebuild_band_evens_out_an_irregular_band():
    alpha = soft_disc(soft=10.0)
    ragged = random_trimap(alpha, np.random.default_rng(3), 1, 12)
    rebuilt = rebuild_band(ragged, 2)
    assert (rebuilt == UNK).sum() < (ragged == UNK).sum()
    assert (rebuilt == FG).any() and (rebuilt == BG).any()


@SETTINGS
@given(hard_trimaps(), st.integers(0, 6))
def test_rebuild_band_keeps_sides(trimap, width):
    before = trimap.copy()
    rebuilt = rebuild_band(trimap, width)
    assert set(np.unique(rebuilt)) <= {BG, UNK, FG}
    assert not ((trimap == FG) & (rebuilt == BG)).any()
    assert not ((trimap == BG) & (rebuilt == FG)).any()
    np.testing.assert_array_equal(trimap, before)


def test_rebuild_band_with_one_known_class_returns_a_copy():
    trimap = np.full((8, 8), UNK, np.uint8)
    trimap[:2] = BG
    out = rebuild_band(trimap, 2)
    np.testing.assert_array_equal(out, trimap)
    assert out is not trimap


def test_rebuild_band_rejects_malformed_trimaps():
    with pytest.raises(TrimapError, match="values"):
        rebuild_band(np.full((4, 4), 7, np.uint8), 1)
    with pytest.raises(TrimapError, match="uint8"):
        rebuild_band(np.zeros((4, 4), np.float32), 1)


# ----------------------------------------------------------------------------- adjust_band


@SETTINGS
@given(hard_trimaps(), st.integers(1, 6))
def test_adjust_band_grow_and_shrink_invariants(trimap, pixels):
    before = trimap.copy()
    grown = adjust_band(trimap, pixels)
    shrunk = adjust_band(trimap, -pixels)
    unknown = trimap == UNK
    assert not (unknown & (grown != UNK)).any(), "growing keeps every unknown pixel"
    assert not ((grown != UNK) & (grown != trimap)).any(), "growing never changes class"
    assert not ((shrunk == UNK) & ~unknown).any(), "shrinking never adds unknown"
    assert not (~unknown & (shrunk != trimap)).any(), "known pixels keep their class"
    np.testing.assert_array_equal(trimap, before)


@SETTINGS
@given(masks, st.integers(1, 6))
def test_growing_a_hard_trimap_equals_a_direct_band(mask, pixels):
    np.testing.assert_array_equal(adjust_band(trimap_from_mask(mask, 0), pixels),
                                  trimap_from_mask(mask, pixels))


def test_shrinking_gives_freed_pixels_to_the_nearest_side():
    mask = half_plane()
    banded = trimap_from_mask(mask, 5)
    np.testing.assert_array_equal(adjust_band(banded, -5), trimap_from_mask(mask, 0))
    partly = adjust_band(banded, -2)
    assert ((partly == UNK).sum(axis=1) == 6).all()
    np.testing.assert_array_equal(partly, trimap_from_mask(mask, 3))


def test_adjust_band_zero_and_all_unknown_are_copies():
    trimap = trimap_from_mask(disc(), 3)
    assert np.array_equal(adjust_band(trimap, 0), trimap)
    everything_unknown = np.full((5, 5), UNK, np.uint8)
    np.testing.assert_array_equal(adjust_band(everything_unknown, -2), everything_unknown)


def test_adjust_band_rejects_fractional_pixels():
    with pytest.raises(InputError, match="pixels"):
        adjust_band(trimap_from_mask(disc(), 3), 0.5)


def test_trimap_from_alpha_on_a_real_8bit_matte(shared_dir):
    """AM-2k sample1: every soft pixel of the 8-bit matte is unknown, and only those at band 0."""
    from trimatte.io import read_alpha

    alpha = read_alpha(shared_dir / "data" / "am2k" / "alpha" / "sample1.png")
    soft = (alpha > 0) & (alpha < 1)
    np.testing.assert_array_equal(trimap_from_alpha(alpha, 0) == UNK, soft)
    trimap = trimap_from_alpha(alpha, 10)
    assert (trimap[soft] == UNK).all()
    assert (trimap == FG).any() and (trimap == BG).any()
    assert (trimap == UNK).sum() > soft.sum()
