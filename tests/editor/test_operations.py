"""Tests of the editor's pure array operations (trimatte.editor.operations)."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trimatte.editor.operations import (
    NO_STROKE,
    STROKE_CODES,
    apply_stroke,
    check_band_step,
    check_points,
    check_radius,
    clamp_radius,
    paint_back,
    preview_size,
    scribbles,
    stroke_labels,
    stroke_mask,
    stroke_window,
    upsample_alpha,
)
from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN

SHAPE = (40, 50)


def distance_to_polyline(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """float ``(H, W)``: distance of every pixel centre to the polyline through ``points``."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    best = np.full(shape, np.inf)
    ends = list(itertools.pairwise(points)) or [(points[0], points[0])]
    for (ax, ay), (bx, by) in ends:
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        t = 0.0 if length == 0 else np.clip(((xx - ax) * dx + (yy - ay) * dy) / length, 0, 1)
        best = np.minimum(best, np.hypot(xx - (ax + t * dx), yy - (ay + t * dy)))
    return best


def random_trimap(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([BACKGROUND, UNKNOWN, FOREGROUND], np.uint8), size=SHAPE)


stroke_args = st.tuples(
    st.lists(st.tuples(st.floats(-10, 60), st.floats(-10, 50)), min_size=1, max_size=5),
    st.integers(1, 9),
    st.sampled_from([BACKGROUND, UNKNOWN, FOREGROUND]),
    st.integers(0, 1000),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=stroke_args)
def test_a_stroke_changes_only_pixels_within_its_radius_of_the_path(args):
    points, radius, label, seed = args
    trimap = random_trimap(seed)
    strokes = np.zeros(SHAPE, np.uint8)
    strokes[::3, ::4] = STROKE_CODES[UNKNOWN]
    trimap_before, strokes_before = trimap.copy(), strokes.copy()
    new_trimap, new_strokes = apply_stroke(trimap, points, radius, label, strokes)
    # the inputs are left alone
    assert np.array_equal(trimap, trimap_before) and np.array_equal(strokes, strokes_before)
    assert new_trimap.dtype == np.uint8 and new_trimap.shape == SHAPE
    # the brush paints whole pixels around the path through the rounded points
    distance = distance_to_polyline(SHAPE, np.round(np.asarray(points)))
    far = distance > radius + 1.5
    assert np.array_equal(new_trimap[far], trimap[far])
    assert np.array_equal(new_strokes[far], strokes[far])
    near = distance <= radius - 0.5
    assert np.all(new_trimap[near] == label)
    assert np.all(new_strokes[near] == STROKE_CODES[label])
    # every changed pixel now holds the label and is remembered as a stroke of it
    changed = (new_trimap != trimap) | (new_strokes != strokes)
    assert np.all(new_trimap[changed] == label)
    assert np.all(stroke_labels(new_strokes)[changed] == label)


def full_canvas_stroke(shape: tuple[int, int], points, radius: int) -> np.ndarray:
    """The brush drawn on a whole-image canvas (the editor's first implementation)."""
    mask = np.zeros(shape, np.uint8)
    pts = [(round(x), round(y)) for x, y in points]
    for p in pts:
        cv2.circle(mask, p, radius, 1, thickness=-1)
    for p, q in itertools.pairwise(pts):
        cv2.line(mask, p, q, 1, thickness=2 * radius)
    return mask.astype(bool)


@settings(max_examples=80, deadline=None)
@given(points=st.lists(st.tuples(st.floats(-80, 130), st.floats(-80, 120)), min_size=1,
                       max_size=4),
       radius=st.integers(1, 30))
def test_drawing_only_the_strokes_box_gives_the_whole_image_result(points, radius):
    expected = full_canvas_stroke(SHAPE, points, radius)
    assert np.array_equal(stroke_mask(SHAPE, np.array(points), radius), expected)
    window = stroke_window(SHAPE, np.array(points), radius)
    if window is None:
        assert not expected.any()
    else:
        (y0, y1, x0, x1), local = window
        assert 0 <= y0 < y1 <= SHAPE[0] and 0 <= x0 < x1 <= SHAPE[1]
        assert local.sum() == expected.sum()


def test_a_stroke_without_a_stroke_layer_starts_one_and_accepts_brush_names():
    trimap = np.full((20, 20), UNKNOWN, np.uint8)
    new_trimap, strokes = apply_stroke(trimap, [(10, 10)], 3, "background")
    assert new_trimap[10, 10] == BACKGROUND and strokes[10, 10] == STROKE_CODES[BACKGROUND]
    assert strokes[0, 0] == NO_STROKE and new_trimap[0, 0] == UNKNOWN
    fg, bg = scribbles(strokes)
    assert not fg.any() and bg[10, 10]


@pytest.mark.parametrize("points, radius, label, match", [
    ([], 3, FOREGROUND, "points"),
    ([(1, 2, 3)], 3, FOREGROUND, "points"),
    ([(1, float("nan"))], 3, FOREGROUND, "points"),
    ("xy", 3, FOREGROUND, "points"),
    ([(1, 2)], 0.2, FOREGROUND, "radius"),
    ([(1, 2)], float("nan"), FOREGROUND, "radius"),
    ([(1, 2)], "big", FOREGROUND, "radius"),
    ([(1, 2)], 3, 7, "label"),
    ([(1, 2)], 3, True, "label"),
    ([(1, 2)], 3, "sky", "label"),
])
def test_a_bad_stroke_names_the_problem(points, radius, label, match):
    with pytest.raises(InputError, match=match):
        apply_stroke(np.zeros((8, 8), np.uint8), points, radius, label)


def test_a_stroke_layer_of_another_size_is_refused():
    with pytest.raises(InputError, match="strokes"):
        apply_stroke(np.zeros((8, 8), np.uint8), [(1, 1)], 1, 0, np.zeros((8, 9), np.uint8))


def test_checks():
    assert check_points((3, 4)).shape == (1, 2)
    assert check_radius(2.6) == 3
    assert clamp_radius(0) == 1 and clamp_radius(1e9) == 300
    with pytest.raises(InputError, match="finite"):
        clamp_radius(float("inf"))
    assert check_band_step(2) == 2
    for bad in (0, -1, 1.5):
        with pytest.raises(InputError, match="pixels"):
            check_band_step(bad)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_paint_back_puts_every_stroke_on_top(seed):
    rng = np.random.default_rng(seed)
    trimap = random_trimap(seed)
    strokes = rng.integers(0, 4, size=SHAPE).astype(np.uint8)
    out = paint_back(trimap, strokes)
    painted = strokes != NO_STROKE
    assert np.array_equal(out[painted], stroke_labels(strokes)[painted])
    assert np.array_equal(out[~painted], trimap[~painted])


def test_preview_size_keeps_the_aspect_and_refuses_tiny_sides():
    assert preview_size((600, 800), 320) == (320, 240)
    assert preview_size((600, 800), 800) is None and preview_size((600, 800), None) is None
    with pytest.raises(InputError, match="8 pixels"):
        preview_size((600, 800), 4)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), factor=st.sampled_from([1, 2, 3]))
def test_upsampled_alpha_is_exact_on_known_pixels(seed, factor):
    rng = np.random.default_rng(seed)
    trimap = random_trimap(seed)
    small = rng.uniform(-0.2, 1.2, size=(SHAPE[0] // factor, SHAPE[1] // factor))
    alpha = upsample_alpha(small, trimap)
    assert alpha.dtype == np.float32 and alpha.shape == SHAPE
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert np.all(alpha[trimap == FOREGROUND] == 1.0)
    assert np.all(alpha[trimap == BACKGROUND] == 0.0)
