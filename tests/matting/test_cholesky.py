"""CHOLMOD (through cvxopt) as the closed-form solver's first factorisation."""

import logging

import numpy as np
import pytest
import scipy.sparse

from trimatte.matting import cholesky, closed_form
from trimatte.matting.closed_form import closed_form_alpha, solve_spd

pytestmark = pytest.mark.skipif(not cholesky.available(),
                                reason="cvxopt (CHOLMOD) is not installed")


def spd(rng, n=40):
    a = scipy.sparse.random(n, n, density=0.1, random_state=rng)
    return scipy.sparse.csr_matrix(a @ a.T + scipy.sparse.eye(n) * 2)


@pytest.mark.parametrize("natural", [False, True])
def test_cholmod_solver_solves_spd_systems(natural):
    rng = np.random.default_rng(0)
    matrix = spd(rng)
    rhs = rng.random(matrix.shape[0])
    x = cholesky.cholmod_solver(matrix, natural=natural)(rhs)
    assert x.dtype == np.float64 and x.shape == rhs.shape
    np.testing.assert_allclose(matrix @ x, rhs, atol=1e-10)


def test_cholmod_leaves_its_global_options_as_they_were():
    from cvxopt import cholmod

    before = dict(cholmod.options)
    cholesky.cholmod_solver(spd(np.random.default_rng(1)))
    assert dict(cholmod.options) == before


def test_a_matrix_that_is_not_positive_definite_falls_back_to_superlu(caplog):
    indefinite = scipy.sparse.csr_matrix(np.diag([2.0, -1.0, 3.0]))
    with pytest.raises(ArithmeticError):
        cholesky.cholmod_solver(indefinite)
    with caplog.at_level(logging.INFO, logger="trimatte.matting.closed_form"):
        x, report = solve_spd(indefinite, np.array([2.0, -1.0, 3.0]), rtol=1e-10)
    assert report.method == "lu32"
    assert "cholmod factorisation failed" in caplog.text
    np.testing.assert_allclose(x, 1.0)


def test_closed_form_with_and_without_cholmod_agree(monkeypatch):
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:48, :48]
    distance = np.hypot(yy - 24, xx - 24) - 12
    image = np.clip(rng.random((48, 48, 3)) * 0.2 + (distance < 0)[..., None] * 0.7, 0, 1)
    trimap = np.where(distance < -3, 255, np.where(distance > 3, 0, 128)).astype(np.uint8)
    with_cholmod = closed_form_alpha(image.astype(np.float32), trimap, rtol=1e-9)
    monkeypatch.setattr(closed_form.cholesky, "available", lambda: False)
    without = closed_form_alpha(image.astype(np.float32), trimap, rtol=1e-9)
    np.testing.assert_allclose(with_cholmod, without, atol=1e-5)
