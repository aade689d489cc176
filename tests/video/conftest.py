"""Small synthetic clips with exact ground truth, made once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from trimatte.io import write_trimap
from trimatte.trimap.morphology import trimap_from_alpha
from trimatte.video.synthetic import ClipSpec, synthetic_clip, write_clip

pytest.importorskip("av", reason="trimatte video needs PyAV (pip install av)")


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
