"""Tests of trimatte.trimap.validate: trimap format and mattability checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.errors import InputError, TrimapError
from trimatte.trimap.validate import check_mask, trimap_stats, validate_trimap

FG, UNK, BG = 255, 128, 0


def good_trimap() -> np.ndarray:
    trimap = np.zeros((10, 12), np.uint8)
    trimap[3:7, 3:9] = UNK
    trimap[4:6, 4:8] = FG
    return trimap


def test_a_good_trimap_passes_and_is_not_modified():
    trimap = good_trimap()
    before = trimap.copy()
    assert validate_trimap(trimap, image_shape=(10, 12, 3)) is None
    np.testing.assert_array_equal(trimap, before)


def test_an_all_known_trimap_is_valid():
    trimap = np.zeros((6, 6), np.uint8)
    trimap[:3] = FG
    validate_trimap(trimap)


def test_no_foreground_names_the_problem_and_the_remedy():
    trimap = good_trimap()
    trimap[trimap == FG] = UNK
    with pytest.raises(TrimapError, match=r"no definite-foreground \(255\).*mark some foreground"):
        validate_trimap(trimap, name="t.png")


def test_no_background_names_the_problem_and_the_remedy():
    trimap = np.full((5, 5), FG, np.uint8)
    trimap[0] = UNK
    with pytest.raises(TrimapError, match=r"no definite-background \(0\).*mark some background"):
        validate_trimap(trimap)


def test_all_unknown():
    with pytest.raises(TrimapError, match="every pixel is unknown"):
        validate_trimap(np.full((5, 5), UNK, np.uint8))


def test_the_error_names_the_input():
    with pytest.raises(TrimapError) as info:
        validate_trimap(np.full((5, 5), UNK, np.uint8), name="photo_trimap.png")
    assert info.value.source == "photo_trimap.png"
    assert str(info.value).startswith("photo_trimap.png: ")


@pytest.mark.parametrize(
    ("array", "pattern"),
    [
        (np.zeros((4, 4, 3), np.uint8), "2-D"),
        (np.zeros((0, 4), np.uint8), "empty"),
        (np.zeros((4, 4), np.float32), "uint8"),
        (np.full((4, 4), 7, np.uint8), r"0 \(background\), 128 \(unknown\) or 255.*\[7\]"),
    ],
)
def test_format_errors(array, pattern):
    with pytest.raises(TrimapError, match=pattern):
        validate_trimap(array)


def test_size_must_match_the_image():
    with pytest.raises(TrimapError, match=r"12x10.*does not match.*13x10"):
        validate_trimap(good_trimap(), image_shape=(10, 13, 3))
    with pytest.raises(InputError, match="image_shape"):
        validate_trimap(good_trimap(), image_shape=(10,))


def test_trimap_stats_on_a_known_example():
    trimap = np.array([[0, 0, 128, 255]], np.uint8)
    assert trimap_stats(trimap) == {"foreground": 0.25, "background": 0.5, "unknown": 0.25,
                                    "pixels": 4}


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 16), st.integers(1, 16)),
              elements=st.sampled_from([BG, UNK, FG])))
def test_trimap_stats_fractions_add_up(trimap):
    stats = trimap_stats(trimap)
    assert stats["pixels"] == trimap.size
    assert abs(stats["foreground"] + stats["background"] + stats["unknown"] - 1) < 1e-12
    assert stats["unknown"] == pytest.approx((trimap == UNK).mean())


def test_check_mask_conversions_and_errors():
    assert check_mask(np.array([[0, 255]], np.uint8)).tolist() == [[False, True]]
    assert check_mask(np.array([[0.2, 0.7]], np.float32)).tolist() == [[False, True]]
    with pytest.raises(InputError, match="does not match"):
        check_mask(np.zeros((3, 4), bool), shape=(4, 4, 3))
    with pytest.raises(InputError, match="NaN"):
        check_mask(np.array([[np.nan]]))
    with pytest.raises(InputError, match="dtype"):
        check_mask(np.array([["a"]]))
