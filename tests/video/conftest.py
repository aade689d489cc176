"""Small synthetic clips with exact ground truth, made once per test session."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from trimatte.api import build_pipeline
from trimatte.io import write_trimap
from trimatte.pipeline import MatteState, Pipeline, Stage
from trimatte.trimap.confidence import Confidence
from trimatte.trimap.morphology import trimap_from_alpha
from trimatte.trimap.saliency import trimap_from_saliency
from trimatte.video.synthetic import ClipSpec, synthetic_clip, write_clip

pytest.importorskip("av", reason="trimatte video needs PyAV (pip install av)")

SQUARE = (slice(2, 12), slice(2, 12))  # a corner of the small clips the subject never reaches


@dataclass(kw_only=True)
class SquareDetector(Stage):
    """A saliency source that sees the subject (its true alpha) in every frame and, in
    the ``flicker`` frames (None: all), a square that the image does not change for (so
    it moves with the camera, like the background). With ``scored``, its confidence is
    low while its map holds the square. Like ``salient``, it reuses ``hints["saliency"]``
    when given."""

    alphas: list = field(default_factory=list)
    flicker: tuple | None = (3,)
    scored: bool = False
    calls: int = 0
    role = "trimap"

    def run(self, state: MatteState) -> MatteState:
        saliency = state.hints.get("saliency")
        if saliency is None:
            saliency = self.alphas[self.calls].copy()
            if self.flicker is None or self.calls in self.flicker:
                saliency[SQUARE] = 1.0
            self.calls += 1
        confidence = None
        if self.scored:
            holds = saliency[SQUARE].mean() > 0.5
            confidence = Confidence(0.2, ("second object",)) if holds else Confidence(0.9)
        return state.replace(trimap=trimap_from_saliency(saliency, band=2),
                             hints=dict(state.hints, saliency=saliency), confidence=confidence)


def square_pipeline(clip: Clip, **detector) -> Pipeline:
    """:class:`SquareDetector` on the clip's true alphas, then closed-form matting."""
    stages = build_pipeline(trimap_method="given", matting="closed-form", foreground=None,
                            composite=None).stages[1:]
    return Pipeline([SquareDetector(alphas=[a.copy() for a in clip.alphas], **detector),
                     *stages])


@dataclass
class Clip:
    path: Path
    alphas: list[np.ndarray]
    images: list[np.ndarray]
    trimap: Path
    times: list[float]


def make(folder: Path, name: str, spec: ClipSpec, times=None, tone=True) -> Clip:
    frames = list(synthetic_clip(spec))
    images = [f.image for f in frames]
    alphas = [f.alpha for f in frames]
    path = write_clip(folder / name, images, fps=25, times=times,
                      tone_hz=440.0 if tone else None, crf=10)
    trimap = write_trimap(folder / f"{Path(name).stem}_trimap.png", trimap_from_alpha(alphas[0], 3))
    return Clip(path, alphas, images, trimap, list(times or [i / 25 for i in range(len(images))]))


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Clip]:
    """mp4 (64x48, audio), mkv (65x49 odd size, variable frame rate, audio), webm,
    and an mp4 whose subject leaves the picture in frames 3-4."""
    folder = tmp_path_factory.mktemp("clips")
    spec = ClipSpec(width=64, height=48, frames=8, noise=0.01, period=24, seed=1)
    vfr_times = [0.0, 0.03, 0.08, 0.12, 0.19, 0.22, 0.30, 0.34]
    return {
        "mp4": make(folder, "clip.mp4", spec),
        "mkv": make(folder, "odd_vfr.mkv", ClipSpec(width=65, height=49, frames=8, noise=0.01,
                                                     period=24, seed=2), times=vfr_times),
        "webm": make(folder, "clip.webm", spec, tone=False),
        "absent": make(folder, "absent.mp4", ClipSpec(width=64, height=48, frames=7, noise=0.01,
                                                       period=24, absent=(3, 4), seed=3)),
    }
