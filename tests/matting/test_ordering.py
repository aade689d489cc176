"""Fill-reducing orderings and the plan for direct vs block-Jacobi solves."""

import logging

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.matting import closed_form, multilevel, ordering
from trimatte.matting.closed_form import closed_form_alpha, constrained_system, free_pixels


def disc_case(size=64, seed=0):
    """A noisy two-colour disc and a trimap with an 8-px band around its edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    distance = np.hypot(yy - size / 2, xx - size / 2) - size / 4
    alpha = np.clip(0.5 - distance / 3, 0, 1)
    image = (alpha[..., None] * [0.9, 0.3, 0.2] + (1 - alpha[..., None]) * [0.1, 0.4, 0.8]
             + 0.05 * rng.standard_normal((size, size, 3)))
    trimap = np.where(distance < -4, 255, np.where(distance > 4, 0, 128)).astype(np.uint8)
    return np.clip(image, 0, 1).astype(np.float32), trimap


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 3), st.integers(1, 2))
def test_block_graph_joins_every_pair_of_pixels_sharing_a_window(seed, block, radius):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(3, 20)), int(rng.integers(3, 20)))
    free = rng.random(shape) < 0.4
    free.reshape(-1)[0] = True
    free_flat = np.flatnonzero(free)
    node, xadj, adjncy, weights = ordering.block_graph(free_flat, shape, radius, block)
    assert weights.sum() == free_flat.size
    edges = {(a, int(b)) for a in range(xadj.size - 1) for b in adjncy[xadj[a]:xadj[a + 1]]}
    assert all((b, a) in edges for a, b in edges)  # symmetric
    assert all(a != b for a, b in edges)  # no self loops
    y, x = np.divmod(free_flat, shape[1])
    near = (np.abs(y[:, None] - y[None, :]) <= 2 * radius) & (
        np.abs(x[:, None] - x[None, :]) <= 2 * radius)
    for i, j in zip(*np.nonzero(near), strict=True):
        if node[i] != node[j]:
            assert (int(node[i]), int(node[j])) in edges


def test_nested_dissection_order_is_a_permutation_keeping_squares_together():
    _, trimap = disc_case()
    free_flat = np.flatnonzero(free_pixels(trimap == 128, 1, 100.0))
    order = ordering.nested_dissection_order(free_flat, trimap.shape, 1, block=2)
    assert order is not None
    np.testing.assert_array_equal(np.sort(order), np.arange(free_flat.size))
    node, *_ = ordering.block_graph(free_flat, trimap.shape, 1, 2)
    ranks = node[order]
    # each square's pixels form one run in the new order
    runs = np.count_nonzero(np.diff(ranks)) + 1
    assert runs == np.unique(node).size


def test_permute_symmetric_matches_dense_permutation():
    rng = np.random.default_rng(3)
    dense = rng.random((9, 9)) * (rng.random((9, 9)) < 0.4)
    dense = dense + dense.T
    order = rng.permutation(9)
    permuted = ordering.permute_symmetric(scipy.sparse.csr_matrix(dense), order)
    np.testing.assert_array_equal(permuted.toarray(), dense[np.ix_(order, order)])
    assert permuted.has_sorted_indices


def test_nested_dissection_solve_matches_minimum_degree(monkeypatch, caplog):
    image, trimap = disc_case(80)
    expected = closed_form_alpha(image, trimap, rtol=1e-9)
    monkeypatch.setattr(ordering, "NESTED_DISSECTION_ABOVE", 0)
    calls = []
    real = ordering.nested_dissection_order
    monkeypatch.setattr(ordering, "nested_dissection_order",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    result = closed_form_alpha(image, trimap, rtol=1e-9)
    assert calls
    np.testing.assert_allclose(result, expected, atol=1e-5)
    assert np.all(result[trimap == 255] == 1) and np.all(result[trimap == 0] == 0)


def test_nested_dissection_factor_has_no_more_fill_than_minimum_degree():
    image, trimap = disc_case(96)
    free = free_pixels(trimap == 128, 1, 100.0)
    matrix, _ = constrained_system(image, trimap, free, 1e-7, 1, 100.0)
    order = ordering.nested_dissection_order(np.flatnonzero(free), trimap.shape, 1)
    permuted = ordering.permute_symmetric(matrix, order)
    options = {"diag_pivot_thresh": 0.0, "options": {"SymmetricMode": True}}
    mmd = scipy.sparse.linalg.splu(matrix.tocsc(), permc_spec="MMD_AT_PLUS_A", **options)
    nd = scipy.sparse.linalg.splu(permuted.tocsc(), permc_spec="NATURAL", **options)
    natural = scipy.sparse.linalg.splu(matrix.tocsc(), permc_spec="NATURAL", **options)
    assert nd.nnz < natural.nnz
    assert nd.nnz <= 1.3 * mmd.nnz


def test_factor_plan_grows_with_the_system_and_respects_the_memory(monkeypatch):
    assert multilevel.factor_bytes(10**6, 25 * 10**6) > multilevel.factor_bytes(10**5, 25 * 10**5)
    monkeypatch.setattr(multilevel, "available_memory", lambda: 64 * 2**30)
    assert multilevel.direct_fits(2_600_000, 65_000_000)  # 24 MP band on a 64 GB machine
    monkeypatch.setattr(multilevel, "available_memory", lambda: 2 * 2**30)
    assert not multilevel.direct_fits(2_600_000, 65_000_000)
    monkeypatch.setattr(multilevel, "available_memory", lambda: None)
    assert multilevel.direct_fits(10**6, 25 * 10**6)
    assert not multilevel.direct_fits(multilevel.DIRECT_LIMIT + 1, 0)


def test_available_memory_is_positive_where_known():
    available = multilevel.available_memory()
    assert available is None or available > 0


@pytest.mark.parametrize("how", ["planned", "out of memory"])
def test_systems_that_do_not_fit_use_the_block_solver(monkeypatch, caplog, how):
    image, trimap = disc_case(64)
    direct = closed_form_alpha(image, trimap, rtol=1e-9)
    monkeypatch.setattr(multilevel.solve_large, "__kwdefaults__", {"rtol": 1e-6, "block": 32})
    if how == "planned":
        monkeypatch.setattr(multilevel, "available_memory", lambda: 1000)
    else:
        monkeypatch.setattr(closed_form.cholesky, "available", lambda: False)

        def out_of_memory(matrix, dtype, **_):
            raise MemoryError("Not enough memory to perform factorization.")
        monkeypatch.setattr(closed_form, "_lu_preconditioner", out_of_memory)
    with caplog.at_level(logging.INFO, logger="trimatte.matting.closed_form"):
        blocked = closed_form_alpha(image, trimap, rtol=1e-9)
    assert "block-jacobi" in caplog.text
    assert ("ran out of memory" in caplog.text) == (how == "out of memory")
    np.testing.assert_allclose(blocked, direct, atol=1e-4)


def test_memory_error_without_fallback_propagates(monkeypatch):
    monkeypatch.setattr(closed_form.cholesky, "available", lambda: False)
    def out_of_memory(matrix, dtype, **_):
        raise MemoryError("Not enough memory")
    monkeypatch.setattr(closed_form, "_lu_preconditioner", out_of_memory)
    matrix = scipy.sparse.csr_matrix(np.eye(4) * 2)
    with pytest.raises(MemoryError):
        closed_form.solve_spd(matrix, np.ones(4), memory_fallback=False)
    x, report = closed_form.solve_spd(matrix, np.ones(4))
    assert report.method == "jacobi"
    np.testing.assert_allclose(x, 0.5)
