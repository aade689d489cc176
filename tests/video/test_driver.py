"""matte_video end to end on tiny clips: outputs, timestamps, missing subjects, Ctrl-C, resume."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import av
import numpy as np
import pytest

from trimatte.api import build_pipeline
from trimatte.errors import InputError, TrimatteWarning
from trimatte.image import FOREGROUND, UNKNOWN
from trimatte.io import read_alpha, read_trimap, write_trimap
from trimatte.metrics import video_metrics
from trimatte.pipeline import MatteState, Pipeline, Stage
from trimatte.stages import GivenTrimap
from trimatte.trimap.morphology import trimap_from_alpha
from trimatte.video import TemporalOptions, VideoInterrupted, matte_video


def cheap_pipeline() -> Pipeline:
    return build_pipeline(trimap_method="given", matting="closed-form", foreground=None,
                          composite=None)


def png_alphas(folder, count):
    return [read_alpha(folder / f"frame_{i:06d}.png") for i in range(count)]


def test_keyframe_run_writes_every_output(clips, tmp_path):
    clip = clips["mp4"]
    outputs = [tmp_path / "out.mov", f"png-alpha:{tmp_path / 'alpha'}",
               f"alpha:{tmp_path / 'matte.mp4'}", f"composite:{tmp_path / 'comp.webm'}"]
    report = matte_video(clip.path, outputs, pipeline=cheap_pipeline(),
                         keyframes={0: clip.trimap}, background="blue", progress=False)
    assert report.frames == 8 and not report.interrupted and not report.empty_frames
    assert len(report.confidence) == 8 and all(0 <= c <= 1 for c in report.confidence)
    pngs = png_alphas(tmp_path / "alpha", 8)
    assert video_metrics(pngs, clip.alphas)["SAD"] < 0.15  # losing the subject: ~0.4
    with av.open(str(tmp_path / "out.mov")) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        stream = container.streams.video[0]
        assert stream.codec_context.name == "prores"
        assert stream.codec_context.pix_fmt.startswith("yuva")  # what ffprobe reports
        frames = list(container.decode(stream))
    assert len(frames) == 8
    for frame, png in zip(frames, pngs, strict=True):
        mov_alpha = frame.to_ndarray(format="rgba")[..., 3].astype(int)
        assert np.abs(mov_alpha - np.rint(png * 255)).max() <= 1
    assert (tmp_path / "matte.mp4").is_file() and (tmp_path / "comp.webm").is_file()
    assert not list(tmp_path.glob(".*.part"))


def test_variable_frame_rate_and_odd_size_are_kept(clips, tmp_path):
    clip = clips["mkv"]
    out = tmp_path / "out.mkv"
    matte_video(clip.path, [f"rgba:{out}"], pipeline=cheap_pipeline(),
                keyframes={0: clip.trimap}, progress=False)
    with av.open(str(out)) as container:
        frames = list(container.decode(video=0))
        assert container.streams.audio
    assert (frames[0].width, frames[0].height) == (65, 49)
    assert [float(f.time) for f in frames] == pytest.approx(clip.times, abs=2e-3)


def test_frames_without_subject_get_empty_alpha_and_a_warning(clips, tmp_path):
    clip = clips["absent"]  # subject out of the picture in frames 3 and 4
    later = write_trimap(tmp_path / "key5.png", trimap_from_alpha(clip.alphas[5], 3))
    with pytest.warns(TrimatteWarning, match="frames 3-4: no subject"):
        report = matte_video(clip.path, [f"png-alpha:{tmp_path / 'a'}"],
                             pipeline=cheap_pipeline(),
                             keyframes={0: clip.trimap, 5: later}, progress=False)
    assert report.empty_frames == [3, 4]
    alphas = png_alphas(tmp_path / "a", 7)
    assert alphas[3].max() == 0 and alphas[4].max() == 0
    assert alphas[2].max() > 0.9 and alphas[6].max() > 0.9


@dataclass(kw_only=True)
class InterruptAt(Stage):
    """Raises KeyboardInterrupt on its n-th call, like a user's Ctrl-C mid-run."""

    calls: int = 3
    role = "trimap_refine"

    def run(self, state: MatteState) -> MatteState:
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return state


def test_ctrl_c_leaves_a_playable_partial_video(clips, tmp_path):
    clip = clips["mp4"]
    pipeline = Pipeline([GivenTrimap(), InterruptAt(calls=5), *cheap_pipeline().stages[1:]])
    out = tmp_path / "out.mov"
    with pytest.raises(VideoInterrupted) as caught:
        matte_video(clip.path, [out, tmp_path / "out.webm"], pipeline=pipeline,
                    keyframes={0: clip.trimap}, progress=False)
    report = caught.value.report
    assert report.interrupted and 1 <= report.frames < 8
    for path in (out, tmp_path / "out.webm"):
        with av.open(str(path)) as container:
            assert len(list(container.decode(video=0))) == report.frames
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mov", "out.webm"]


def test_resume_continues_an_interrupted_png_sequence(clips, tmp_path):
    clip = clips["mp4"]
    folder = tmp_path / "frames"

    def stop_at_five(index):
        if index == 5:
            raise KeyboardInterrupt

    with pytest.raises(VideoInterrupted) as caught:
        matte_video(clip.path, [folder], pipeline=cheap_pipeline(), keyframes={0: clip.trimap},
                    progress=False, on_frame=stop_at_five)
    done = caught.value.report.frames
    assert done == len(list(folder.glob("frame_*.png"))) and 1 <= done < 8
    with pytest.raises(InputError, match="--resume"):
        matte_video(clip.path, [folder], pipeline=cheap_pipeline(), keyframes={0: clip.trimap},
                    progress=False)
    with pytest.raises(InputError, match="different job"):
        matte_video(clip.path, [folder], pipeline=cheap_pipeline(), keyframes={0: clip.trimap},
                    temporal_options=TemporalOptions(radius=1), resume=True, progress=False)
    report = matte_video(clip.path, [folder], pipeline=cheap_pipeline(),
                         keyframes={0: clip.trimap}, resume=True, progress=False)
    assert report.frames == 8 - done
    rgba = png_alphas(folder, 8)
    assert video_metrics(rgba, clip.alphas)["SAD"] < 0.15


def test_checks_before_work(clips, tmp_path):
    clip = clips["mp4"]
    with pytest.raises(InputError, match="overwrite the input"):
        matte_video(clip.path, [f"alpha:{clip.path}"], pipeline=cheap_pipeline(),
                    keyframes={0: clip.trimap}, progress=False)
    with pytest.raises(InputError, match="frame 0 needs one"):
        matte_video(clip.path, [tmp_path / "o.mov"], pipeline=cheap_pipeline(), progress=False)
    with pytest.raises(InputError, match="PNG-sequence outputs only"):
        matte_video(clip.path, [tmp_path / "o.mov"], pipeline=cheap_pipeline(),
                    keyframes={0: clip.trimap}, resume=True, progress=False)
    wrong = write_trimap(tmp_path / "small.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match=r"small\.png"):
        matte_video(clip.path, [tmp_path / "o.mov"], pipeline=cheap_pipeline(),
                    keyframes={0: wrong}, progress=False)
    assert not (tmp_path / "o.mov").exists()


@dataclass(kw_only=True)
class FlickeringAlpha(Stage):
    """Alpha that is right in the known regions and random noise in the band."""

    seed: int = 0
    role = "alpha"

    def run(self, state: MatteState) -> MatteState:
        rng = np.random.default_rng(self.seed)
        self.seed += 1
        alpha = (state.trimap == FOREGROUND).astype(np.float32)
        band = state.trimap == UNKNOWN
        alpha[band] = np.clip(rng.normal(0.5, 0.3, int(band.sum())), 0, 1)
        return state.replace(alpha=alpha)


def test_temporal_smoothing_removes_flicker(clips, tmp_path):
    clip = clips["mp4"]
    key = read_trimap(clip.trimap)
    scores = {}
    for mode in ("off", "flow"):
        pipeline = Pipeline([GivenTrimap(), FlickeringAlpha()])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrimatteWarning)
            matte_video(clip.path, [f"png-alpha:{tmp_path / mode}"], pipeline=pipeline,
                        keyframes={0: key}, temporal_options=TemporalOptions(mode=mode),
                        progress=False)
        scores[mode] = video_metrics(png_alphas(tmp_path / mode, 8), clip.alphas)
    assert scores["flow"]["dtSSD"] < 0.8 * scores["off"]["dtSSD"]
    assert scores["flow"]["SAD"] < scores["off"]["SAD"]


@dataclass(kw_only=True)
class DoubtfulSource(Stage):
    """A trimap source that finds the subject but doubts it on some frames."""

    trimaps: list
    doubted: tuple[int, ...] = ()
    role = "trimap"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.calls = 0

    def run(self, state: MatteState) -> MatteState:
        from trimatte.trimap.confidence import Confidence

        index = self.calls
        self.calls += 1
        score = 0.2 if index in self.doubted else 0.9
        flags = ("second object",) if index in self.doubted else ()
        return state.replace(trimap=self.trimaps[index], confidence=Confidence(score, flags))


def test_frames_whose_subject_the_source_doubts_are_reported_and_warned(clips, tmp_path):
    clip = clips["mp4"]
    source = DoubtfulSource(trimaps=[trimap_from_alpha(a, 3) for a in clip.alphas],
                            doubted=(2, 3, 6))
    pipeline = Pipeline([source, *cheap_pipeline().stages[1:]])
    with pytest.warns(TrimatteWarning) as caught:
        report = matte_video(clip.path, [f"png-alpha:{tmp_path / 'a'}"], pipeline=pipeline,
                             temporal_options=TemporalOptions(mode="off"), progress=False)
    scores = [c.score for c in report.subject_confidence]
    assert scores == [0.9, 0.9, 0.2, 0.2, 0.9, 0.9, 0.2, 0.9]
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("frames 2-3: the subject is probably wrong (second object")
               for m in messages)
    assert any(m.startswith("frame 6: the subject is probably wrong") for m in messages)
    assert not any("frame 0" in m or "frames 0" in m for m in messages)


def test_keyframed_frames_have_no_subject_confidence(clips, tmp_path):
    clip = clips["mp4"]
    report = matte_video(clip.path, [f"png-alpha:{tmp_path / 'a'}"], pipeline=cheap_pipeline(),
                         keyframes={0: clip.trimap}, progress=False)
    assert report.subject_confidence == [None] * 8
