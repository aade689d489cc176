"""Tests of trimatte.foreground.estimation."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage, sparse
from scipy.sparse import linalg as sparse_linalg

from trimatte.errors import InputError
from trimatte.foreground import estimation
from trimatte.foreground.estimation import estimate_foreground, estimate_foreground_background

# --- straightforward full-image reference (the first implementation of this module) -------

def _reference_level(image, alpha, fb, eps, weight, iterations):
    """Red-black Gauss-Seidel on every pixel of one level, channels last, (h, w, 6)."""
    h, w = alpha.shape
    a_pad = np.pad(alpha, 1, mode="edge")
    shifts = [(slice(0, -2), slice(1, -1)), (slice(2, None), slice(1, -1)),
              (slice(1, -1), slice(0, -2)), (slice(1, -1), slice(2, None))]
    weights = [(eps + weight * np.abs(alpha - a_pad[sy, sx]))[:, :, None] for sy, sx in shifts]
    total = (weights[0] + weights[1] + weights[2] + weights[3])[:, :, 0]
    a00 = alpha * alpha + total
    a11 = (1 - alpha) * (1 - alpha) + total
    a01 = alpha * (1 - alpha)
    inv_det = 1 / (a00 * a11 - a01 * a01)
    m00, m01, m11 = ((m * inv_det)[:, :, None] for m in (a11, -a01, a00))
    data = np.concatenate([alpha[:, :, None] * image, (1 - alpha)[:, :, None] * image], axis=2)
    red = ((np.arange(h)[:, None] + np.arange(w)[None, :]) % 2 == 0)[:, :, None]
    padded = np.pad(fb, ((1, 1), (1, 1), (0, 0)), mode="edge")
    for _ in range(iterations):
        for colour in (red, ~red):
            rhs = weights[0] * padded[shifts[0]] + data
            for wk, (sy, sx) in zip(weights[1:], shifts[1:], strict=True):
                rhs = rhs + wk * padded[sy, sx]
            new = np.concatenate([m00 * rhs[:, :, :3] + m01 * rhs[:, :, 3:],
                                  m01 * rhs[:, :, :3] + m11 * rhs[:, :, 3:]], axis=2)
            np.copyto(padded[1:-1, 1:-1], np.clip(new, 0, 1), where=colour)
            padded[0, 1:-1], padded[-1, 1:-1] = padded[1, 1:-1], padded[-2, 1:-1]
            padded[:, 0], padded[:, -1] = padded[:, 1], padded[:, -2]
    fb = padded[1:-1, 1:-1].copy()
    fb[:, :, :3][alpha >= 1] = image[alpha >= 1]
    fb[:, :, 3:][alpha <= 0] = image[alpha <= 0]
    return fb


def _reference(image, alpha, eps=1e-5, weight=1.0, small_iterations=10, big_iterations=2,
               small_size=32):
    """The same multi-level scheme, sweeping every pixel of every level."""
    height, width = alpha.shape
    levels = max(1, int(np.ceil(np.log2(max(height, width)))))
    mean = image.reshape(-1, 3).astype(np.float64).mean(axis=0).astype(np.float32)
    fb = np.concatenate([mean, mean]).reshape(1, 1, 6)
    for level in range(levels + 1):
        h = max(1, round(height ** (level / levels)))
        w = max(1, round(width ** (level / levels)))

        def resize(array, h=h, w=w):
            rows = np.arange(h) * array.shape[0] // h
            return array[rows][:, np.arange(w) * array.shape[1] // w]

        count = small_iterations if h <= small_size and w <= small_size else big_iterations
        fb = _reference_level(resize(image), resize(alpha), resize(fb), np.float32(eps),
                              np.float32(weight), count)
    return fb[:, :, :3], fb[:, :, 3:]


def _assert_matches_reference(image, alpha, **kwargs):
    """F must agree where alpha > 0 and B where alpha < 1 (the parts the solver optimises)."""
    ref_f, ref_b = _reference(image, alpha, **{
        {"regularization": "eps", "gradient_weight": "weight"}.get(k, k): v
        for k, v in kwargs.items()})
    est_f, est_b = estimate_foreground_background(image, alpha, **kwargs)
    np.testing.assert_allclose(est_f[alpha > 0], ref_f[alpha > 0], atol=2e-6, rtol=0)
    np.testing.assert_allclose(est_b[alpha < 1], ref_b[alpha < 1], atol=2e-6, rtol=0)


def _ring_scene(h: int, w: int, seed: int = 0):
    """Random colours, a thin noisy soft ring as the matte (most pixels exactly 0 or 1)."""
    rng = np.random.default_rng(seed)
    image = rng.random((h, w, 3), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    radius = np.hypot(yy - 0.45 * h, xx - 0.55 * w)
    alpha = np.clip((0.3 * min(h, w) - radius) / 3 + 0.5 + rng.normal(0, 0.2, (h, w)), 0, 1)
    alpha[alpha < 0.15] = 0
    alpha[alpha > 0.85] = 1
    return image, alpha.astype(np.float32)


# --- agreement with the full-image reference and the energy's minimiser -------------------

def test_matches_full_image_reference_where_it_matters():
    image, alpha = _ring_scene(180, 260)
    levels = estimation._level_shapes(180, 260)
    regions = estimation._active_regions(alpha, levels, [2] * len(levels))
    restricted = [r for r in regions if r is not None]
    assert restricted and restricted[-1].mean() < 0.2  # the shortcut is really exercised
    _assert_matches_reference(image, alpha)
    _assert_matches_reference(image, alpha, regularization=1e-3, gradient_weight=0.3,
                              small_iterations=4, big_iterations=3, small_size=20)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_matches_reference_with_tiny_blocks(h, w, big_iterations, seed):
    image, alpha = _ring_scene(h, w, seed)
    with pytest.MonkeyPatch.context() as patch:  # many blocks, restriction on small levels
        patch.setattr(estimation, "_RESTRICT_MIN_PIXELS", 0)
        patch.setattr(estimation, "_RESTRICT_BELOW", 1.0)
        patch.setattr(estimation, "_STRIP_ROWS", 4)
        patch.setattr(estimation, "_MERGE_GAP", 2)
        _assert_matches_reference(image, alpha, big_iterations=big_iterations, small_size=8)


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 1), (3, 2)])
def test_matches_reference_on_the_smallest_images(shape):
    # One sweep per level, so that every level's result visibly feeds the next.
    rng = np.random.default_rng(sum(shape))
    image = rng.random((*shape, 3), dtype=np.float32)
    alpha = rng.uniform(0.2, 0.8, shape).astype(np.float32)
    _assert_matches_reference(image, alpha, small_iterations=1)
    est_f, est_b = estimate_foreground_background(image, alpha, small_iterations=1)
    assert est_f.shape == est_b.shape == (*shape, 3)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 50), st.integers(1, 50), st.data())
def test_projection_to_coarse_level_is_the_set_of_upsampling_sources(fine_h, fine_w, data):
    coarse_h = data.draw(st.integers(1, fine_h))
    coarse_w = data.draw(st.integers(1, fine_w))
    seed = data.draw(st.integers(0, 2**32 - 1))
    active = np.random.default_rng(seed).random((fine_h, fine_w)) < 0.1
    expected = np.zeros((coarse_h, coarse_w), bool)
    ys, xs = np.nonzero(active)
    expected[ys * coarse_h // fine_h, xs * coarse_w // fine_w] = True
    np.testing.assert_array_equal(
        estimation._project_to_coarse(active, coarse_h, coarse_w), expected)


def _dense_minimiser(image, alpha, eps, weight):
    """Exact minimiser of the cost by a sparse linear solve (one system per channel)."""
    h, w = alpha.shape
    n = h * w
    index = np.arange(n).reshape(h, w)
    pairs = [(index[:, :-1], index[:, 1:]), (index[:-1], index[1:])]
    a = alpha.ravel().astype(np.float64)
    rows, cols, vals = [], [], []
    for first, second in pairs:
        i, j = first.ravel(), second.ravel()
        wij = eps + weight * np.abs(a[i] - a[j])
        for p, q in ((i, j), (j, i)):
            for offset in (0, n):  # the F block and the B block share the graph
                rows += [p + offset, p + offset]
                cols += [p + offset, q + offset]
                vals += [wij, -wij]
    rows += [np.arange(n), np.arange(n), np.arange(n) + n, np.arange(n) + n]
    cols += [np.arange(n), np.arange(n) + n, np.arange(n), np.arange(n) + n]
    vals += [a * a, a * (1 - a), a * (1 - a), (1 - a) * (1 - a)]
    matrix = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                       np.concatenate(cols))), shape=(2 * n,) * 2)
    solution = np.empty((h, w, 6))
    for c in range(3):
        colour = image[:, :, c].ravel().astype(np.float64)
        x = sparse_linalg.spsolve(matrix.tocsc(), np.concatenate([a * colour, (1 - a) * colour]))
        solution[:, :, c], solution[:, :, 3 + c] = x[:n].reshape(h, w), x[n:].reshape(h, w)
    return solution[:, :, :3], solution[:, :, 3:]


def test_converges_to_the_dense_minimiser_on_12x12():
    rng = np.random.default_rng(3)
    alpha = ndimage.uniform_filter(rng.random((12, 12)), 3)
    alpha = (0.1 + 0.8 * (alpha - alpha.min()) / np.ptp(alpha)).astype(np.float32)
    fg = 0.5 + 0.2 * ndimage.uniform_filter(rng.random((12, 12, 3)), (5, 5, 1))
    bg = 0.3 + 0.2 * ndimage.uniform_filter(rng.random((12, 12, 3)), (5, 5, 1))
    image = (alpha[:, :, None] * fg + (1 - alpha[:, :, None]) * bg).astype(np.float32)
    exact_f, exact_b = _dense_minimiser(image, alpha, 1e-2, 1.0)
    assert exact_f.min() > 0 and exact_f.max() < 1  # so clipping plays no part
    est_f, est_b = estimate_foreground_background(image, alpha, regularization=1e-2,
                                                  small_iterations=400)
    np.testing.assert_allclose(est_f, exact_f, atol=2e-4)
    np.testing.assert_allclose(est_b, exact_b, atol=2e-4)
    # The default few sweeps are not converged, but much closer than the start (F = B = I).
    few_f, _ = estimate_foreground_background(image, alpha, regularization=1e-2)
    assert np.abs(few_f - exact_f).mean() < 0.5 * np.abs(image - exact_f).mean()


def test_outputs_are_defined_everywhere():
    image, alpha = _ring_scene(150, 200, seed=5)
    est_f, est_b = estimate_foreground_background(image, alpha)
    for array in (est_f, est_b):
        assert array.dtype == np.float32 and array.flags.c_contiguous
        assert np.isfinite(array).all() and array.min() >= 0 and array.max() <= 1
    np.testing.assert_array_equal(est_f[alpha == 1], image[alpha == 1])
    np.testing.assert_array_equal(est_b[alpha == 0], image[alpha == 0])


# --- behaviour -----------------------------------------------------------------------------

def _synthetic_composite(size: int = 96, seed: int = 0):
    """Smooth known F and B, a soft-edged ring matte, and I = alpha F + (1 - alpha) B."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    fg = np.stack([0.8 - 0.3 * yy, 0.2 + 0.5 * xx, 0.3 + 0.2 * xx * yy], axis=2)
    bg = np.stack([0.1 + 0.3 * xx, 0.6 - 0.3 * yy, 0.9 - 0.4 * xx], axis=2)
    radius = np.hypot(yy - 0.5, xx - 0.5) * size
    alpha = np.clip((30 - radius) / 8 + 0.5, 0, 1)
    alpha = np.clip(alpha + ndimage.gaussian_filter(rng.normal(0, 0.3, alpha.shape), 1)
                    * ((alpha > 0) & (alpha < 1)), 0, 1).astype(np.float32)
    a3 = alpha[:, :, None]
    image = (a3 * fg + (1 - a3) * bg).astype(np.float32)
    return image, alpha, fg.astype(np.float32), bg.astype(np.float32)


def test_recovers_known_foreground_and_background():
    image, alpha, fg, bg = _synthetic_composite()
    est_f, est_b = estimate_foreground_background(image, alpha)
    region = alpha > 0.1
    error_f = np.abs(est_f - fg)[region].mean()
    # The naive answer (F = I) is what estimation must beat in the mixed region.
    mixed = region & (alpha < 0.9)
    assert error_f < 0.03
    assert np.abs(est_f - fg)[mixed].mean() < 0.5 * np.abs(image - fg)[mixed].mean()
    assert np.abs(est_b - bg)[alpha < 0.9].mean() < 0.03
    # The estimate explains the image.
    recomposed = alpha[:, :, None] * est_f + (1 - alpha[:, :, None]) * est_b
    assert np.abs(recomposed - image).max() < 0.02


def test_output_dtype_shape_range_and_opaque_pixels(disc_scene):
    image, alpha, _, _ = disc_scene
    foreground = estimate_foreground(image, alpha, regularization=1e-5)
    assert foreground.dtype == np.float32 and foreground.shape == image.shape
    assert foreground.min() >= 0.0 and foreground.max() <= 1.0
    opaque = alpha == 1.0
    assert opaque.any()
    np.testing.assert_array_equal(foreground[opaque], image[opaque])


def test_disc_foreground_colour_is_decontaminated(disc_scene):
    image, alpha, fg_colour, _ = disc_scene
    foreground = estimate_foreground(image, alpha)
    edge = (alpha > 0.2) & (alpha < 0.8)
    assert edge.sum() > 20
    assert np.abs(foreground[edge] - fg_colour).mean() < 0.05
    assert np.abs(image[edge] - fg_colour).mean() > 0.15  # the raw pixels are mixed


def test_accepts_uint8_and_tiny_images():
    image = np.full((1, 1, 3), 200, np.uint8)
    f, b = estimate_foreground_background(image, np.array([[128]], np.uint8))
    assert f.shape == b.shape == (1, 1, 3)
    a = 128 / 255
    np.testing.assert_allclose(a * f + (1 - a) * b, 200 / 255, atol=1e-3)
    f = estimate_foreground(np.zeros((2, 5, 3), np.float32), np.ones((2, 5), np.float32))
    assert f.shape == (2, 5, 3)


def test_bad_inputs_raise_input_errors():
    image = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(InputError) as info:
        estimate_foreground(image, np.zeros((4, 5), np.float32))
    assert info.value.source == "alpha"
    with pytest.raises(InputError, match="regularization"):
        estimate_foreground(image, np.zeros((4, 4), np.float32), regularization=0.0)
    with pytest.raises(InputError, match="big_iterations"):
        estimate_foreground(image, np.zeros((4, 4), np.float32), big_iterations=-1)


@pytest.mark.shared
def test_close_to_pymatting_on_am2k(shared_dir):
    pymatting = pytest.importorskip("pymatting")
    import cv2

    from trimatte.io import read_alpha, read_image

    image = read_image(shared_dir / "data/am2k/image/sample1.jpg")
    alpha = read_alpha(shared_dir / "data/am2k/alpha/sample1.png")
    image = cv2.resize(image, (300, 222), interpolation=cv2.INTER_AREA)
    alpha = np.clip(cv2.resize(alpha, (300, 222), interpolation=cv2.INTER_AREA), 0, 1)
    start = time.perf_counter()
    ours = estimate_foreground(image, alpha)
    elapsed = time.perf_counter() - start
    theirs = pymatting.estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64))
    region = alpha > 0.05
    # Measured 0.0008 (red-black versus pymatting's raster-order sweeps, different start).
    assert np.abs(ours - theirs)[region].mean() < 0.003
    assert elapsed < 2.0
