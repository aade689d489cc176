import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.errors import InputError, TrimapError
from trimatte.image import as_alpha, as_image, as_trimap, check_same_size, to_uint8


def test_as_image_scales_uint8_and_uint16():
    u8 = np.full((2, 3, 3), 255, np.uint8)
    u16 = np.full((2, 3, 3), 65535, np.uint16)
    assert as_image(u8).dtype == np.float32
    np.testing.assert_allclose(as_image(u8), 1.0)
    np.testing.assert_allclose(as_image(u16), 1.0)


def test_as_image_gray_repeats_channels():
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    out = as_image(gray)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4, 4), np.float32), "expected shape"),
        (np.zeros((0, 4, 3), np.float32), "empty"),
        (np.full((2, 2, 3), 2.0, np.float32), r"\[0, 1\]"),
        (np.full((2, 2, 3), np.nan, np.float32), "NaN"),
        (np.array([["a"]]), "numeric"),
    ],
)
def test_as_image_rejects_bad_arrays_with_named_error(array, message):
    with pytest.raises(InputError, match=message) as info:
        as_image(array, name="photo")
    assert "photo" in str(info.value)


def test_as_alpha_bool_and_float():
    np.testing.assert_array_equal(as_alpha(np.array([[True, False]])), [[1.0, 0.0]])
    with pytest.raises(InputError, match="shape"):
        as_alpha(np.zeros((2, 2, 3)))


def test_as_trimap_snaps_gray_levels_and_scales_floats():
    raw = np.array([[0, 10, 63, 64, 128, 191, 192, 255]], np.uint8)
    np.testing.assert_array_equal(as_trimap(raw), [[0, 0, 0, 128, 128, 128, 255, 255]])
    np.testing.assert_array_equal(as_trimap(np.array([[0.0, 0.5, 1.0]])), [[0, 128, 255]])


def test_as_trimap_strict_rejects_odd_values():
    with pytest.raises(TrimapError, match="0, 128 or 255"):
        as_trimap(np.array([[0, 100]], np.uint8), strict=True)


def test_as_trimap_rejects_colour():
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[..., 0] = 255
    with pytest.raises(TrimapError, match="colour"):
        as_trimap(colour)


@given(arrays(np.uint8, st.tuples(st.integers(1, 8), st.integers(1, 8))))
def test_as_trimap_values_always_in_the_three_levels(raw):
    assert set(np.unique(as_trimap(raw))) <= {0, 128, 255}


@given(arrays(np.float32, (3, 4), elements=st.floats(0, 1, width=32)))
def test_to_uint8_round_trips_through_as_alpha(alpha):
    back = as_alpha(to_uint8(alpha))
    assert np.max(np.abs(back - alpha)) <= 0.5 / 255 + 1e-6


def test_check_same_size_names_the_input():
    with pytest.raises(InputError, match="trimap: size 3x2"):
        check_same_size((4, 4, 3), (2, 3), "trimap")
