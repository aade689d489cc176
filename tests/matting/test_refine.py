"""Base-plus-refinement matting: exact known pixels, bounded patches, identity below the
threshold, exact patch re-solves, the large-system solver and config round trips."""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import make_disc_scene
from trimatte.api import DEFAULT_MATTING, build_pipeline
from trimatte.errors import ConfigError
from trimatte.matting import multilevel, refine
from trimatte.matting.closed_form import closed_form_alpha
from trimatte.matting.laplacian import matting_laplacian
from trimatte.pipeline import STAGES, MatteState, Pipeline


def disc(size: int = 96, radius: float = 30.0):
    image, alpha, _, _ = make_disc_scene(size=size, radius=radius, soft=4.0)
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[alpha <= 0.0] = 0
    trimap[alpha >= 1.0] = 255
    # widen the band so that base and full resolution differ
    band = cv2.dilate((trimap == 128).view(np.uint8), np.ones((7, 7), np.uint8)).view(bool)
    trimap[band] = 128
    return image, alpha, trimap


def known_exact(alpha: np.ndarray, trimap: np.ndarray) -> bool:
    return bool(np.all(alpha[trimap == 255] == 1.0) and np.all(alpha[trimap == 0] == 0.0))


def test_refinement_keeps_known_pixels_exact_and_alpha_in_range():
    image, _, trimap = disc()
    alpha, report = refine.refine_alpha(image, trimap, closed_form_alpha,
                                        refine.closed_form_patch(8), base_pixels=48 * 48,
                                        patch=32, error_threshold=0.0)
    assert alpha.dtype == np.float32 and alpha.shape == trimap.shape
    assert known_exact(alpha, trimap)
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert report.base_shape == (48, 48) and report.refined_patches == report.candidate_patches
    assert report.candidate_patches == 8  # the 3x3 grid less its band-free centre


def test_refinement_moves_the_base_matte_towards_the_exact_solve():
    image, _, trimap = disc()
    exact = closed_form_alpha(image, trimap)
    base, _ = refine.refine_alpha(image, trimap, closed_form_alpha, None, base_pixels=32 * 32)
    refined, _ = refine.refine_alpha(image, trimap, closed_form_alpha,
                                     refine.closed_form_patch(8), base_pixels=32 * 32,
                                     patch=32, error_threshold=0.0)
    unknown = trimap == 128
    assert np.abs(refined - exact)[unknown].sum() < 0.5 * np.abs(base - exact)[unknown].sum()


def test_a_closed_form_patch_re_solve_is_the_exact_minimiser_given_its_boundary(rng):
    # Hard constraints: the free pixels are the unknown ones inside the window, every
    # other pixel is held at the given matte (the window's boundary condition).
    image, _, trimap = disc(size=40, radius=12)
    current = np.clip(closed_form_alpha(image, trimap) + rng.normal(0, 0.05, trimap.shape),
                      0, 1).astype(np.float32)
    current[trimap == 255], current[trimap == 0] = 1, 0
    box, margin = (12, 12, 28, 28), 4
    laplacian = matting_laplacian(image).toarray()
    free = np.zeros(trimap.shape, bool)
    free[10:30, 10:30] = True  # the window less a ring of 2 r = 2 pixels
    free &= trimap == 128
    f, c = free.ravel(), ~free.ravel()
    expected = current.astype(np.float64).ravel().copy()
    expected[f] = np.linalg.solve(laplacian[np.ix_(f, f)],
                                  -laplacian[np.ix_(f, c)] @ expected[c])
    expected = np.clip(expected, 0, 1).reshape(trimap.shape)
    solver = refine.closed_form_patch(margin, rtol=1e-12, lambda_=math.inf)
    pixels = solver(image, trimap, current, box)
    assert pixels == 24 * 24
    np.testing.assert_allclose(current, expected, atol=1e-5)


def test_patch_windows_are_bounded_by_patch_and_margin():
    image, _, trimap = disc(size=120, radius=40)
    seen = []
    inner = refine.closed_form_patch(6)

    def recording(image, trimap, alpha, box):
        y0, x0, y1, x1 = box
        assert y1 - y0 <= 24 and x1 - x0 <= 24
        pixels = inner(image, trimap, alpha, box)
        seen.append(pixels)
        return pixels

    _, report = refine.refine_alpha(image, trimap, closed_form_alpha, recording,
                                    base_pixels=40 * 40, patch=24, error_threshold=0.0,
                                    max_patches=7)
    assert len(seen) == report.refined_patches == 7
    assert report.skipped_patches == report.candidate_patches - 7
    assert 0 < max(seen) == report.largest_window <= (24 + 2 * 6) ** 2
    assert report.confidence < 1.0
    boxes = refine.tile_boxes(trimap.shape, 24)
    assert report.candidate_patches == sum(
        (trimap[y0:y1, x0:x1] == 128).any() for y0, x0, y1, x1 in boxes)


def test_patch_selection_keeps_the_worst_and_returns_raster_order():
    scores = [((0, 0, 8, 8), 0.5), ((0, 8, 8, 16), 0.01), ((8, 0, 16, 8), 0.9),
              ((8, 8, 16, 16), 0.3)]
    chosen, skipped = refine.select_patches(scores, 0.1, 2)
    assert chosen == [(0, 0, 8, 8), (8, 0, 16, 8)] and skipped == 1


def test_identity_below_the_base_size():
    image, _, trimap = disc(size=64, radius=20)
    calls = []

    def base(img, tri):
        calls.append(img.shape)
        return closed_form_alpha(img, tri)

    alpha, report = refine.refine_alpha(image, trimap, base, refine.closed_form_patch(8),
                                        base_pixels=64 * 64)
    assert calls == [(64, 64, 3)] and report.refined_patches == 0
    np.testing.assert_array_equal(alpha, closed_form_alpha(image, trimap))


def test_refined_stage_is_the_inner_stage_below_its_threshold():
    image, _, trimap = disc(size=64, radius=20)
    stage = STAGES.build("refined", inner={"name": "closed-form", "params": {}})
    state = stage.run(MatteState(image=image, trimap=trimap))
    np.testing.assert_array_equal(state.alpha, closed_form_alpha(image, trimap))
    assert "refine" not in state.hints


def test_refined_stage_above_its_threshold_reports_and_keeps_known_pixels():
    image, _, trimap = disc()
    stage = STAGES.build("refined", inner="closed-form", above_megapixels=0.005,
                         base_megapixels=0.002, patch=32, margin=8, error_threshold=0.0)
    state = stage.run(MatteState(image=image, trimap=trimap))
    assert known_exact(state.alpha, trimap)
    assert state.hints["refine"]["refined_patches"] > 0
    assert state.hints["refine"]["confidence"] == 1.0


def test_refined_stage_with_a_generic_inner_stage_feathers_patches():
    image, _, trimap = disc()
    stage = STAGES.build("refined", inner={"name": "grabcut-hard"}, above_megapixels=0.005,
                         base_megapixels=0.002, patch=32, margin=8, error_threshold=0.0)
    state = stage.run(MatteState(image=image, trimap=trimap))
    assert known_exact(state.alpha, trimap)
    assert state.alpha.min() >= 0 and state.alpha.max() <= 1


def test_refined_stage_warns_when_patches_are_capped():
    image, _, trimap = disc()
    stage = STAGES.build("refined", inner="closed-form", above_megapixels=0.005,
                         base_megapixels=0.002, patch=32, margin=8, error_threshold=0.0,
                         max_patches=1)
    with pytest.warns(UserWarning, match="confidence"):
        stage.run(MatteState(image=image, trimap=trimap))


def test_config_round_trip_and_default_pipeline():
    pipeline = Pipeline([STAGES.build("given"), STAGES.build(
        "refined", inner={"name": "closed-form", "params": {"epsilon": 1e-6}}, patch=128)])
    config = pipeline.to_dict()
    assert Pipeline.from_dict(config).to_dict() == config
    assert config["stages"][1]["params"]["inner"] == {"name": "closed-form",
                                                      "params": {"epsilon": 1e-6,
                                                                 "window_radius": 1,
                                                                 "lambda_": 100.0}}
    alpha = build_pipeline(trimap_method=None, matting="closed-form").stage("alpha")
    assert alpha.registry_name == "refined" and alpha.inner["name"] == "closed-form"
    plain = build_pipeline(trimap_method=None, refine_above=None).stage("alpha")
    assert plain.registry_name == DEFAULT_MATTING
    default = build_pipeline(trimap_method=None).stage("alpha")
    assert default.registry_name == DEFAULT_MATTING
    assert build_pipeline(matting="grabcut-hard").stage("alpha").registry_name == "grabcut-hard"


@pytest.mark.parametrize("inner", ["refined", "cutout", {"params": {}}])
def test_bad_inner_stage_is_a_config_error(inner):
    with pytest.raises(ConfigError):
        STAGES.build("refined", inner=inner)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 90), width=st.integers(1, 90), size=st.integers(1, 40))
def test_tile_boxes_partition_the_image(height, width, size):
    cover = np.zeros((height, width), np.int32)
    for y0, x0, y1, x1 in refine.tile_boxes((height, width), size):
        assert 0 < y1 - y0 <= size and 0 < x1 - x0 <= size
        cover[y0:y1, x0:x1] += 1
    assert np.all(cover == 1)


def test_tiled_upsampling_equals_a_whole_image_resize(rng):
    small = rng.random((13, 17)).astype(np.float32)
    whole = cv2.resize(small, (61, 47), interpolation=cv2.INTER_LINEAR)
    tiled = np.concatenate([np.concatenate(
        [refine.resample_box(small, (47, 61), (y, x, min(y + 20, 47), min(x + 20, 61)))
         for x in range(0, 61, 20)], axis=1) for y in range(0, 47, 20)], axis=0)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_downscaled_trimap_is_known_only_where_all_covered_pixels_agree():
    image, _, trimap = disc()
    _, small = refine.downscale_inputs(image, trimap, (32, 32))
    blocks = trimap.reshape(32, 3, 32, 3)
    np.testing.assert_array_equal(small == 255, (blocks == 255).all(axis=(1, 3)))
    np.testing.assert_array_equal(small == 0, (blocks == 0).all(axis=(1, 3)))


def test_feather_is_one_on_the_patch_and_falls_to_the_window_edge():
    weight = refine.feather((10, 0, 50, 40), (20, 0, 40, 30), (100, 40))
    assert np.all(weight[10:30, :30] == 1.0)
    assert weight[0, 5] < 0.1 and weight[-1, 5] < 0.1  # interior edges fade out
    assert weight[15, 0] == 1.0  # the image border is not feathered
    assert np.all(np.diff(weight[:10, 5]) > 0)


def test_large_systems_use_the_block_solver_and_match_the_direct_solve(monkeypatch, caplog):
    image, _, trimap = disc()
    direct = closed_form_alpha(image, trimap, rtol=1e-9)
    monkeypatch.setattr(multilevel, "DIRECT_LIMIT", 100)  # over it: the block solver
    monkeypatch.setattr(multilevel.solve_large, "__kwdefaults__", {"rtol": 1e-6, "block": 32})
    with caplog.at_level(logging.INFO, logger="trimatte.matting.closed_form"):
        blocked = closed_form_alpha(image, trimap, rtol=1e-9)
    assert "block-jacobi" in caplog.text
    assert known_exact(blocked, trimap)
    np.testing.assert_allclose(blocked, direct, atol=1e-4)


def test_tile_groups_partition_the_free_pixels():
    free_flat = np.array([0, 1, 5, 9, 10, 14, 15])
    groups = multilevel.tile_groups(free_flat, 5, 2)
    assert sorted(np.concatenate(groups).tolist()) == list(range(7))
    for group in groups:
        y, x = np.divmod(free_flat[group], 5)
        assert len(set(zip(y // 2, x // 2, strict=True))) == 1
