"""A trimap source's soft map steadied along the flow (TemporalOptions.saliency_memory)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.video.conftest import SQUARE, square_pipeline
from trimatte.errors import InputError
from trimatte.io import read_alpha
from trimatte.metrics import video_metrics
from trimatte.video import TemporalOptions, matte_video
from trimatte.video.temporal import recursive_map


def run_clip(clip, folder, memory: float, spread: float | None = None) -> list[np.ndarray]:
    """Alphas of the clip with the square detector (the square in frame 3 only);
    ``spread`` None is the plain mean (smoothing around the median would drop the
    one-frame square by itself), and parts that move with the camera are kept (the
    square stands still in the scene, so ``drop_still`` would drop it by itself too;
    see test_still_parts.py)."""
    matte_video(clip.path, [f"png-alpha:{folder}"], pipeline=square_pipeline(clip),
                progress=False,
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
