"""The vectorised matting Laplacian against a slow per-window reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.errors import InputError
from trimatte.matting.laplacian import matting_laplacian, stencil_offsets, window_coefficients


def reference_laplacian(image: np.ndarray, epsilon: float, radius: int) -> np.ndarray:
    """Dense Laplacian, one window at a time, straight from the formula of the paper."""
    height, width, _ = image.shape
    size = 2 * radius + 1
    area = size * size
    laplacian = np.zeros((height * width, height * width))
    for cy in range(radius, height - radius):
        for cx in range(radius, width - radius):
            ys, xs = np.mgrid[cy - radius:cy + radius + 1, cx - radius:cx + radius + 1]
            index = (ys * width + xs).ravel()
            colours = image[ys, xs].reshape(area, 3).astype(np.float64)
            mean = colours.mean(axis=0)
            covariance = (colours - mean).T @ (colours - mean) / area
            inverse = np.linalg.inv(covariance + epsilon / area * np.eye(3))
            for a in range(area):
                for b in range(area):
                    affinity = (1 + (colours[a] - mean) @ inverse @ (colours[b] - mean)) / area
                    laplacian[index[a], index[b]] += float(a == b) - affinity
    return laplacian


@pytest.mark.parametrize(("shape", "epsilon", "radius"),
                         [((6, 7), 1e-5, 1), ((6, 7), 1e-2, 1), ((7, 8), 1e-4, 2)])
def test_matches_reference_on_tiny_image(rng, shape, epsilon, radius):
    image = rng.random((*shape, 3)).astype(np.float32)
    expected = reference_laplacian(image, epsilon, radius)
    actual = matting_laplacian(image, epsilon, radius).toarray()
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9 * np.abs(expected).max())


def test_is_symmetric_psd_with_zero_row_sums(rng):
    image = rng.random((9, 11, 3)).astype(np.float32)
    laplacian = matting_laplacian(image, 1e-4).toarray()
    np.testing.assert_allclose(laplacian, laplacian.T, atol=1e-9)
    np.testing.assert_allclose(laplacian.sum(axis=1), 0.0, atol=1e-8)
    eigenvalues = np.linalg.eigvalsh(laplacian)
    assert eigenvalues.min() > -1e-8 * eigenvalues.max()


def test_row_mask_gives_the_same_rows(rng):
    image = rng.random((8, 9, 3)).astype(np.float32)
    rows = np.zeros((8, 9), dtype=bool)
    rows[2:5, 3:7] = True
    rows[7, 0] = True
    full = matting_laplacian(image, 1e-5).toarray()
    partial = matting_laplacian(image, 1e-5, rows=rows).toarray()
    selected = rows.ravel()
    np.testing.assert_allclose(partial[selected], full[selected], rtol=1e-10, atol=1e-12)
    assert not partial[~selected].any()


def test_stencil_has_the_diagonal_in_the_middle():
    dy, dx = stencil_offsets(1)
    assert dy.size == 25
    assert (dy[12], dx[12]) == (0, 0)


def test_window_coefficients_of_a_flat_window_without_regulariser_stay_finite():
    colours = np.full((1, 9, 3), 0.5)
    block = window_coefficients(colours, 0.0)
    assert np.all(np.isfinite(block))
    np.testing.assert_allclose(block[0], np.eye(9) - 1.0 / 9.0)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float32, (5, 6, 3), elements=st.floats(0, 1, width=32)),
       st.sampled_from([1e-7, 1e-4, 1e-1]))
def test_property_symmetric_zero_sum_psd(image, epsilon):
    laplacian = matting_laplacian(image, epsilon).toarray()
    scale = max(1.0, np.abs(laplacian).max())
    np.testing.assert_allclose(laplacian, laplacian.T, atol=1e-9 * scale)
    np.testing.assert_allclose(laplacian.sum(axis=1), 0.0, atol=1e-8 * scale)
    assert np.linalg.eigvalsh(laplacian).min() > -1e-7 * scale


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"epsilon": -1.0}, "epsilon"),
    ({"epsilon": float("nan")}, "epsilon"),
    ({"window_radius": 0}, "window_radius"),
    ({"window_radius": 1.5}, "window_radius"),
    ({"rows": np.ones((3, 3), bool)}, "rows"),
])
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(InputError, match=name):
        matting_laplacian(np.zeros((6, 6, 3), np.float32), **kwargs)


def test_bad_image_is_an_input_error():
    with pytest.raises(InputError, match="image"):
        matting_laplacian(np.zeros((6, 6), np.float32) + 2.0)
