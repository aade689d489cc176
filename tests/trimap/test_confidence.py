"""Confidence of automatic trimaps on constructed cases (empty, two objects, border)."""

from __future__ import annotations

import numpy as np
import pytest

from trimatte.trimap.completion import select_objects
from trimatte.trimap.confidence import (
    EMPTY,
    LOW_CONFIDENCE,
    MOSTLY_UNKNOWN,
    SECOND_OBJECT,
    TOUCHES_BORDER,
    UNCERTAIN,
    UNSTABLE,
    Confidence,
    border_sides,
    estimate_confidence,
    mask_iou,
)
from trimatte.trimap.morphology import trimap_from_mask

SIZE = 120


def disc(cy: float, cx: float, r: float, size: int = SIZE) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    return np.hypot(yy - cy, xx - cx) <= r


def confidence_of(saliency: np.ndarray, band: int = 3) -> Confidence:
    """What the 'auto' stage computes, without completion."""
    selection = select_objects(saliency)
    trimap = trimap_from_mask(selection.mask, band)
    return estimate_confidence(trimap, saliency=saliency, mask=selection.mask,
                               salient=selection.mask,
                               second_strength=selection.second_strength)


def test_one_clear_centred_subject_is_trusted() -> None:
    confidence = confidence_of(disc(60, 60, 30).astype(np.float32))
    assert confidence.score > 0.9 and not confidence.low
    assert confidence.flags == ()
    assert "confidence" in confidence.describe()


def test_empty_scene_scores_zero() -> None:
    saliency = np.full((SIZE, SIZE), 0.1, np.float32)
    confidence = confidence_of(saliency)
    assert confidence.score == 0.0 and confidence.low
    assert confidence.flags == (EMPTY,)


def test_a_speck_is_an_empty_scene() -> None:
    confidence = confidence_of(disc(60, 60, 2).astype(np.float32), band=0)
    assert EMPTY in confidence.flags and confidence.low


def test_two_equally_salient_objects_are_flagged_and_low() -> None:
    saliency = (disc(60, 30, 20) | disc(60, 90, 20)).astype(np.float32)
    selection = select_objects(saliency)
    assert selection.count == 2  # both strongly salient: both kept
    confidence = confidence_of(saliency)
    assert SECOND_OBJECT in confidence.flags and confidence.low


def test_a_faint_second_object_is_dropped_and_costs_little() -> None:
    saliency = disc(60, 40, 25).astype(np.float32)
    saliency[disc(22, 98, 12)] = 0.6
    selection = select_objects(saliency)
    assert selection.count == 1 and selection.dropped == 1
    assert not selection.mask[22, 98]
    confidence = confidence_of(saliency)
    assert not confidence.low
    assert confidence.score < confidence_of(disc(60, 40, 25).astype(np.float32)).score


def test_subject_touching_the_border() -> None:
    centred = confidence_of(disc(60, 60, 30).astype(np.float32))
    one_side = confidence_of(disc(110, 60, 30).astype(np.float32))
    corner = confidence_of(disc(110, 110, 40).astype(np.float32))
    three = np.zeros((SIZE, SIZE), np.float32)
    three[40:, :] = 1.0  # bottom, left and right
    three_sides = confidence_of(three)
    assert border_sides(disc(110, 110, 40)) == 2 and border_sides(three > 0.5) == 3
    # cut off at the bottom, or at the bottom and a side (a portrait): normal, unflagged
    assert TOUCHES_BORDER not in one_side.flags and TOUCHES_BORDER not in corner.flags
    assert centred.score == one_side.score and not one_side.low
    assert corner.score <= one_side.score
    assert TOUCHES_BORDER in three_sides.flags and three_sides.score < corner.score


def test_extra_penalty_lowers_the_score_and_adds_a_flag_once() -> None:
    base = confidence_of(disc(60, 60, 30).astype(np.float32))
    lowered = base.with_penalty(UNCERTAIN, 0.3, no_sure_foreground=1.0)
    assert lowered.score == pytest.approx(base.score * 0.7)
    assert lowered.flags.count(UNCERTAIN) == 1 and lowered.details["no_sure_foreground"] == 1
    assert lowered.with_penalty(UNCERTAIN, 0.3).flags.count(UNCERTAIN) == 1
    assert base.with_penalty(UNCERTAIN, 0.05).flags == base.flags  # below FLAG_AT


def test_soft_saliency_is_an_uncertain_subject() -> None:
    saliency = disc(60, 60, 30).astype(np.float32) * 0.7
    confidence = confidence_of(saliency)
    assert UNCERTAIN in confidence.flags and confidence.low


def test_mostly_unknown_trimap_is_flagged() -> None:
    saliency = disc(60, 60, 30).astype(np.float32)
    wide = trimap_from_mask(saliency > 0.5, 22)
    confidence = estimate_confidence(wide, saliency=saliency)
    assert MOSTLY_UNKNOWN in confidence.flags
    assert confidence.score < confidence_of(saliency).score


def test_large_completion_change_is_an_uncertain_subject() -> None:
    salient = disc(60, 60, 15)
    completed = disc(60, 60, 30)
    trimap = trimap_from_mask(completed, 2)
    confidence = estimate_confidence(trimap, mask=completed, salient=salient)
    assert UNCERTAIN in confidence.flags


@pytest.mark.parametrize("score", [0.0, 0.49])
def test_low_below_the_threshold(score: float) -> None:
    assert Confidence(score).low and not Confidence(LOW_CONFIDENCE).low


def _with_mirror(saliency: np.ndarray, mirrored: np.ndarray) -> Confidence:
    selection = select_objects(saliency)
    trimap = trimap_from_mask(selection.mask, 3)
    return estimate_confidence(trimap, saliency=saliency, mask=selection.mask,
                               mirrored=mirrored)


def test_a_subject_that_stays_under_mirroring_costs_nothing() -> None:
    saliency = disc(60, 60, 30).astype(np.float32)
    confidence = _with_mirror(saliency, saliency.copy())  # flipped back: the same map
    assert UNSTABLE not in confidence.flags and confidence.details["mirrored_iou"] == 1.0
    assert confidence.score == pytest.approx(confidence_of(saliency).score)


def test_a_subject_that_moves_under_mirroring_is_unstable() -> None:
    saliency = disc(60, 60, 30).astype(np.float32)
    other = disc(60, 75, 30).astype(np.float32)  # the mirrored photo's net saw another shape
    confidence = _with_mirror(saliency, other)
    assert UNSTABLE in confidence.flags
    assert confidence.score < confidence_of(saliency).score - 0.2
    elsewhere = _with_mirror(saliency, disc(20, 100, 15).astype(np.float32))
    assert elsewhere.low and elsewhere.details["mirrored_iou"] == 0.0


def test_mask_iou() -> None:
    a, b = disc(60, 60, 20), disc(60, 70, 20)
    assert mask_iou(a, a) == 1.0 and mask_iou(a, ~a) == 0.0
    assert mask_iou(a, b) == pytest.approx((a & b).sum() / (a | b).sum())
    empty = np.zeros_like(a)
    assert mask_iou(empty, empty) == 1.0
