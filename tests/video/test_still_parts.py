"""Parts of the subject that move with the camera (a second object standing in the scene)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.video.conftest import square_pipeline
from trimatte.api import build_pipeline
from trimatte.errors import InputError, TrimatteWarning
from trimatte.io import read_alpha, write_image
from trimatte.video import TemporalOptions, matte_video
from trimatte.video.still_parts import (
    camera_fit_mask,
    camera_flow,
    drop_parts,
    motion_residual,
    still_parts,
)
from trimatte.video.synthetic import textured_background


@settings(max_examples=20, deadline=None)
@given(dx=st.floats(-8, 8), dy=st.floats(-8, 8))
def test_camera_flow_of_a_shift_is_the_shift_and_its_residual_zero(dx, dy):
    shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])
    flow = camera_flow(shift, (12, 17))
    assert flow.shape == (12, 17, 2) and flow.dtype == np.float32
    np.testing.assert_allclose(flow[..., 0], dx, atol=1e-4)
    np.testing.assert_allclose(flow[..., 1], dy, atol=1e-4)
    assert motion_residual(flow, shift).max() < 1e-3


def test_motion_residual_is_the_distance_from_the_camera_motion():
    flow = np.zeros((10, 10, 2), np.float32)
    flow[2:5, 2:5] = (3.0, 4.0)
    residual = motion_residual(flow, np.eye(3))
    assert residual[3, 3] == pytest.approx(5.0) and residual[8, 8] == 0.0
    with pytest.raises(InputError):
        motion_residual(np.zeros((10, 10), np.float32), np.eye(3))
    with pytest.raises(InputError):
        camera_flow(np.eye(2), (10, 10))


def _two_objects():
    """A trimap with a subject (left) and a second object (right), each with a band."""
    trimap = np.zeros((60, 90), np.uint8)
    trimap[10:50, 8:42] = 128
    trimap[13:47, 11:39] = 255
    trimap[15:45, 55:85] = 128
    trimap[18:42, 58:82] = 255
    residual = np.zeros(trimap.shape, np.float32)
    residual[10:50, 8:42] = 5.0  # the subject moves against the background
    residual[15:45, 55:85] = 0.1  # the second object moves with the camera
    return trimap, residual, np.ones(trimap.shape, np.float32)


def test_still_parts_finds_the_object_that_moves_with_the_camera():
    trimap, residual, trust = _two_objects()
    parts = still_parts(trimap, residual, trust)
    assert parts[15:45, 55:85].mean() > 0.9
    assert not parts[:, :50].any()
    out = drop_parts(trimap, parts, band=3)
    assert (out[15:45, 55:85] == 0).mean() > 0.9
    np.testing.assert_array_equal(out[:, :50], trimap[:, :50])


def test_still_parts_needs_a_moving_subject_or_a_previous_drop():
    trimap, residual, trust = _two_objects()
    residual[10:50, 8:42] = 0.2  # the subject stands still too: nothing can be told apart
    assert not still_parts(trimap, residual, trust).any()
    previous = np.zeros(trimap.shape, bool)
    previous[15:45, 55:85] = True  # dropped in the previous frame: dropped again
    parts = still_parts(trimap, residual, trust, previous)
    assert parts[15:45, 55:85].mean() > 0.9 and not parts[:, :50].any()


def test_still_parts_ignores_small_or_untrusted_regions():
    trimap, residual, trust = _two_objects()
    assert not still_parts(trimap, residual, trust, min_area=0.9).any()
    trust[15:45, 55:85] = 0.2  # the flow there is not trusted
    assert not still_parts(trimap, residual, trust).any()
    with pytest.raises(InputError):
        still_parts(trimap, residual[:10], trust)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), band=st.integers(0, 6))
def test_drop_parts_never_adds_foreground_and_only_changes_the_parts(seed, band):
    rng = np.random.default_rng(seed)
    trimap = rng.choice(np.array([0, 128, 255], np.uint8), size=(20, 24))
    parts = rng.random((20, 24)) < 0.3
    out = drop_parts(trimap, parts, band)
    assert not ((out == 255) & (trimap != 255)).any()
    np.testing.assert_array_equal(out[~parts], trimap[~parts])
    assert (out == 255).any() or not (trimap == 255).any() or np.array_equal(out, trimap)


def test_drop_parts_keeps_the_trimap_when_no_foreground_would_be_left():
    trimap = np.zeros((10, 10), np.uint8)
    trimap[3:7, 3:7] = 255
    np.testing.assert_array_equal(drop_parts(trimap, trimap == 255, 2), trimap)


def test_camera_fit_mask_is_trusted_background_away_from_the_subject():
    trimap, _, trust = _two_objects()
    trust[50:, :] = 0.0
    mask = camera_fit_mask(trimap, trust, margin=2)
    assert mask[2, 2] and not mask[10, 8] and not mask[11, 43] and mask[11, 45] and not mask[55, 2]


def _standing_object_clip(folder, count=6):
    """PNG frames of a scene panning 3 px a frame to the left, a grey block standing in
    it (so it pans too) and a red subject moving 4 px a frame to the right; the keyframe
    trimap of frame 0 takes both in. Returns (keyframe trimap, the block's box in the
    last frame)."""
    scene = textured_background(96 + 3 * count, 64, seed=5)
    scene[26:42, 72:90] = (0.55, 0.55, 0.6)
    for t in range(count):
        frame = scene[:, 3 * t:3 * t + 96].copy()
        frame[22:42, 10 + 4 * t:22 + 4 * t] = (0.9, 0.2, 0.1)
        write_image(folder / f"frame_{t:03d}.png", frame)
    key = np.zeros((64, 96), np.uint8)
    key[18:46, 6:26] = 128
    key[22:42, 10:22] = 255
    key[22:46, 68:94] = 128
    key[26:42, 72:90] = 255
    last = 3 * (count - 1)
    return key, (slice(28, 40), slice(74 - last, 88 - last))


def test_matte_video_drops_an_object_standing_in_the_scene(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    key, block = _standing_object_clip(frames)
    pipeline = build_pipeline(trimap_method="given", matting="closed-form", foreground=None,
                              composite=None)
    results = {}
    for drop in (True, False):
        out = tmp_path / f"alpha_{drop}"
        report = matte_video(frames, [f"png-alpha:{out}"], pipeline=pipeline,
                             keyframes={0: key}, progress=False,
                             temporal_options=TemporalOptions(drop_still=drop))
        last = read_alpha(out / "frame_000005.png")
        results[drop] = (report, last)
    dropped, kept = results[True], results[False]
    assert kept[1][block].mean() > 0.8  # carried along the flow, the block stays in
    assert dropped[1][block].mean() < 0.1
    assert sorted(dropped[0].still_dropped) and not kept[0].still_dropped
    assert dropped[0].still_dropped_spans() == ["frame 1"]  # then it is gone
    subject = (slice(24, 40), slice(32, 40))  # the subject's middle in the last frame
    assert dropped[1][subject].mean() > 0.9 and kept[1][subject].mean() > 0.9


def test_independent_frames_are_not_checked(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    key, block = _standing_object_clip(frames, count=3)
    pipeline = build_pipeline(trimap_method="given", matting="closed-form", foreground=None,
                              composite=None)
    report = matte_video(frames, [f"png-alpha:{tmp_path / 'alpha'}"], pipeline=pipeline,
                         keyframes={0: key}, progress=False,
                         temporal_options=TemporalOptions(mode="off"))
    assert not report.still_dropped
    assert read_alpha(tmp_path / "alpha" / "frame_000002.png")[block].mean() > 0.8


def test_source_confidence_is_reassessed_without_the_dropped_parts(clips, tmp_path):
    clip = clips["mp4"]  # the subject swings over a panning background
    scores, warned = {}, {}
    for drop in (True, False):
        pipeline = square_pipeline(clip, flicker=None, scored=True)
        with pytest.warns(TrimatteWarning) as caught:
            report = matte_video(clip.path, [f"png-alpha:{tmp_path / str(drop)}"],
                                 pipeline=pipeline, progress=False,
                                 temporal_options=TemporalOptions(drop_still=drop))
        scores[drop] = [c.score for c in report.subject_confidence]
        warned[drop] = [str(w.message).split(":")[0] for w in caught]
        if drop:
            assert sorted(report.still_dropped)
            reassessed = [scores[drop][t] for t in report.still_dropped]
            assert min(reassessed) == pytest.approx(0.9)  # what is left has no square
    assert max(scores[False]) == pytest.approx(0.2)  # kept: the square stays in the map
    assert warned == {True: ["frame 0"], False: ["frames 0-7"]}  # frame 0 has no flow
