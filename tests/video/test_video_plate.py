"""The clean plate reconstructed from the video (``--video-plate``) on tiny synthetic frames."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.api import build_pipeline
from trimatte.cli.main import main
from trimatte.errors import InputError
from trimatte.io import read_alpha
from trimatte.metrics import video_metrics
from trimatte.video import TemporalOptions, matte_video
from trimatte.video.cleanplate import PlateMemory, background_homography, background_mask
from trimatte.video.platematte import plate_matte, plate_trimap_refine
from trimatte.video.synthetic import textured_background


def _scene(width: int = 140, height: int = 60) -> np.ndarray:
    return textured_background(width, height, seed=4)


@settings(max_examples=25, deadline=None)
@given(dx=st.floats(-6, 6), dy=st.floats(-4, 4))
def test_background_homography_recovers_the_camera_shift_despite_a_subject(dx, dy):
    flow = np.zeros((48, 64, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    flow[10:30, 20:40] = (9.0, -7.0)  # a subject moving on its own
    mask = np.ones((48, 64), bool)
    mask[12:28, 22:38] = False  # most of it is masked out, its rim is not
    matrix = background_homography(flow, mask)
    assert matrix is not None
    np.testing.assert_allclose(matrix[:2, 2], [dx, dy], atol=1e-3)
    np.testing.assert_allclose(matrix[:2, :2], np.eye(2), atol=1e-4)


def test_background_homography_gives_up_without_enough_background():
    flow = np.zeros((32, 32, 2), np.float32)
    assert background_homography(flow, np.zeros((32, 32), bool)) is None


def test_background_mask_keeps_a_margin_from_the_subject():
    trimap = np.zeros((40, 40), np.uint8)
    trimap[15:25, 15:25] = 255
    alpha = (trimap / 255.0).astype(np.float32)
    alpha[20, 5] = 0.3  # a strand the matte found
    mask = background_mask(trimap, alpha, 3)
    assert not mask[20, 12] and not mask[20, 7] and mask[20, 35] and mask[2, 2]


def _panning_frames(count: int, step: int = 4):
    """Frames of a panning scene with an opaque square moving the other way."""
    scene = _scene()
    frames, masks, subjects = [], [], []
    for t in range(count):
        frame = scene[:, t * step:t * step + 64].copy()
        subject = np.zeros((60, 64), bool)
        left = 44 - 8 * t
        subject[20:40, left:left + 14] = True
        frame[subject] = (0.9, 0.2, 0.1)
        frames.append(frame.astype(np.float32))
        subjects.append(subject)
        masks.append(~subject)
    return scene, frames, masks, subjects


def test_plate_memory_sees_behind_the_subject_and_matches_the_scene():
    scene, frames, masks, subjects = _panning_frames(6)
    memory = PlateMemory((60, 64), decay=0.8)
    shift = np.array([[1.0, 0, 4], [0, 1, 0], [0, 0, 1]])  # frame t -> frame t - 1
    for t, (frame, mask) in enumerate(zip(frames, masks, strict=True)):
        assert memory.add(t, frame, mask, shift if t else None) == (t > 0)
    plate, support = memory.view(3, frames[3], masks[3])
    truth = scene[:, 12:76]
    hidden = subjects[3]
    seen = support >= 0.5
    assert seen[hidden].mean() > 0.9  # the background behind the subject was seen elsewhere
    assert np.abs(plate - truth)[seen].max() < 0.02
    with pytest.raises(KeyError):
        memory.view(99)


def test_plate_memory_starts_afresh_without_the_camera_motion():
    _, frames, masks, _ = _panning_frames(3)
    memory = PlateMemory((60, 64))
    memory.add(0, frames[0], masks[0], None)
    assert not memory.add(1, frames[1], masks[1], None)
    _, support = memory.view(1)
    assert support[masks[1]].min() > 0.99 and support[~masks[1]].max() == 0.0
    with pytest.raises(InputError):
        PlateMemory((60, 64), decay=1.5)


def _strand_frame():
    plate = _scene(64, 48)[:, :64].astype(np.float32)
    image = plate.copy()
    image[16:32, 20:36] = (0.9, 0.3, 0.1)  # the body
    image[22:24, 36:46] = 0.5 * np.float32((0.9, 0.3, 0.1)) + 0.5 * plate[22:24, 36:46]
    trimap = np.zeros((48, 64), np.uint8)
    trimap[14:34, 18:38] = 128
    trimap[17:31, 21:35] = 255
    trimap[40:44, 10:14] = 128  # a stray unknown patch of pure background
    return image, plate, trimap


def test_plate_refines_the_trimap_around_a_missed_strand():
    image, plate, trimap = _strand_frame()
    scale = np.full(image.shape, 0.01, np.float32)
    known = np.ones(trimap.shape, bool)
    refined = plate_trimap_refine(image, trimap, plate, known, scale, reach=12)
    assert (refined[22:24, 39:46] == 128).all()  # the strand is no longer background
    assert (refined[40:44, 10:14] == 0).all()  # what matches the plate is background
    assert (refined[trimap == 255] == 255).all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_plate_matte_keeps_the_per_frame_result_where_the_plate_is_unknown(seed):
    image, plate, trimap = _strand_frame()
    rng = np.random.default_rng(seed)
    alpha = np.where(trimap == 128, rng.uniform(0, 1, trimap.shape), trimap / 255.0)
    alpha = alpha.astype(np.float32)
    result = plate_matte(image, trimap, alpha, plate, np.zeros(trimap.shape, np.float32))
    assert result.coverage == 0.0
    np.testing.assert_array_equal(result.alpha, alpha)


def test_plate_matte_recovers_the_strand():
    image, plate, trimap = _strand_frame()
    alpha = (trimap == 255).astype(np.float32)
    result = plate_matte(image, trimap, alpha, plate, np.ones(trimap.shape, np.float32),
                         reach=12)
    assert result.coverage > 0.9
    assert np.abs(result.alpha[22:24, 37:45] - 0.5).max() < 0.15
    assert result.alpha[40:44, 10:14].max() < 0.05


def test_video_plate_end_to_end(clips, tmp_path):
    clip = clips["mp4"]
    pipeline = build_pipeline(trimap_method="given", matting="closed-form", foreground=None,
                              composite=None)
    keys = {0: clip.trimap}
    runs = {}
    for plate in (False, True):
        out = tmp_path / f"plate_{plate}"
        report = matte_video(clip.path, [f"png-alpha:{out}"], pipeline=pipeline,
                             keyframes=keys, progress=False,
                             temporal_options=TemporalOptions(radius=1, plate=plate))
        assert report.frames == 8
        runs[plate] = ([read_alpha(out / f"frame_{i:06d}.png") for i in range(8)], report)
    alphas, report = runs[True]
    assert len(report.plate_coverage) == 8 and max(report.plate_coverage) > 0.5
    assert runs[False][1].plate_coverage == []
    plain = video_metrics(runs[False][0], clip.alphas)["SAD"]
    assert video_metrics(alphas, clip.alphas)["SAD"] <= 1.05 * plain


def test_video_plate_flag_and_option_checks(clips, tmp_path, capsys):
    frames = tmp_path / "frames"
    code = main(["video", str(clips["mp4"].path), "-o", f"png-alpha:{frames}", "--trimap",
                 str(clips["mp4"].trimap), "--matting", "closed-form", "--video-plate",
                 "--radius", "1"])
    assert code == 0, capsys.readouterr().err
    assert len(list(frames.glob("frame_*.png"))) == 8
    assert TemporalOptions(plate=True, radius=1).delay == 3
    assert TemporalOptions(plate=True, mode="off").delay == 0
    with pytest.raises(InputError):
        TemporalOptions(plate=True, plate_lookahead=-1)
