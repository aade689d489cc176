"""Tests of trimatte.trimap.cleanup: small islands and holes of predicted trimaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.errors import InputError, TrimapError
from trimatte.trimap.cleanup import area_in_pixels, clean_trimap
from trimatte.trimap.morphology import trimap_from_mask

FG, UNK, BG = 255, 128, 0


def subject_trimap(size: int = 100) -> np.ndarray:
    """A large disc subject with a 3 px band: nothing in it is small."""
    yy, xx = np.mgrid[0:size, 0:size]
    return trimap_from_mask(np.hypot(yy - 50, xx - 45) < 30, 3)


def test_a_clean_trimap_is_unchanged_and_the_input_is_not_modified():
    trimap = subject_trimap()
    before = trimap.copy()
    out = clean_trimap(trimap)
    np.testing.assert_array_equal(out, trimap)
    np.testing.assert_array_equal(trimap, before)
    assert out is not trimap


def test_foreground_speck_in_background_becomes_background():
    trimap = subject_trimap()
    trimap[88:91, 88:91] = FG
    out = clean_trimap(trimap, min_area=20)
    assert (out[88:91, 88:91] == BG).all()
    np.testing.assert_array_equal(out, subject_trimap())


def test_foreground_speck_with_an_unknown_rim_becomes_unknown():
    trimap = subject_trimap()
    trimap[86:93, 86:93] = UNK
    trimap[88:91, 88:91] = FG
    out = clean_trimap(trimap, min_area=20)
    assert (out[86:93, 86:93] == UNK).all()


def test_background_hole_inside_foreground_becomes_unknown():
    trimap = subject_trimap()
    trimap[48:51, 44:47] = BG
    out = clean_trimap(trimap, min_area=20)
    assert (out[48:51, 44:47] == UNK).all()
    assert (out[trimap != BG] == trimap[trimap != BG]).all()


@pytest.mark.parametrize("known", [FG, BG])
def test_small_unknown_hole_takes_its_surrounding_class(known):
    trimap = subject_trimap()
    y, x = (50, 45) if known == FG else (90, 90)
    assert trimap[y, x] == known
    trimap[y - 1:y + 2, x - 1:x + 2] = UNK
    out = clean_trimap(trimap, min_area=20)
    assert (out[y - 1:y + 2, x - 1:x + 2] == known).all()
    kept = clean_trimap(trimap, min_area=20, fill_holes=False)
    assert (kept[y - 1:y + 2, x - 1:x + 2] == UNK).all()


def test_large_holes_and_holes_on_the_border_are_kept():
    trimap = subject_trimap()
    trimap[40:60, 35:55] = UNK  # 400 px inside the subject
    trimap[0:3, 90:93] = UNK  # small, but on the image border
    out = clean_trimap(trimap, min_area=100)
    np.testing.assert_array_equal(out, trimap)


def test_unknown_hole_touching_both_classes_is_kept():
    trimap = subject_trimap()
    trimap[86:93, 86:93] = UNK
    trimap[89, 89] = BG
    trimap[88, 88] = FG
    out = clean_trimap(trimap, min_area=60)
    assert (out[86:93, 86:93] == UNK).all()


def test_the_largest_region_of_each_class_is_kept_even_if_small():
    trimap = np.zeros((100, 100), np.uint8)
    trimap[10:14, 10:14] = FG  # the whole (tiny) subject
    trimap[70:72, 70:72] = FG  # a smaller speck
    out = clean_trimap(trimap, min_area=0.01)  # 100 px: both are "small"
    assert (out[10:14, 10:14] == FG).all() and (out[70:72, 70:72] == BG).all()
    mostly_fg = np.full((50, 50), FG, np.uint8)
    mostly_fg[:2, :2] = BG
    np.testing.assert_array_equal(clean_trimap(mostly_fg, min_area=100), mostly_fg)


def test_min_area_fraction_or_pixels():
    assert area_in_pixels(0.001, (100, 200)) == pytest.approx(20)
    assert area_in_pixels(20, (100, 200)) == 20
    trimap = subject_trimap()
    trimap[88:91, 88:91] = FG  # 9 px
    assert (clean_trimap(trimap, min_area=9)[88:91, 88:91] == FG).all()
    assert (clean_trimap(trimap, min_area=10)[88:91, 88:91] == BG).all()
    assert (clean_trimap(trimap, min_area=0.001)[88:91, 88:91] == BG).all()  # 10 px
    np.testing.assert_array_equal(clean_trimap(trimap, min_area=0), trimap)


def test_bad_arguments():
    with pytest.raises(InputError, match="min_area"):
        clean_trimap(subject_trimap(), min_area=-1)
    with pytest.raises(TrimapError, match="values"):
        clean_trimap(np.full((5, 5), 3, np.uint8))


noisy_trimaps = arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)),
                       elements=st.sampled_from([BG, UNK, FG]))


@settings(max_examples=80, deadline=None)
@given(noisy_trimaps, st.sampled_from([0.05, 0.2, 3, 10]), st.booleans())
def test_cleanup_invariants(trimap, min_area, fill_holes):
    before = trimap.copy()
    out = clean_trimap(trimap, min_area=min_area, fill_holes=fill_holes)
    assert out.dtype == np.uint8 and set(np.unique(out)) <= {BG, UNK, FG}
    assert not ((trimap == BG) & (out == FG)).any(), "background never becomes foreground"
    for value in (FG, BG):
        if (trimap == value).any():
            assert (out == value).any(), "a class present in the input is never erased"
    if not fill_holes:
        assert not ((trimap == UNK) & (out != UNK)).any()
    np.testing.assert_array_equal(trimap, before)
