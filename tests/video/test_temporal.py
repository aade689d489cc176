"""Flow, trimap propagation and alpha smoothing on synthetic arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import make_disc_scene
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.trimap.morphology import trimap_from_alpha
from trimatte.video import flow as flowlib
from trimatte.video import temporal


def _shifted(image: np.ndarray, dx: int) -> np.ndarray:
    return np.roll(image, dx, axis=1)


def test_flow_finds_a_shift_and_warp_undoes_it():
    image, alpha, _, _ = make_disc_scene(size=96, radius=24, seed=0)
    rng = np.random.default_rng(0)
    image = np.clip(image + rng.normal(0, 0.05, image.shape).astype(np.float32), 0, 1)
    moved = _shifted(image, 3)
    gray_a, gray_b = flowlib.prepare_gray(image), flowlib.prepare_gray(moved)
    estimator = flowlib.FlowEstimator()
    flow = estimator(gray_a, gray_b)  # a[p] ~ b[p + flow]
    centre = np.s_[30:66, 30:66]
    assert np.median(flow[centre][..., 0]) == np.float32(np.median(flow[centre][..., 0]))
    assert abs(float(np.median(flow[centre][..., 0])) - 3.0) < 0.5
    back = flowlib.warp(_shifted(alpha, 3), flow)
    assert np.abs(back - alpha)[centre].mean() < 0.05


def test_confidence_drops_where_content_does_not_match():
    image, _, _, _ = make_disc_scene(size=64, seed=1)
    gray = flowlib.prepare_gray(image)
    zero = np.zeros((*gray.shape, 2), np.float32)
    assert flowlib.flow_confidence(zero, zero, gray, gray).min() > 0.99
    other = gray.copy()
    other[10:20, 10:20] = np.where(gray[10:20, 10:20] < 128, 255, 0)
    trust = flowlib.flow_confidence(zero, zero, gray, other)
    assert trust[14, 14] < 0.1 and trust[50, 50] > 0.9


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=2, max_value=8))
def test_band_radius_recovers_the_band(radius):
    _, alpha, _, _ = make_disc_scene(size=128, radius=40, soft=1.0)
    assert abs(temporal.band_radius(trimap_from_alpha(alpha, radius)) - radius) <= 1


def test_propagation_with_still_frames_keeps_a_band_around_the_edge():
    _, alpha, _, _ = make_disc_scene(size=96, radius=30, soft=2.0)
    trimap = temporal.propagate_trimap(alpha, np.ones_like(alpha), 4)
    assert trimap[48, 48] == FOREGROUND and trimap[2, 2] == BACKGROUND
    edge = np.abs(alpha - 0.5) < 0.2
    assert np.all(trimap[edge] == UNKNOWN)
    # a distrusted edge region becomes unknown, a distrusted flat region does not
    trust = np.ones_like(alpha)
    trust[:, :48] = 0.0
    distrusted = temporal.propagate_trimap(alpha, trust, 4)
    assert distrusted[48, 18] == UNKNOWN and distrusted[2, 2] == BACKGROUND


def test_fuse_marks_conflicts_unknown_and_rekeys_when_disjoint():
    a = np.zeros((20, 20), np.uint8)
    a[5:15, 5:15] = FOREGROUND
    b = a.copy()
    b[5:7, 5:15] = BACKGROUND
    fused, rekeyed = temporal.fuse_trimaps(a, b)
    assert not rekeyed and np.all(fused[5:7, 5:15] == UNKNOWN) and fused[10, 10] == FOREGROUND
    c = np.zeros_like(a)
    c[0:3, 0:3] = FOREGROUND
    fused, rekeyed = temporal.fuse_trimaps(a, c)
    assert rekeyed and np.array_equal(fused, c)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=3, max_size=3), st.floats(0, 1), st.floats(0, 1),
       st.one_of(st.none(), st.floats(0.01, 2.0)))
def test_weighted_blend_stays_between_its_inputs(values, w1, w2, spread):
    center, left, right = (np.full((4, 4), v, np.float32) for v in values)
    out = temporal.weighted_blend(center, [(left, np.full((4, 4), w1, np.float32)),
                                           (right, np.full((4, 4), w2, np.float32))], spread)
    assert min(values) - 1e-6 <= out.min() and out.max() <= max(values) + 1e-6
    zero = temporal.weighted_blend(center, [(left, np.zeros((4, 4), np.float32))], spread)
    assert np.allclose(zero, center)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1, width=32), min_size=1, max_size=7))
def test_weighted_median_with_equal_weights_is_a_middle_value(values):
    stack = np.array(values, np.float32)[:, None, None] * np.ones((1, 2, 3), np.float32)
    out = temporal.weighted_median(stack, np.ones_like(stack))
    ranked = sorted(values)
    assert np.all(out == np.float32(ranked[(len(values) - 1) // 2]))  # the lower median
    heavy = np.ones_like(stack)
    heavy[-1] = len(values)  # one value with more than half the weight wins
    assert np.all(temporal.weighted_median(stack, heavy) == np.float32(values[-1]))


def test_spread_keeps_a_misplaced_edge_sharp_and_still_averages_flicker():
    edge = np.zeros((1, 8), np.float32)
    edge[:, 4:] = 1.0
    ones = np.ones_like(edge)
    misplaced = [(np.roll(edge, 1, axis=1), ones), (np.roll(edge, -1, axis=1), ones),
                 (edge, ones), (edge, ones)]  # two neighbours one pixel off
    mean = temporal.weighted_blend(edge, misplaced)
    robust = temporal.weighted_blend(edge, misplaced, spread=0.3)
    assert np.abs(mean - edge).max() > 0.15  # the plain mean blurs the step
    np.testing.assert_allclose(robust, edge, atol=1e-3)
    # a soft value that flickers in the frame itself is pulled to its neighbours' level
    soft = np.full((2, 2), 0.5, np.float32)
    neighbours = [(np.full((2, 2), v, np.float32), np.ones((2, 2), np.float32))
                  for v in (0.45, 0.55, 0.5, 0.52)]
    flicker = temporal.weighted_blend(soft + 0.25, neighbours, spread=0.3)
    assert np.all(np.abs(flicker - 0.5) < 0.1)


def test_ofd_replaces_a_flicker_only_where_neighbours_agree_and_are_trusted():
    prev = np.zeros((3, 3), np.float32)
    nxt = np.zeros((3, 3), np.float32)
    center = np.zeros((3, 3), np.float32)
    center[1, 1] = center[0, 0] = 1.0
    nxt[0, 0] = 1.0  # real change: neighbours disagree
    trust = np.ones((3, 3), np.float32)
    out = temporal.ofd_filter(prev, center, nxt, trust)
    assert out[1, 1] == 0.0 and out[0, 0] == 1.0
    assert temporal.ofd_filter(prev, center, nxt, trust * 0)[1, 1] == 1.0
    assert BACKGROUND == 0
