"""Decoding clips: containers, variable frame rates, odd sizes, damaged files, folders."""

from __future__ import annotations

import numpy as np
import pytest

from trimatte.errors import InputError, TrimatteWarning
from trimatte.io import write_image
from trimatte.video import open_source


@pytest.mark.parametrize("name", ["mp4", "mkv", "webm"])
def test_decodes_every_frame_with_size_and_audio(clips, name):
    clip = clips[name]
    with open_source(clip.path) as source:
        info = source.info
        frames = list(source)
    height, width = clip.images[0].shape[:2]
    assert (info.width, info.height) == (width, height)
    assert info.has_audio == (name != "webm")
    assert [f.index for f in frames] == list(range(len(clip.images)))
    for frame, original in zip(frames, clip.images, strict=True):
        assert frame.image.dtype == np.float32 and frame.image.shape == (height, width, 3)
        # lossy but close to what was encoded
        assert np.abs(frame.image * 255 - original).mean() < 12


def test_variable_frame_rate_keeps_timestamps(clips):
    clip = clips["mkv"]
    with open_source(clip.path) as source:
        times = [f.time for f in source]
    assert times == pytest.approx(clip.times, abs=2e-3)


def test_truncated_matroska_gives_the_frames_before_the_cut(clips, tmp_path):
    data = clips["mkv"].path.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.warns(TrimatteWarning, match="ends early"), open_source(cut) as source:
        frames = list(source)
    assert 1 <= len(frames) < len(clips["mkv"].images)


def test_truncated_mp4_without_index_is_a_clear_error(clips, tmp_path):
    data = clips["mp4"].path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.mp4"):
        with open_source(cut) as source:
            list(source)


def test_not_a_video(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("hello")
    with pytest.raises(InputError, match="not a readable video"):
        open_source(bad)
    with pytest.raises(InputError, match="file not found"):
        open_source(tmp_path / "missing.mov")


def test_folder_of_frames(tmp_path, clips):
    for i, image in enumerate(clips["mp4"].images[:3]):
        write_image(tmp_path / f"f{i:03d}.png", image / 255.0)
    with open_source(tmp_path, fps=10) as source:
        frames = list(source)
    assert source.info.is_folder and source.info.frames == 3
    assert [f.time for f in frames] == pytest.approx([0.0, 0.1, 0.2])
    write_image(tmp_path / "f999.png", np.zeros((5, 5, 3), np.float32))
    with pytest.raises(InputError, match=r"f999\.png"):
        list(open_source(tmp_path))


def test_shipped_example_clip():
    from tests.conftest import REPO

    clip = REPO / "examples" / "data" / "clip.mp4"
    assert clip.stat().st_size < 300_000
    with open_source(clip) as source:
        assert (source.info.width, source.info.height, source.info.has_audio) == (256, 192, True)
        assert sum(1 for _ in source) == 24
