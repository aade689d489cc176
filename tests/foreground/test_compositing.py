"""Tests of trimatte.foreground.compositing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.errors import InputError
from trimatte.foreground import compositing


def test_composite_formula_by_hand():
    fg = np.array([[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]], np.float32)
    alpha = np.array([[1.0, 0.25]], np.float32)
    bg = np.array([[[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]], np.float32)
    out = compositing.composite(fg, alpha, bg)
    assert out.dtype == np.float32 and out.shape == (1, 2, 3)
    np.testing.assert_allclose(out[0, 0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(out[0, 1], [0.25, 0.0, 0.75])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_composite_stays_between_foreground_and_background(h, w, seed):
    rng = np.random.default_rng(seed)
    fg = rng.random((h, w, 3), dtype=np.float32)
    bg = rng.random((h, w, 3), dtype=np.float32)
    alpha = rng.random((h, w), dtype=np.float32)
    out = compositing.composite(fg, alpha, bg)
    lo, hi = np.minimum(fg, bg), np.maximum(fg, bg)
    assert np.all(out >= lo - 1e-6) and np.all(out <= hi + 1e-6)
    np.testing.assert_allclose(compositing.composite(fg, np.ones((h, w)), bg), fg, atol=1e-7)
    np.testing.assert_allclose(compositing.composite(fg, np.zeros((h, w)), bg), bg, atol=1e-7)


def test_composite_accepts_triple_and_spec(disc_scene):
    image, alpha, _, _ = disc_scene
    by_triple = compositing.composite(image, alpha, (1.0, 1.0, 1.0))
    by_spec = compositing.composite(image, alpha, "white")
    np.testing.assert_array_equal(by_triple, by_spec)
    assert by_triple[0, 0].tolist() == [1.0, 1.0, 1.0]  # alpha 0 in the corner


def test_composite_size_mismatch_names_background():
    with pytest.raises(InputError) as info:
        compositing.composite(np.zeros((4, 4, 3)), np.zeros((4, 4)), np.zeros((5, 4, 3)))
    assert info.value.source == "background"
    with pytest.raises(InputError) as info:
        compositing.composite(np.zeros((4, 4, 3)), np.zeros((4, 3)), "black")
    assert info.value.source == "alpha"


def test_cutout_is_straight_rgba(disc_scene):
    image, alpha, _, _ = disc_scene
    rgba = compositing.cutout(image, alpha)
    assert rgba.dtype == np.float32 and rgba.shape == (*alpha.shape, 4)
    np.testing.assert_array_equal(rgba[:, :, :3], image)  # not premultiplied
    np.testing.assert_array_equal(rgba[:, :, 3], alpha)


def test_checkerboard_pattern():
    board = compositing.checkerboard((5, 7), square=2, colors=((0, 0, 0), (1, 1, 1)))
    assert board.shape == (5, 7, 3) and board.dtype == np.float32
    expected = ((np.arange(5)[:, None] // 2 + np.arange(7)[None, :] // 2) % 2).astype(np.float32)
    np.testing.assert_array_equal(board[:, :, 0], expected)
    with pytest.raises(InputError, match="square"):
        compositing.checkerboard((4, 4), square=0)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("white", (1.0, 1.0, 1.0)),
        (" Black ", (0.0, 0.0, 0.0)),
        ("red", (1.0, 0.0, 0.0)),
        ("gray", (128 / 255,) * 3),
        ("#ff8000", (1.0, 128 / 255, 0.0)),
        ("#0f0", (0.0, 1.0, 0.0)),
        ("255, 0, 51", (1.0, 0.0, 0.2)),
    ],
)
def test_parse_color(spec, expected):
    assert compositing.parse_color(spec) == pytest.approx(expected)


@pytest.mark.parametrize("spec", ["blurple", "#12345", "#gggggg", "1,2", "0,0,256", "a,b,c"])
def test_parse_color_rejects_with_the_spec_named(spec):
    with pytest.raises(InputError) as info:
        compositing.parse_color(spec)
    assert info.value.source == spec


def test_load_background_colour():
    bg = compositing.load_background("#000080", (3, 4))
    assert bg.shape == (3, 4, 3) and bg.dtype == np.float32
    np.testing.assert_allclose(bg[:, :, 2], 128 / 255)


def test_load_background_image_covers_and_centre_crops(tmp_path):
    # 10 rows x 40 columns: left half red, right half blue, a green middle band.
    bgr = np.zeros((10, 40, 3), np.uint8)
    bgr[:, :20] = (0, 0, 255)
    bgr[:, 20:] = (255, 0, 0)
    bgr[:, 18:22] = (0, 255, 0)
    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), bgr)
    out = compositing.load_background(str(path), (20, 20))  # scale 2 -> 20x80, crop 30..50
    assert out.shape == (20, 20, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    # The crop keeps the centre: the green band (columns 36..44 after scaling) is in it,
    # the far-left red and far-right blue are cut away apart from a few columns.
    np.testing.assert_allclose(out[10, 10], [0.0, 1.0, 0.0], atol=1e-6)
    assert out[:, 0, 0].mean() > 0.9 and out[:, -1, 2].mean() > 0.9


def test_load_background_errors_name_the_spec(tmp_path):
    with pytest.raises(InputError) as info:
        compositing.load_background("no-such-colour-or-file", (4, 4))
    assert info.value.source == "no-such-colour-or-file"
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InputError) as info:
        compositing.load_background(str(text), (4, 4))
    assert "notes.txt" in str(info.value)
