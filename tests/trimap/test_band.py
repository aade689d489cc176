"""Adaptive unknown bands: boundary, cues, per-pixel radius and the variable-band trimap."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.trimap.band import (
    BandParams,
    band_radius,
    boundary,
    colour_ambiguity,
    edge_lines,
    mark_uncertain,
    transition_width,
    variable_band_trimap,
)
from trimatte.trimap.morphology import trimap_from_mask


def square(size: int = 64, lo: int = 16, hi: int = 48) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[lo:hi, lo:hi] = True
    return mask


def test_boundary_is_the_inner_outline() -> None:
    edge = boundary(square())
    assert edge[16, 20] and edge[47, 30] and edge[30, 16]
    assert not edge[30, 30] and not edge[10, 10]
    assert edge.sum() == 4 * 32 - 4


def test_constant_radius_matches_the_fixed_band_along_a_straight_edge() -> None:
    mask = np.zeros((40, 80), bool)
    mask[:, :40] = True
    radius = np.where(boundary(mask), 5.0, 0.0).astype(np.float32)
    trimap = variable_band_trimap(mask, radius)
    row = trimap[20]
    # 5 px beyond the boundary column 39, and the boundary column itself plus 5 inside
    assert np.count_nonzero(row == 128) == 11
    assert row[0] == 255 and row[-1] == 0
    fixed = trimap_from_mask(mask, 5)
    assert abs(int((trimap == 128).sum()) - int((fixed == 128).sum())) <= 2 * 40


def test_radius_varies_along_the_boundary() -> None:
    mask = np.zeros((60, 120), bool)
    mask[:, :60] = True
    edge = boundary(mask)
    radius = np.zeros(mask.shape, np.float32)
    radius[:30][edge[:30]] = 2.0
    radius[30:][edge[30:]] = 10.0
    trimap = variable_band_trimap(mask, radius)
    assert np.count_nonzero(trimap[5] == 128) < np.count_nonzero(trimap[55] == 128)
    assert trimap[55, 68] == 128 and trimap[5, 68] == 0


def test_empty_and_full_masks_give_one_class() -> None:
    empty = np.zeros((10, 10), bool)
    assert np.all(variable_band_trimap(empty, np.zeros((10, 10), np.float32)) == 0)
    assert np.all(variable_band_trimap(~empty, np.zeros((10, 10), np.float32)) == 255)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.0, 8.0))
def test_known_pixels_never_switch_class(seed: int, r: float) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((24, 24)) > 0.5
    radius = np.where(boundary(mask), r, 0.0).astype(np.float32)
    trimap = variable_band_trimap(mask, radius)
    assert np.all(mask[trimap == 255]) and not np.any(mask[trimap == 0])
    assert np.all(trimap[boundary(mask)] == 128)


def test_transition_width_measures_the_soft_ramp() -> None:
    x = np.arange(100, dtype=np.float32)
    ramp = np.clip((x - 40) / 20, 0, 1)  # 0 -> 1 over 20 px
    saliency = np.tile(ramp, (50, 1))
    width = transition_width(saliency, 15)
    assert 17 <= width[25, 50] <= 21
    assert width[25, 5] == 0


def test_edge_lines_count_more_lines_on_texture() -> None:
    image = np.zeros((64, 64, 3), np.float32)
    image[:, 32:] = 1.0
    one = edge_lines(image, 8)[32, 32]
    stripes = np.zeros((64, 64, 3), np.float32)
    stripes[:, ::4] = 1.0
    many = edge_lines(stripes, 8)[32, 32]
    assert 0.5 <= one <= 3 and many > 3 * one


def test_colour_ambiguity_low_for_distinct_colours() -> None:
    mask = np.zeros((40, 40), bool)
    mask[:, :20] = True
    distinct = np.zeros((40, 40, 3), np.float32)
    distinct[mask] = (1.0, 0.2, 0.2)
    alike = np.full((40, 40, 3), 0.5, np.float32)
    assert colour_ambiguity(distinct, mask, 5)[20, 20] < 0.1
    assert colour_ambiguity(alike, mask, 5)[20, 20] > 0.9


def test_band_radius_is_wider_on_a_soft_saliency_edge() -> None:
    size = 200
    mask = np.zeros((size, size), bool)
    mask[:, :100] = True
    image = np.zeros((size, size, 3), np.float32)
    image[mask] = 1.0
    x = np.arange(size, dtype=np.float32)
    hard = np.tile((x < 100).astype(np.float32), (size, 1))
    soft = np.tile(np.clip((120 - x) / 40, 0, 1), (size, 1))
    params = BandParams(texture_gain=0.0)
    r_hard = band_radius(image, mask, hard, params)
    r_soft = band_radius(image, mask, soft, params)
    edge = boundary(mask)
    assert np.all(r_hard[~edge] == 0)
    assert r_hard[edge].max() <= r_soft[edge].min()
    assert r_soft[edge].mean() > 2 * r_hard[edge].mean()
    assert r_soft[edge].max() <= params.r_max * size + 1e-4
    assert r_hard[edge].min() >= max(1.0, params.r_min * size) - 1e-4


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 2)), np.zeros(5)])
def test_bad_mask_is_a_clear_error(bad) -> None:
    from trimatte.errors import InputError

    with pytest.raises(InputError):
        boundary(bad)


def test_mark_uncertain_opens_unsure_pixels_connected_to_the_subject() -> None:
    mask = square(64, 16, 48)
    saliency = mask.astype(np.float32)
    saliency[20:24, 20:24] = 0.6  # unsure inside the subject
    saliency[16:48, 48:52] = 0.3  # faint fringe touching the subject
    saliency[2:6, 2:6] = 0.3  # faint blob far away
    trimap = trimap_from_mask(mask, 0)
    added = np.zeros_like(mask)
    added[48:52, 20:30] = True
    marked = mark_uncertain(trimap, saliency, mask, added=added)
    assert np.all(marked[20:24, 20:24] == 128)
    assert np.all(marked[16:48, 48:52] == 128)
    assert np.all(marked[2:6, 2:6] == 0)
    assert np.all(marked[48:52, 20:30] == 128)
    assert marked[30, 30] == 255 and marked[60, 60] == 0
    assert trimap[20, 20] == 255  # input untouched
