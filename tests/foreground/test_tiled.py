"""Tests of trimatte.foreground.tiled (bounded-memory multi-level foreground)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.errors import InputError
from trimatte.foreground.estimation import _level_shapes, estimate_foreground
from trimatte.foreground.tiled import estimate_foreground_tiled, level_windows
from trimatte.pipeline import STAGES, MatteState
from trimatte.stages import foreground as foreground_stages


def _scene(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A textured image and a matte with a soft, wiggly edge and fractional holes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    edge = width / 2 + 0.15 * width * np.sin(y / 9.0)
    alpha = np.clip((x - edge) / 6.0 + 0.5, 0.0, 1.0)
    alpha[rng.random((height, width)) < 0.01] = 0.5
    image = rng.random((height, width, 3)).astype(np.float32)
    image[..., 0] = 0.7 * alpha + 0.3 * image[..., 0]
    return image, alpha.astype(np.float32)


@pytest.mark.parametrize(("tile", "coarse_pixels"), [(32, 500), (50, 2000), (97, 300)])
def test_tiled_equals_untiled_where_alpha_is_fractional(tile, coarse_pixels):
    image, alpha = _scene(150, 190)
    full = estimate_foreground(image, alpha)
    tiled = estimate_foreground_tiled(image, alpha, tile=tile, coarse_pixels=coarse_pixels)
    assert tiled.dtype == np.float32 and tiled.shape == image.shape
    soft = (alpha > 0) & (alpha < 1)
    np.testing.assert_array_equal(tiled[soft], full[soft])
    np.testing.assert_array_equal(tiled[alpha >= 1], image[alpha >= 1])
    assert np.all((tiled >= 0) & (tiled <= 1))


def test_tiles_without_soft_alpha_take_the_coarse_values():
    image, _ = _scene(120, 160, seed=3)
    alpha = np.zeros((120, 160), np.float32)
    alpha[:, 100:] = 1.0
    alpha[40:60, 95:100] = 0.5  # one soft spot: most tiles have none
    full = estimate_foreground(image, alpha)
    tiled = estimate_foreground_tiled(image, alpha, tile=32, coarse_pixels=400)
    soft = (alpha > 0) & (alpha < 1)
    np.testing.assert_array_equal(tiled[soft], full[soft])
    np.testing.assert_array_equal(tiled[alpha >= 1], image[alpha >= 1])
    # away from the soft spot both carry the coarse colours up: close, not exact
    assert np.abs(tiled - full)[alpha <= 0].mean() < 0.05


def test_small_images_go_to_the_untiled_estimation():
    image, alpha = _scene(40, 50)
    np.testing.assert_array_equal(estimate_foreground_tiled(image, alpha),
                                  estimate_foreground(image, alpha))


@settings(max_examples=40, deadline=None)
@given(height=st.integers(20, 400), width=st.integers(20, 400), data=st.data())
def test_windows_nest_and_start_even(height, width, data):
    shapes = _level_shapes(height, width)
    iterations = [10 if h <= 32 and w <= 32 else 2 for h, w in shapes]
    y0 = data.draw(st.integers(0, height - 1))
    x0 = data.draw(st.integers(0, width - 1))
    box = (y0, data.draw(st.integers(y0 + 1, height)), x0, data.draw(st.integers(x0 + 1, width)))
    first = data.draw(st.integers(1, len(shapes) - 1))
    windows = level_windows(box, shapes, iterations, first)
    assert sorted(windows) == list(range(first, len(shapes)))
    wy0, wy1, wx0, wx1 = windows[len(shapes) - 1]
    assert wy0 <= box[0] and wy1 >= box[1] and wx0 <= box[2] and wx1 >= box[3]
    for level, (a0, a1, b0, b1) in windows.items():
        h, w = shapes[level]
        assert a0 % 2 == 0 and b0 % 2 == 0
        assert 0 <= a0 < a1 <= h and 0 <= b0 < b1 <= w


def test_bad_tile_is_an_input_error():
    image, alpha = _scene(40, 50)
    with pytest.raises(InputError, match="tile"):
        estimate_foreground_tiled(image, alpha, tile=4)


def test_stage_switches_to_tiles_above_its_size(monkeypatch):
    image, alpha = _scene(60, 80)
    calls = []
    real = foreground_stages.tiled.estimate_foreground_tiled

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(foreground_stages.tiled, "estimate_foreground_tiled", spy)
    stage = STAGES.build("multilevel-foreground")
    stage.run(MatteState(image=image, alpha=alpha))
    assert not calls
    monkeypatch.setattr(foreground_stages, "TILED_ABOVE_PIXELS", 1000)
    state = stage.run(MatteState(image=image, alpha=alpha))
    assert calls and state.foreground.shape == image.shape
