"""A trimap source's soft map steadied along the flow (TemporalOptions.saliency_memory)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.api import build_pipeline
from trimatte.errors import InputError
from trimatte.io import read_alpha
from trimatte.metrics import video_metrics
from trimatte.pipeline import MatteState, Pipeline, Stage
from trimatte.trimap.saliency import trimap_from_saliency
from trimatte.video import TemporalOptions, matte_video
from trimatte.video.temporal import recursive_map

SQUARE = (slice(2, 12), slice(2, 12))  # a corner the subject never reaches


@dataclass(kw_only=True)
class FlickeringDetector(Stage):
    """A saliency detector that sees the subject (its true alpha) in every frame and,
    in the ``flicker`` frames only, a distractor square that the image does not change
    for. Like the ``salient`` source it reuses ``hints["saliency"]`` when given."""

    alphas: list = field(default_factory=list)
    flicker: tuple = (3,)
    calls: int = 0
    role = "trimap"

    def run(self, state: MatteState) -> MatteState:
        saliency = state.hints.get("saliency")
        if saliency is None:
            saliency = self.alphas[self.calls].copy()
            if self.calls in self.flicker:
                saliency[SQUARE] = 1.0
            self.calls += 1
        trimap = trimap_from_saliency(saliency, band=2)
        return state.replace(trimap=trimap, hints=dict(state.hints, saliency=saliency))


def run_clip(clip, folder, memory: float, spread: float | None = None) -> list[np.ndarray]:
    """Alphas of the clip with the flickering detector; ``spread`` None is the plain mean
    (smoothing around the median would drop the one-frame square by itself), and parts
    that move with the camera are kept (the square stands still in the scene, so
    ``drop_still`` would drop it by itself too; see test_still_parts.py)."""
    detector = FlickeringDetector(alphas=[a.copy() for a in clip.alphas])
    pipeline = Pipeline([detector, *build_pipeline(trimap_method="given", matting="closed-form",
                                                   foreground=None,
                                                   composite=None).stages[1:]])
    matte_video(clip.path, [f"png-alpha:{folder}"], pipeline=pipeline, progress=False,
                temporal_options=TemporalOptions(saliency_memory=memory, spread=spread,
                                                 drop_still=False))
    return [read_alpha(folder / f"frame_{i:06d}.png") for i in range(len(clip.alphas))]


def test_memory_ignores_a_one_frame_detection_and_keeps_the_subject(clips, tmp_path):
    clip = clips["mp4"]
    plain = run_clip(clip, tmp_path / "plain", memory=0.0)
    steady = run_clip(clip, tmp_path / "steady", memory=2.0)
    assert plain[3][SQUARE].mean() > 0.15  # the flicker reaches the output without memory
    assert steady[3][SQUARE].mean() < plain[3][SQUARE].mean() / 3
    assert video_metrics(steady, clip.alphas)["SAD"] <= 1.05 * video_metrics(
        plain, clip.alphas)["SAD"]


def test_smoothing_around_the_median_drops_a_one_frame_object(clips, tmp_path):
    clip = clips["mp4"]
    plain = run_clip(clip, tmp_path / "plain", memory=0.0)
    robust = run_clip(clip, tmp_path / "robust", memory=0.0, spread=0.3)
    assert robust[3][SQUARE].mean() < plain[3][SQUARE].mean() / 3
    assert video_metrics(robust, clip.alphas)["SAD"] <= video_metrics(plain, clip.alphas)["SAD"]


def test_saliency_memory_is_checked():
    with pytest.raises(InputError, match="saliency_memory"):
        TemporalOptions(saliency_memory=-1.0)


maps = st.floats(0.0, 1.0, width=32)


@settings(max_examples=30, deadline=None)
@given(a=maps, b=maps, trust=maps, memory=st.floats(0.0, 10.0))
def test_recursive_map_lies_between_the_two_maps(a, b, trust, memory):
    current = np.full((3, 4), a, np.float32)
    previous = np.full((3, 4), b, np.float32)
    out = recursive_map(current, previous, np.full((3, 4), trust, np.float32), memory)
    assert out.dtype == np.float32 and out.shape == (3, 4)
    assert np.all(out >= min(a, b) - 1e-6) and np.all(out <= max(a, b) + 1e-6)
    if trust == 0 or memory == 0:
        np.testing.assert_allclose(out, current, atol=1e-6)
    np.testing.assert_allclose(
        recursive_map(current, previous, np.ones((3, 4), np.float32), 1.0), (a + b) / 2,
        atol=1e-6)
