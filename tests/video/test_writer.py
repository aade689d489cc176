"""Encoding outputs: kinds and containers, alpha that survives, audio, timestamps."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from trimatte.errors import InputError
from trimatte.video.writer import OutputSpec, VideoWriter, parse_output


@pytest.mark.parametrize(
    ("text", "kind"),
    [("a.mov", "rgba"), ("a.webm", "rgba"), ("a.mp4", "alpha"), ("a.mkv", "alpha"),
     ("frames", "png"), ("png-alpha:frames", "png-alpha"), ("composite:c.mp4", "composite"),
     ("rgba:x.mkv", "rgba")],
)
def test_parse_output_kinds(text, kind):
    assert parse_output(text).kind == kind


@pytest.mark.parametrize("text", ["a.gif", "rgba:a.mp4", "png:a.mov"])
def test_parse_output_rejects(text):
    with pytest.raises(InputError, match=text.split(":")[-1]):
        parse_output(text)


def _ramp(width: int, height: int) -> np.ndarray:
    return np.tile(np.linspace(0, 1, width, dtype=np.float32), (height, 1))


def _decode_alpha(path, decoder=None):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if decoder:
            context = av.CodecContext.create(decoder, "r")
            frames = [f for p in container.demux(stream) for f in context.decode(p)]
        else:
            frames = list(container.decode(stream))
        return [(f.format.name, f.to_ndarray(format="rgba")[..., 3], f.time) for f in frames]


@pytest.mark.parametrize(("suffix", "decoder"), [(".mov", None), (".webm", "libvpx-vp9"),
                                                  (".mkv", None)])
def test_video_with_alpha_keeps_the_alpha(tmp_path, suffix, decoder):
    width, height = 33, 17  # odd sizes
    alpha = _ramp(width, height)
    fg = np.full((height, width, 3), 0.5, np.float32)
    path = tmp_path / f"out{suffix}"
    writer = VideoWriter(OutputSpec("rgba", path), width, height, Fraction(25))
    times = [0.0, 0.04, 0.1]
    for t in times:
        writer.write(t, alpha, fg)
    assert writer.close() == path and not list(tmp_path.glob(".*part"))
    decoded = _decode_alpha(path, decoder)
    assert len(decoded) == 3
    for pix_fmt, a, _when in decoded:
        assert "a" in pix_fmt.replace("yuv", "")  # yuva444p12le, yuva420p, bgra
        tolerance = 1 if suffix != ".webm" else 6
        assert np.abs(a.astype(int) - np.rint(alpha * 255)).max() <= tolerance
    assert [d[2] for d in decoded] == pytest.approx(times, abs=1e-3)


def test_alpha_video_and_audio_copy(tmp_path, clips):
    clip = clips["mp4"]
    height, width = clip.images[0].shape[:2]
    path = tmp_path / "matte.mp4"
    writer = VideoWriter(OutputSpec("alpha", path), width, height, Fraction(25), clip.path)
    for i, a in enumerate(clip.alphas):
        writer.write(i / 25, a)
    writer.close()
    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].codec_context.name == "aac"
        frames = list(container.decode(video=0))
    assert len(frames) == len(clip.alphas)
    gray = frames[2].to_ndarray(format="gray").astype(float) / 255
    assert np.abs(gray - clip.alphas[2]).mean() < 0.02


def test_audio_is_reencoded_when_the_container_cannot_hold_it(tmp_path, clips):
    clip = clips["mp4"]  # AAC audio, which WebM cannot hold
    height, width = clip.images[0].shape[:2]
    path = tmp_path / "out.webm"
    writer = VideoWriter(OutputSpec("rgba", path), width, height, Fraction(25), clip.path)
    for i, a in enumerate(clip.alphas):
        writer.write(i / 25, a, clip.images[i] / 255.0)
    writer.close()
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"


def test_abort_leaves_nothing(tmp_path):
    path = tmp_path / "gone.mov"
    writer = VideoWriter(OutputSpec("rgba", path), 16, 16, Fraction(25))
    writer.write(0.0, np.zeros((16, 16), np.float32), np.zeros((16, 16, 3), np.float32))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
