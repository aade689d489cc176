"""Colour edges rebuilt from the luma after 4:2:0 / 4:2:2 decoding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.errors import InputError
from trimatte.video import open_source
from trimatte.video.chroma import chroma_subsampling, restore_chroma
from trimatte.video.synthetic import write_clip


def subsample(image: np.ndarray, fx: int = 2, fy: int = 2) -> np.ndarray:
    """What a 4:2:0 codec does to colour: chroma averaged 2x2, stretched back smoothly."""
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    h, w = image.shape[:2]
    for c in (1, 2):
        small = cv2.resize(ycc[..., c], (w // fx, h // fy), interpolation=cv2.INTER_AREA)
        ycc[..., c] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), 0, 1)


def disc_scene(size: int = 64) -> np.ndarray:
    """A brown disc on green: the two differ in colour more than in brightness."""
    image = np.empty((size, size, 3), np.float32)
    image[:] = (0.25, 0.55, 0.2)
    yy, xx = np.mgrid[:size, :size]
    inside = (yy - size / 2 + 0.3) ** 2 + (xx - size / 2 + 0.7) ** 2 < (size / 3.3) ** 2
    image[inside] = (0.7, 0.45, 0.3)
    return image


def edge_error(image: np.ndarray, reference: np.ndarray) -> float:
    edge = cv2.morphologyEx(cv2.Canny((reference * 255).astype(np.uint8), 20, 60),
                            cv2.MORPH_DILATE, np.ones((3, 3), np.uint8)) > 0
    return float(np.abs(image - reference)[edge].mean())


def test_sharpens_colour_edges_that_follow_brightness():
    scene = disc_scene()
    blurred = subsample(scene)
    restored = restore_chroma(blurred)
    assert edge_error(restored, scene) < 0.5 * edge_error(blurred, scene)
    assert restored.dtype == np.float32 and restored.shape == scene.shape


def test_keeps_the_luma():
    blurred = subsample(disc_scene())
    luma = cv2.cvtColor(blurred, cv2.COLOR_RGB2YCrCb)[..., 0]
    restored_luma = cv2.cvtColor(restore_chroma(blurred), cv2.COLOR_RGB2YCrCb)[..., 0]
    inside = (slice(2, -2), slice(2, -2))  # away from clipping at the frame's border
    assert np.abs(restored_luma - luma)[inside].max() < 2e-3


@settings(max_examples=20, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.floats(0.05, 0.95),
       st.integers(8, 40), st.integers(8, 40))
def test_flat_colour_is_unchanged(r, g, b, h, w):
    image = np.empty((h, w, 3), np.float32)
    image[:] = (r, g, b)
    assert np.allclose(restore_chroma(image), image, atol=2e-3)


def test_no_subsampling_returns_a_copy():
    image = disc_scene(16)
    out = restore_chroma(image, (1, 1))
    assert out is not image and np.array_equal(out, image)


def test_bad_arguments():
    with pytest.raises(ValueError, match="radius"):
        restore_chroma(disc_scene(16), radius=0)
    with pytest.raises(InputError):
        restore_chroma(np.zeros((8, 8, 5), np.float32))


@pytest.mark.parametrize("name, factors", [("yuv420p", (2, 2)), ("nv12", (2, 2)),
                                           ("yuv422p10le", (2, 1)), ("yuv444p", (1, 1)),
                                           ("rgb24", (1, 1)), ("gray", (1, 1)),
                                           ("not-a-format", (1, 1))])
def test_chroma_subsampling_of_pixel_formats(name, factors):
    assert chroma_subsampling(name) == factors


def test_reader_restores_the_colour_of_a_420_file(tmp_path):
    scene = disc_scene(96)
    frames = [np.clip(np.rint(np.roll(scene, k, axis=1) * 255), 0, 255).astype(np.uint8)
              for k in range(3)]
    path = write_clip(tmp_path / "disc.mp4", frames, fps=25, tone_hz=None, crf=4)
    with open_source(path) as source:
        restored = [f.image for f in source]
    with open_source(path, restore_chroma=False) as source:
        decoded = [f.image for f in source]
    for frame, sharp, plain in zip(frames, restored, decoded, strict=True):
        truth = frame.astype(np.float32) / 255
        assert edge_error(sharp, truth) < 0.75 * edge_error(plain, truth)
