"""Closed-form matting: constraints, accuracy on a synthetic scene, robustness, errors."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import scipy.ndimage
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.errors import InputError, TrimapError
from trimatte.matting import closed_form
from trimatte.matting.closed_form import closed_form_alpha, free_pixels, solve_spd
from trimatte.matting.laplacian import matting_laplacian


def band_trimap(alpha: np.ndarray, low: float = 0.02, high: float = 0.98) -> np.ndarray:
    """Trimap whose unknown region is every pixel with alpha strictly between the bounds."""
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[alpha <= low] = 0
    trimap[alpha >= high] = 255
    return trimap


def stripes_trimap(shape: tuple[int, int]) -> np.ndarray:
    trimap = np.full(shape, 128, np.uint8)
    trimap[:, : shape[1] // 3] = 0
    trimap[:, 2 * shape[1] // 3:] = 255
    return trimap


def dense_reference(image, trimap, epsilon, lambda_):
    """Minimiser of Levin's energy by a dense solve over the same free pixels."""
    laplacian = matting_laplacian(image, epsilon).toarray()
    unknown = trimap == 128
    free = free_pixels(unknown, 1, lambda_).ravel()
    target = (trimap == 255).ravel().astype(np.float64)
    known_free = free & (trimap.ravel() != 128)
    a = laplacian[np.ix_(free, free)]
    b = -laplacian[np.ix_(free, ~free)] @ target[~free]
    if not math.isinf(lambda_):
        a = a + lambda_ * np.diag(known_free[free].astype(float))
        b = b + lambda_ * (known_free * target)[free]
    alpha = target.copy()
    alpha[free] = np.linalg.solve(a, b)
    alpha = np.clip(alpha, 0, 1).reshape(trimap.shape)
    alpha[trimap == 255], alpha[trimap == 0] = 1, 0
    return alpha


def test_output_type_range_and_known_pixels(disc_scene):
    image, alpha, _, _ = disc_scene
    trimap = band_trimap(alpha)
    result = closed_form_alpha(image, trimap)
    assert result.dtype == np.float32 and result.shape == alpha.shape
    assert result.min() >= 0.0 and result.max() <= 1.0
    assert np.all(result[trimap == 255] == 1.0)
    assert np.all(result[trimap == 0] == 0.0)


@pytest.mark.parametrize("lambda_", [100.0, math.inf])
def test_recovers_the_soft_edge_of_a_two_colour_disc(disc_scene, lambda_):
    image, alpha, _, _ = disc_scene
    trimap = band_trimap(alpha)
    # widen the unknown band by two pixels on each side
    unknown = scipy.ndimage.binary_dilation(trimap == 128, iterations=2)
    trimap[unknown] = 128
    result = closed_form_alpha(image, trimap, lambda_=lambda_)
    error = np.abs(result - alpha)[unknown]
    assert error.mean() < 0.01
    assert error.max() < 0.06


@pytest.mark.parametrize(("epsilon", "lambda_"), [(1e-7, math.inf), (1e-5, 100.0), (1e-3, 3.0)])
def test_matches_a_dense_solve_of_the_same_energy(rng, epsilon, lambda_):
    image = rng.random((12, 13, 3)).astype(np.float32)
    trimap = stripes_trimap((12, 13))
    expected = dense_reference(image, trimap, epsilon, lambda_)
    result = closed_form_alpha(image, trimap, epsilon=epsilon, lambda_=lambda_, rtol=1e-10)
    np.testing.assert_allclose(result, expected, atol=1e-4)


def test_large_lambda_approaches_hard_constraints(rng):
    image = rng.random((16, 16, 3)).astype(np.float32)
    trimap = stripes_trimap((16, 16))
    hard = closed_form_alpha(image, trimap, epsilon=1e-4, lambda_=math.inf)
    soft = closed_form_alpha(image, trimap, epsilon=1e-4, lambda_=1e6)
    np.testing.assert_allclose(soft, hard, atol=1e-3)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([1e-7, 1e-3]), st.sampled_from([100.0, math.inf]))
def test_property_range_and_constraints_on_random_inputs(seed, epsilon, lambda_):
    rng = np.random.default_rng(seed)
    image = rng.random((10, 12, 3)).astype(np.float32)
    trimap = rng.choice(np.array([0, 128, 255], np.uint8), size=(10, 12), p=[0.3, 0.4, 0.3])
    trimap[0, 0], trimap[0, 1] = 0, 255
    result = closed_form_alpha(image, trimap, epsilon=epsilon, lambda_=lambda_)
    assert result.dtype == np.float32 and np.all(np.isfinite(result))
    assert result.min() >= 0.0 and result.max() <= 1.0
    assert np.all(result[trimap == 255] == 1.0) and np.all(result[trimap == 0] == 0.0)


def test_all_known_trimap_returns_the_foreground_mask(rng):
    image = rng.random((8, 8, 3)).astype(np.float32)
    trimap = np.zeros((8, 8), np.uint8)
    trimap[:, 4:] = 255
    np.testing.assert_array_equal(closed_form_alpha(image, trimap), trimap == 255)
    assert np.all(closed_form_alpha(image, np.full((8, 8), 255, np.uint8)) == 1.0)


def test_uint8_image_is_accepted(disc_scene):
    image, alpha, _, _ = disc_scene
    trimap = band_trimap(alpha)
    as_uint8 = np.rint(image * 255).astype(np.uint8)
    result = closed_form_alpha(as_uint8, trimap)
    np.testing.assert_allclose(result, closed_form_alpha(image, trimap), atol=0.02)


@pytest.mark.parametrize("image", [
    np.full((20, 20, 3), 0.5, np.float32),  # flat: every window covariance is zero
    np.zeros((20, 20, 3), np.float32),
])
@pytest.mark.parametrize("epsilon", [0.0, 1e-12, 1e-7])
def test_ill_conditioned_inputs_do_not_fail(image, epsilon):
    trimap = stripes_trimap((20, 20))
    result = closed_form_alpha(image, trimap, epsilon=epsilon)
    assert np.all(np.isfinite(result)) and result.min() >= 0 and result.max() <= 1
    # a flat image carries no colour edge: alpha interpolates between the stripes
    middle = result[10, 7:13]
    assert np.all(np.diff(middle) >= -1e-3)


def test_factorisation_failure_falls_back_and_logs(monkeypatch, caplog, rng):
    monkeypatch.setattr(closed_form.cholesky, "available", lambda: False)  # SuperLU path
    image = rng.random((12, 12, 3)).astype(np.float32)
    trimap = stripes_trimap((12, 12))
    expected = closed_form_alpha(image, trimap, epsilon=1e-3, rtol=1e-10)

    def failing(matrix, dtype, **_):
        raise RuntimeError("Factor is exactly singular")

    monkeypatch.setattr(closed_form, "_lu_preconditioner", failing)
    with caplog.at_level(logging.WARNING, logger="trimatte.matting.closed_form"):
        result = closed_form_alpha(image, trimap, epsilon=1e-3, rtol=1e-10)
    messages = [r.getMessage() for r in caplog.records]
    assert any("lu32 factorisation failed" in m for m in messages)
    assert any("lu64 factorisation failed" in m for m in messages)
    np.testing.assert_allclose(result, expected, atol=1e-4)


def test_solve_spd_on_a_singular_consistent_system_returns_a_solution():
    # path-graph Laplacian: singular (constants in its null space), rhs in its range
    n = 50
    main = np.full(n, 2.0)
    main[[0, -1]] = 1.0
    matrix = scipy.sparse.diags([main, -np.ones(n - 1), -np.ones(n - 1)], [0, 1, -1]).tocsr()
    rhs = np.zeros(n)
    rhs[0], rhs[-1] = 1.0, -1.0
    x, report = solve_spd(matrix, rhs, rtol=1e-8)
    assert np.all(np.isfinite(x))
    assert np.linalg.norm(matrix @ x - rhs) <= 1e-6
    assert report.method in {"lu32", "lu64", "jacobi"}


@pytest.mark.parametrize("with_cholmod", [True, False])
def test_solve_spd_reports_the_method(rng, monkeypatch, with_cholmod):
    if with_cholmod and not closed_form.cholesky.available():
        pytest.skip("cvxopt (CHOLMOD) is not installed")
    monkeypatch.setattr(closed_form.cholesky, "available", lambda: with_cholmod)
    a = rng.random((30, 30))
    matrix = scipy.sparse.csr_matrix(a @ a.T + 30 * np.eye(30))
    rhs = rng.random(30)
    x, report = solve_spd(matrix, rhs, rtol=1e-10)
    np.testing.assert_allclose(matrix @ x, rhs, atol=1e-8)
    assert report.method == ("cholmod" if with_cholmod else "lu32") and report.converged


@pytest.mark.parametrize(("trimap", "message"), [
    (np.full((10, 10), 128, np.uint8), "no foreground"),
    (np.where(np.arange(10)[None, :] < 5, 0, 128).repeat(10, 0).astype(np.uint8),
     "no foreground"),
    (np.where(np.arange(10)[None, :] < 5, 255, 128).repeat(10, 0).astype(np.uint8),
     "no background"),
    (np.full((10, 11), 128, np.uint8), "does not match"),
    (np.full((10, 10, 2), 128, np.uint8), "shape"),
])
def test_bad_trimaps_raise_trimap_error(trimap, message):
    image = np.zeros((10, 10, 3), np.float32)
    with pytest.raises(TrimapError, match=message):
        closed_form_alpha(image, trimap)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"lambda_": 0.0}, "lambda_"),
    ({"lambda_": -1.0}, "lambda_"),
    ({"lambda_": "a lot"}, "lambda_"),
    ({"epsilon": -1e-7}, "epsilon"),
    ({"window_radius": 0}, "window_radius"),
    ({"rtol": math.inf}, "rtol"),
])
def test_bad_parameters_raise_input_error(kwargs, name):
    with pytest.raises(InputError, match=name):
        closed_form_alpha(np.zeros((10, 10, 3), np.float32), stripes_trimap((10, 10)), **kwargs)


def test_non_finite_preconditioner_falls_back_and_logs(monkeypatch, caplog, rng):
    monkeypatch.setattr(closed_form.cholesky, "available", lambda: False)  # SuperLU path
    image = rng.random((12, 12, 3)).astype(np.float32)
    trimap = stripes_trimap((12, 12))
    expected = closed_form_alpha(image, trimap, epsilon=1e-3, rtol=1e-10)
    real = closed_form._lu_preconditioner

    def broken_in_float32(matrix, dtype, **kwargs):
        if dtype == np.float32:
            return lambda vector: np.full_like(vector, np.nan)
        return real(matrix, dtype, **kwargs)

    monkeypatch.setattr(closed_form, "_lu_preconditioner", broken_in_float32)
    with caplog.at_level(logging.WARNING, logger="trimatte.matting.closed_form"):
        result = closed_form_alpha(image, trimap, epsilon=1e-3, rtol=1e-10)
    assert any("lu32 preconditioner stalled" in r.getMessage() for r in caplog.records)
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_soft_constraints_converge_with_the_default_tolerance(rng):
    # the lambda_ * t part of the right-hand side must not hide the unknowns' residual
    image = rng.random((24, 30, 3)).astype(np.float32)
    trimap = stripes_trimap((24, 30))
    expected = dense_reference(image, trimap, 1e-7, 100.0)
    np.testing.assert_allclose(closed_form_alpha(image, trimap), expected, atol=1e-3)
