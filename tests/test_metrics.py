"""Tests of trimatte.metrics: hand-computed cases, GNU Octave numbers, and agreement with
the literal reference implementation in tests/reference_metrics.py."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from tests import reference_metrics as ref
from trimatte import metrics
from trimatte.errors import InputError, TrimatteWarning

ALL_UNKNOWN_3x3 = np.full((3, 3), 128, np.uint8)


# ----------------------------------------------------------------------------- SAD / MSE


def test_sad_and_mse_hand_computed_2x2():
    pred = np.array([[1.0, 0.5], [0.0, 0.25]], np.float32)
    gt = np.array([[0.5, 0.5], [0.25, 0.0]], np.float32)
    trimap = np.array([[128, 128], [128, 255]], np.uint8)  # (1, 1) is not counted
    # |diff| on unknown: 0.5, 0, 0.25 -> 0.75 -> SAD 0.75 / 1000
    assert metrics.sad(pred, gt, trimap) == pytest.approx(0.00075, rel=1e-12)
    # squared: 0.25, 0, 0.0625 -> 0.3125 / 3 unknown pixels
    assert metrics.mse(pred, gt, trimap) == pytest.approx(0.3125 / 3, rel=1e-12)


def test_uint8_inputs_are_divided_by_255():
    pred = np.array([[255, 0]], np.uint8)
    gt = np.array([[0, 51]], np.uint8)
    trimap = np.array([[128, 128]], np.uint8)
    # |1 - 0| + |0 - 0.2| = 1.2
    assert metrics.sad(pred, gt, trimap) == pytest.approx(0.0012, rel=1e-12)
    assert metrics.mse(pred, gt, trimap) == pytest.approx((1.0 + 0.04) / 2, rel=1e-12)


# ----------------------------------------------------------------------------- gradient


def test_gradient_kernel_size_and_normalisation():
    # half = ceil(1.4 * sqrt(-2 ln(sqrt(2 pi) * 1.4 * 0.01))) = ceil(1.4 * 2.588) = ceil(3.62) = 4
    smooth, derivative = metrics.gaussian_gradient_kernel(1.4)
    assert smooth.shape == derivative.shape == (9,)
    kernel = np.outer(smooth, derivative)
    assert np.sqrt((kernel**2).sum()) == pytest.approx(1.0, rel=1e-12)
    assert derivative[4] == 0.0  # G'(0) = 0
    assert derivative[0] > 0 > derivative[8]  # G'(x) = -x G(x) / sigma^2
    np.testing.assert_allclose(kernel, np.array(ref.ref_kernel_x(1.4)), rtol=1e-12)


def test_gradient_of_a_step_hand_computed():
    # One row, 0 for x < 6 and 1 for x >= 6. With sigma 1.4 the unnormalised factors are
    #   G(-4..4) = 0.00481 0.028686 0.102713 0.220797 0.284959 0.220797 ...  (norm 0.448883)
    #   G'(-4..-1) = 0.009816 0.043908 0.104809 0.112651, G'(0) = 0       (norm 0.226714)
    # Replicating the single row makes the vertical pass sum(G)/|G| = 2.225460, so
    # |gx| at x = 5 and 6 is 2.225460 * (0.009816+0.043908+0.104809+0.112651)/0.226714
    # = 2.661997, at x = 4, 7: 1.556191, at x = 3, 8: 0.527368, at x = 2, 9: 0.096360,
    # 0 elsewhere. gy = 0. Against a constant ground truth (gradient 0):
    # Grad = 2 * (2.661997^2 + 1.556191^2 + 0.527368^2 + 0.096360^2) / 1000 = 0.0195907.
    pred = np.zeros((1, 12), np.float32)
    pred[0, 6:] = 1.0
    gt = np.zeros((1, 12), np.float32)
    trimap = np.full((1, 12), 128, np.uint8)
    assert metrics.gradient_error(pred, gt, trimap) == pytest.approx(0.0195907160, rel=1e-6)
    gx, gy = metrics.gaussian_gradient(pred[:, :])
    np.testing.assert_allclose(np.abs(gx[0, 5]), 2.6619967, rtol=1e-6)
    np.testing.assert_allclose(gy, 0.0, atol=1e-12)


def test_mat2gray_stretches_and_keeps_constant_images():
    np.testing.assert_allclose(metrics.mat2gray(np.array([[2.0, 4.0, 3.0]])), [[0.0, 1.0, 0.5]])
    np.testing.assert_allclose(metrics.mat2gray(np.full((2, 2), 0.3)), 0.3)
    np.testing.assert_allclose(metrics.mat2gray(np.full((2, 2), 7.0)), 1.0)  # clipped


def test_gradient_error_is_invariant_to_contrast_stretch(rng):
    # mat2gray normalises each matte separately, so an affine rescale changes nothing.
    gt = ndimage.gaussian_filter(rng.random((20, 20)), 2).astype(np.float32)
    gt = (gt - gt.min()) / (gt.max() - gt.min())
    pred = np.clip(gt + rng.normal(0, 0.05, gt.shape), 0, 1).astype(np.float32)
    trimap = np.full(gt.shape, 128, np.uint8)
    base = metrics.gradient_error(pred, gt, trimap)
    squeezed = metrics.gradient_error((0.25 + 0.5 * pred).astype(np.float32), gt, trimap)
    assert base > 0
    assert squeezed == pytest.approx(base, rel=1e-5)


# ----------------------------------------------------------------------------- connectivity


def test_largest_component_breaks_ties_in_column_major_order():
    mask = np.array([[False, True], [True, False]])  # two single pixels
    # MATLAB scans columns first: (1, 0) is met before (0, 1).
    np.testing.assert_array_equal(metrics.largest_component(mask), [[False, False], [True, False]])
    assert not metrics.largest_component(np.zeros((2, 2), bool)).any()


def test_connectivity_hand_computed_hole():
    # gt all 1; pred all 1 except the centre 102/255 = 0.4. For thresholds 0.1..0.4 the
    # whole image is one component; at 0.5 the centre drops out of the 8-pixel ring, so
    # its level is 0.4; the others keep level 1. Centre: pred d = 0 -> phi 1;
    # gt d = 1 - 0.4 = 0.6 >= 0.15 -> phi 0.4. Everything else phi 1. Conn = 0.6 / 1000.
    pred = np.full((3, 3), 255, np.uint8)
    pred[1, 1] = 102
    gt = np.full((3, 3), 255, np.uint8)
    level = metrics.connectivity_levels(pred / np.float32(255), gt / np.float32(255))
    assert level[1, 1] == np.float32(0.4)
    assert (np.delete(level.ravel(), 4) == 1).all()
    assert metrics.connectivity_error(pred, gt, ALL_UNKNOWN_3x3) == pytest.approx(6e-4, rel=1e-6)


def test_connectivity_ties_at_threshold_are_single_precision_like_matlab():
    # Centre 153/255 equals the level 0.6 in single precision (MATLAB: single(153)/255 >= 0.6),
    # so it survives t = 0.6 and leaves at 0.7: level 0.6, pred phi 1, gt d = 0.4 -> phi 0.6.
    # Conn = 0.4 / 1000. (Double-precision thresholds 6 * 0.1 = 0.6000000000000001 would give
    # level 0.5 and 0.5 / 1000.)
    pred = np.full((3, 3), 255, np.uint8)
    pred[1, 1] = 153
    gt = np.full((3, 3), 255, np.uint8)
    assert metrics.connectivity_error(pred, gt, ALL_UNKNOWN_3x3) == pytest.approx(4e-4, rel=1e-6)


def test_connectivity_small_offsets_below_015_are_forgiven():
    # Centre pred 0.4, gt 0.5 (float input): level 0.4 (the centre leaves at t = 0.5 because
    # pred < 0.5). pred d = 0, gt d = 0.1 < 0.15: both phi = 1, so Conn = 0 though SAD > 0.
    pred = np.ones((3, 3), np.float32)
    gt = np.ones((3, 3), np.float32)
    pred[1, 1], gt[1, 1] = 0.4, 0.5
    assert metrics.connectivity_error(pred, gt, ALL_UNKNOWN_3x3) == pytest.approx(0.0, abs=1e-9)
    assert metrics.sad(pred, gt, ALL_UNKNOWN_3x3) == pytest.approx(1e-4, rel=1e-6)


def test_connectivity_empty_levels_count_as_no_component():
    # Nothing reaches 0.1 in both mattes: every pixel leaves at the first threshold (level 0).
    pred = np.full((2, 2), 0.05, np.float32)
    gt = np.full((2, 2), 0.05, np.float32)
    gt[0, 0] = 1.0
    level = metrics.connectivity_levels(pred, gt)
    np.testing.assert_array_equal(level, 0.0)
    # gt (0, 0): d = 1 -> phi 0; pred (0, 0): d = 0.05 -> phi 1; others equal.
    assert metrics.connectivity_error(pred, gt, np.full((2, 2), 128, np.uint8)) == pytest.approx(
        1e-3, rel=1e-6
    )


# ----------------------------------------------------------------------------- API / errors


def test_compute_metrics_keys_and_perfect_prediction(rng):
    gt = rng.random((10, 12)).astype(np.float32)
    trimap = np.full((10, 12), 128, np.uint8)
    result = metrics.compute_metrics(gt, gt, trimap)
    assert set(result) == {"SAD", "MSE", "Grad", "Conn"}
    assert all(value == 0.0 for value in result.values())


def test_size_mismatch_names_the_argument():
    a = np.zeros((4, 5), np.float32)
    with pytest.raises(InputError, match="gt") as info:
        metrics.sad(a, np.zeros((5, 4), np.float32), np.zeros((4, 5), np.uint8))
    assert info.value.source == "gt"
    with pytest.raises(InputError) as info:
        metrics.compute_metrics(a, a, np.zeros((4, 6), np.uint8))
    assert info.value.source == "trimap"
    with pytest.raises(InputError) as info:
        metrics.mse(np.full((4, 5), 2.0), a, np.zeros((4, 5), np.uint8))
    assert info.value.source == "pred"


def test_bad_step_is_an_input_error():
    a = np.zeros((3, 3), np.float32)
    with pytest.raises(InputError, match="step"):
        metrics.connectivity_error(a, a, ALL_UNKNOWN_3x3, step=0.0)


def test_no_unknown_pixels_gives_zero_sums_and_nan_mse():
    a = np.zeros((3, 3), np.float32)
    b = np.ones((3, 3), np.float32)
    trimap = np.full((3, 3), 255, np.uint8)
    with pytest.warns(TrimatteWarning, match="no unknown"):
        result = metrics.compute_metrics(a, b, trimap)
    assert math.isnan(result["MSE"])
    assert result["SAD"] == result["Grad"] == result["Conn"] == 0.0


def test_quantize_rounds_to_8_bit(rng):
    pred = rng.random((8, 8)).astype(np.float32)
    gt = rng.random((8, 8)).astype(np.float32)
    trimap = np.full((8, 8), 128, np.uint8)
    pred8 = np.rint(pred * 255).astype(np.uint8)
    gt8 = np.rint(gt * 255).astype(np.uint8)
    assert metrics.compute_metrics(pred, gt, trimap, quantize=True) == metrics.compute_metrics(
        pred8, gt8, trimap
    )
    # Already 8-bit floats (as read from PNG) are unaffected by quantize.
    as_read = pred8.astype(np.float32) / 255
    assert metrics.compute_metrics(as_read, gt8, trimap) == metrics.compute_metrics(
        pred8, gt8, trimap
    )


# ----------------------------------------------------------------------------- reference


def _reference(pred, gt, trimap) -> dict[str, float]:
    return {
        "SAD": ref.ref_sad(pred, gt, trimap),
        "MSE": ref.ref_mse(pred, gt, trimap),
        "Grad": ref.ref_gradient(pred, gt, trimap),
        "Conn": ref.ref_connectivity(pred, gt, trimap),
    }


def _assert_close(ours: dict[str, float], theirs: dict[str, float], rel: float = 1e-6) -> None:
    for key in ("SAD", "MSE", "Grad", "Conn"):
        assert ours[key] == pytest.approx(theirs[key], rel=rel, abs=1e-12), key


_codes = st.one_of(
    st.integers(0, 255),
    st.sampled_from([0, 51, 102, 153, 204, 255]),  # values that tie with the 0.1 levels
)


@st.composite
def _matting_case(draw):
    h = draw(st.integers(1, 10))
    w = draw(st.integers(1, 10))
    gt = draw(arrays(np.uint8, (h, w), elements=_codes))
    pred = draw(arrays(np.uint8, (h, w), elements=_codes))
    trimap = draw(arrays(np.uint8, (h, w), elements=st.sampled_from([0, 128, 255])))
    return pred, gt, trimap


@settings(max_examples=60, deadline=None)
@given(_matting_case())
def test_agrees_with_literal_reference(case):
    pred, gt, trimap = case
    theirs = _reference(pred, gt, trimap)
    if not (trimap == 128).any():
        with pytest.warns(TrimatteWarning):
            ours = metrics.compute_metrics(pred, gt, trimap)
        assert math.isnan(ours["MSE"]) and math.isnan(theirs["MSE"])
        ours["MSE"] = theirs["MSE"] = 0.0
    else:
        ours = metrics.compute_metrics(pred, gt, trimap)
    _assert_close(ours, theirs)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_agrees_with_literal_reference_on_smooth_mattes(seed):
    # Smooth mattes give large components and long level runs, unlike pure noise.
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.normal(size=(14, 13)), 2.5)
    gt = np.clip(np.rint((field - field.min()) / (np.ptp(field) + 1e-12) * 300 - 20), 0, 255)
    pred = np.clip(gt + rng.integers(-40, 41, gt.shape), 0, 255)
    trimap = rng.choice(np.array([0, 128, 255], np.uint8), size=gt.shape, p=[0.2, 0.6, 0.2])
    trimap[0, 0] = 128
    gt, pred = gt.astype(np.uint8), pred.astype(np.uint8)
    _assert_close(metrics.compute_metrics(pred, gt, trimap), _reference(pred, gt, trimap))


# ----------------------------------------------------------------------------- GNU Octave


def _octave_case(seed: int, h: int, w: int):
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.normal(size=(h, w)), 2.0)
    gt = np.clip(np.rint((field - field.min()) / np.ptp(field) * 300 - 20), 0, 255).astype(np.uint8)
    pred = np.clip(gt.astype(int) + rng.integers(-40, 41, (h, w)), 0, 255).astype(np.uint8)
    pred[rng.random((h, w)) < 0.2] = 153
    gt[0, 0] = pred[0, 0] = 255
    trimap = rng.choice(np.array([0, 128, 255], np.uint8), size=(h, w), p=[0.2, 0.6, 0.2])
    return pred, gt, trimap


# SAD, MSE, Grad/1000, Conn/1000 printed by GNU Octave 7.3 + image 2.14 running the DIM
# evaluation functions (compute_*_loss.m, gaussgradient.m) on these exact arrays. Octave sums
# in single precision, hence the 1e-6 tolerance.
OCTAVE_RESULTS = {
    (11, 7, 9): (0.00494901975617, 0.0308898966759, 0.00675071636215, 0.0048313732259),
    (12, 16, 12): (0.0088980384171, 0.0115380967036, 0.00329579040408, 0.00931960903108),
    (13, 24, 31): (0.0450627580285, 0.0206887871027, 0.0166676528752, 0.0484215728939),
}


@pytest.mark.parametrize("key", sorted(OCTAVE_RESULTS))
def test_matches_octave_running_the_dim_code(key):
    result = metrics.compute_metrics(*_octave_case(*key))
    expected = dict(zip(("SAD", "MSE", "Grad", "Conn"), OCTAVE_RESULTS[key], strict=True))
    _assert_close(result, expected, rel=1e-6)


@pytest.mark.shared
def test_matches_octave_on_am2k_alpha_vs_blurred(shared_dir):
    gt = cv2.imread(str(shared_dir / "data/am2k/alpha/sample1.png"), cv2.IMREAD_GRAYSCALE)
    pred = cv2.GaussianBlur(gt, (0, 0), 3.0)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    fg = cv2.erode((gt == 255).astype(np.uint8), kernel, iterations=10)
    band = cv2.dilate((gt > 0).astype(np.uint8), kernel, iterations=10)
    trimap = np.where(fg > 0, 255, np.where(band > 0, 128, 0)).astype(np.uint8)
    result = metrics.compute_metrics(pred, gt, trimap)
    octave = {"SAD": 6.04210472107, "MSE": 0.00499500893056, "Grad": 10.3788175583,
              "Conn": 5.22744894028}
    _assert_close(result, octave, rel=2e-6)
