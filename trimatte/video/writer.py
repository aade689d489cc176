"""Writing matting results of a clip: videos (PyAV) and PNG sequences.

Output kinds (:data:`OUTPUT_KINDS`):

=============  ===========================================================  ===============
kind           what                                                         containers
=============  ===========================================================  ===============
``rgba``       foreground colours with alpha                                .mov (ProRes 4444,
                                                                            yuva444p10le),
                                                                            .webm (VP9,
                                                                            yuva420p), .mkv
                                                                            (FFV1, bgra)
``alpha``      the matte as a gray video                                    .mp4/.mov (H.264),
                                                                            .mkv (FFV1 gray),
                                                                            .webm (VP9)
``composite``  subject over a colour, an image or another video             .mp4/.mov/.mkv
                                                                            (H.264), .webm
``png``        RGBA PNG per frame, ``frame_000000.png``...                  a folder
``png-alpha``  alpha-only PNG per frame                                     a folder
=============  ===========================================================  ===============

A video is written to a hidden temporary file beside the target and renamed over it
only once the container is finalised, so a reader never sees a half-written file. On
Ctrl-C the encoder is flushed and the container closed before the rename: the partial
output plays. On any other failure the temporary file is removed. The audio track of
the input is copied (remuxed, or re-encoded when the container cannot hold its codec).
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from trimatte.errors import InputError, TrimatteWarning
from trimatte.image import to_uint8
from trimatte.io import write_alpha, write_rgba

__all__ = [
    "OUTPUT_KINDS",
    "OutputSpec",
    "PngSequenceWriter",
    "VideoWriter",
    "parse_output",
]

log = logging.getLogger(__name__)

OUTPUT_KINDS = ("rgba", "alpha", "composite", "png", "png-alpha")
VIDEO_SUFFIXES = (".mov", ".webm", ".mkv", ".mp4")
#: Kind of an output given without ``KIND:`` prefix, by suffix ("" for a folder).
DEFAULT_KIND = {".mov": "rgba", ".webm": "rgba", ".mkv": "alpha", ".mp4": "alpha", "": "png"}
#: libx264 options that make the same frames encode to the same bytes in every process.
#: With its macroblock-tree rate control on (the default), PyAV's libx264 gave different
#: bytes from one process to the next for the same 24 frames, one thread or many.
X264_REPRODUCIBLE = {"x264-params": "mbtree=0"}
_X264_ALPHA = {"crf": "12", "preset": "medium", **X264_REPRODUCIBLE}
_X264_COMPOSITE = {"crf": "18", "preset": "medium", **X264_REPRODUCIBLE}
#: (kind, suffix) → (codec, pixel format, codec options).
ENCODERS: dict[tuple[str, str], tuple[str, str, dict[str, str]]] = {
    # one thread: multi-threaded prores_ks corrupted whole alpha rows in about 1 encode
    # in 5 (tests/video/test_writer.py, 33x17 frames); 0 in 48 with threads=1
    ("rgba", ".mov"): ("prores_ks", "yuva444p10le", {"profile": "4444", "threads": "1"}),
    ("rgba", ".webm"): ("libvpx-vp9", "yuva420p", {"crf": "18", "b": "0", "row-mt": "1"}),
    ("rgba", ".mkv"): ("ffv1", "bgra", {}),
    ("alpha", ".mp4"): ("libx264", "yuv420p", _X264_ALPHA),
    ("alpha", ".mov"): ("libx264", "yuv420p", _X264_ALPHA),
    ("alpha", ".mkv"): ("ffv1", "gray", {}),
    ("alpha", ".webm"): ("libvpx-vp9", "yuv420p", {"crf": "18", "b": "0", "row-mt": "1"}),
    ("composite", ".mp4"): ("libx264", "yuv420p", _X264_COMPOSITE),
    ("composite", ".mov"): ("libx264", "yuv420p", _X264_COMPOSITE),
    ("composite", ".mkv"): ("libx264", "yuv420p", _X264_COMPOSITE),
    ("composite", ".webm"): ("libvpx-vp9", "yuv420p", {"crf": "24", "b": "0", "row-mt": "1"}),
}
#: Audio codecs each container takes as they are; others are re-encoded to the value.
AUDIO_COPY = {
    ".webm": ({"opus", "vorbis"}, "libopus"),
    ".mov": ({"aac", "mp3", "alac", "ac3", "pcm_s16le", "pcm_s24le", "pcm_f32le"}, "aac"),
    ".mp4": ({"aac", "mp3", "alac", "ac3", "opus", "flac"}, "aac"),
    ".mkv": (None, "libopus"),
}
FORMATS = {".mov": "mov", ".webm": "webm", ".mkv": "matroska", ".mp4": "mp4"}
FRAME_PATTERN = "frame_{:06d}.png"
_FRAME_RE = re.compile(r"^frame_(\d{6})\.png$")
MANIFEST = "trimatte-video.json"
TIME_BASE = Fraction(1, 90000)


@dataclass(frozen=True)
class OutputSpec:
    """One requested output: its kind and path."""

    kind: str
    path: Path

    @property
    def is_video(self) -> bool:
        return self.kind in ("rgba", "alpha", "composite")

    @property
    def needs_colour(self) -> bool:
        """Needs foreground colours (not just the alpha)."""
        return self.kind in ("rgba", "composite", "png")


def parse_output(text: str | os.PathLike | OutputSpec) -> OutputSpec:
    """``"out.mov"``, ``"png-alpha:frames/"`` or ``"composite:over.mp4"`` → OutputSpec.

    Without a ``KIND:`` prefix the kind follows the suffix: .mov/.webm → rgba,
    .mp4/.mkv → alpha, no suffix (a folder) → png.

    Raises:
        InputError: Unknown kind, or a kind the container cannot hold.
    """
    if isinstance(text, OutputSpec):
        return text
    raw = os.fspath(text)
    kind, sep, rest = raw.partition(":")
    if sep and kind in OUTPUT_KINDS:
        path = Path(rest)
    else:
        kind, path = "", Path(raw)
    suffix = path.suffix.lower()
    if not kind:
        if suffix not in DEFAULT_KIND:
            raise InputError(
                f"unknown output type {suffix!r}; use .mov/.webm (video with alpha), "
                ".mp4/.mkv (alpha video), a folder (PNG sequence) or a KIND: prefix "
                f"({', '.join(OUTPUT_KINDS)})",
                raw,
            )
        kind = DEFAULT_KIND[suffix]
    if kind in ("png", "png-alpha"):
        if suffix in VIDEO_SUFFIXES:
            raise InputError(f"a {kind} output is a folder, not a {suffix} file", raw)
    elif (kind, suffix) not in ENCODERS:
        allowed = sorted(s for k, s in ENCODERS if k == kind)
        raise InputError(f"a {kind} video needs one of {', '.join(allowed)}", raw)
    return OutputSpec(kind, path)


# ----------------------------------------------------------------------------- audio


class _AudioCopy:
    """Copies the input's first audio stream into an output container, interleaved."""

    def __init__(self, source: Path, container, suffix: str) -> None:
        import av

        self.input = av.open(str(source), "r")
        self.in_stream = self.input.streams.audio[0]
        codec = self.in_stream.codec_context.name
        allowed, fallback = AUDIO_COPY[suffix]
        self.copy = allowed is None or codec in allowed
        if self.copy:
            self.out_stream = container.add_stream_from_template(self.in_stream)
        else:
            rate = 48000 if fallback == "libopus" else (self.in_stream.rate or 48000)
            self.out_stream = container.add_stream(fallback, rate=rate)
            layout = self.in_stream.layout.name if self.in_stream.layout else "stereo"
            self.out_stream.layout = layout if self.in_stream.channels <= 2 else "stereo"
            log.info("audio %s re-encoded to %s for %s", codec, fallback, suffix)
        self.container = container
        self.packets = self.input.demux(self.in_stream)
        self.pending = None
        self.done = False

    def _next(self):
        import av

        while not self.done:
            try:
                packet = next(self.packets)
            except (StopIteration, av.FFmpegError):
                self.done = True
                return None
            if packet.dts is None and packet.pts is None:
                continue
            return packet
        return None

    def _emit(self, packet) -> None:
        if self.copy:
            packet.stream = self.out_stream
            self.container.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for out in self.out_stream.encode(frame):
                self.container.mux(out)

    def advance(self, until: float | None) -> None:
        """Mux audio packets that start before ``until`` seconds (all when None)."""
        while True:
            packet = self.pending or self._next()
            self.pending = None
            if packet is None:
                return
            start = float((packet.pts if packet.pts is not None else packet.dts)
                          * packet.time_base)
            if until is not None and start >= until:
                self.pending = packet
                return
            self._emit(packet)

    def finish(self, until: float | None) -> None:
        self.advance(until)
        if not self.copy:
            for out in self.out_stream.encode(None):
                self.container.mux(out)
        self.input.close()


# ----------------------------------------------------------------------------- video


class VideoWriter:
    """Encodes frames of one kind into a video file (see the module table).

    Args:
        spec: Output kind and path.
        width, height: Frame size.
        rate: Nominal frame rate (timestamps come from the frames).
        audio_from: Input file whose audio is copied, or None.
    """

    def __init__(self, spec: OutputSpec, width: int, height: int, rate: Fraction,
                 audio_from: Path | None = None) -> None:
        import av

        self.spec = spec
        suffix = spec.path.suffix.lower()
        codec, pix_fmt, options = ENCODERS[(spec.kind, suffix)]
        if pix_fmt == "yuv420p" and codec == "libx264" and (width % 2 or height % 2):
            pix_fmt = "yuv444p"  # 4:2:0 H.264 needs even sizes
        spec.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = spec.path.with_name(f".{spec.path.name}.{os.getpid()}.part")
        self.container = av.open(str(self.tmp), "w", format=FORMATS[suffix])
        try:
            self.stream = self.container.add_stream(codec, rate=rate, options=dict(options))
            self.stream.width, self.stream.height = width, height
            self.stream.pix_fmt = pix_fmt
            self.stream.codec_context.time_base = TIME_BASE
            self.stream.time_base = TIME_BASE
            self.audio = _AudioCopy(audio_from, self.container, suffix) if audio_from else None
        except BaseException:
            self.container.close()
            self.tmp.unlink(missing_ok=True)
            raise
        self.frames = 0
        self.last_pts = -1
        self.last_time = 0.0
        self.frame_duration = float(1 / rate) if rate else 0.04

    def write(self, time: float, alpha: np.ndarray, foreground: np.ndarray | None = None,
              composite: np.ndarray | None = None) -> None:
        """Encode one frame (float32 arrays in the image convention)."""
        import av

        if self.spec.kind == "alpha":
            frame = av.VideoFrame.from_ndarray(to_uint8(alpha), format="gray")
        elif self.spec.kind == "rgba":
            rgba = np.dstack([to_uint8(foreground), to_uint8(alpha)])
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba), format="rgba")
        else:
            frame = av.VideoFrame.from_ndarray(to_uint8(composite), format="rgb24")
        pts = max(round(time / TIME_BASE), self.last_pts + 1)
        frame.pts, frame.time_base = pts, TIME_BASE
        self.last_pts, self.last_time = pts, time
        if self.audio is not None:
            self.audio.advance(time + 0.5)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self, partial: bool = False) -> Path | None:
        """Flush, finalise and rename into place; returns the path (None if no frame).

        Args:
            partial: The run was interrupted: audio stops where the video stops.
        """
        if self.frames == 0:
            self.abort()
            return None
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        if self.audio is not None:
            self.audio.finish(self.last_time + self.frame_duration if partial else None)
        self.container.close()
        os.replace(self.tmp, self.spec.path)
        return self.spec.path

    def abort(self) -> None:
        """Drop the output: close and remove the temporary file."""
        try:
            if self.audio is not None:
                self.audio.input.close()
            self.container.close()
        except Exception:  # the temporary file is removed anyway
            pass
        self.tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- PNG


def existing_frames(folder: Path) -> int:
    """How many frames ``frame_000000.png``, ``frame_000001.png``... exist without a gap."""
    if not folder.is_dir():
        return 0
    indices = {int(m.group(1)) for p in folder.iterdir() if (m := _FRAME_RE.match(p.name))}
    count = 0
    while count in indices:
        count += 1
    return count


class PngSequenceWriter:
    """Writes ``frame_%06d.png`` files (RGBA or alpha only) atomically into a folder.

    Args:
        spec: ``png`` or ``png-alpha`` output.
        job: Settings of the run, stored as ``trimatte-video.json`` so that ``resume``
            can check that a folder belongs to the same job.
        resume: Continue a job: frames already written are kept and skipped.

    Raises:
        InputError: The folder holds frames and ``resume`` is False, or ``resume`` is
            True and the folder's job differs.
    """

    def __init__(self, spec: OutputSpec, job: dict, resume: bool) -> None:
        self.spec = spec
        self.folder = spec.path
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError("exists and is not a folder (a PNG sequence needs one)", self.folder)
        self.done = existing_frames(self.folder)
        manifest = self.folder / MANIFEST
        if self.done and not resume:
            raise InputError(
                f"holds {self.done} frame(s) of an earlier run; pass --resume to continue "
                "it, or choose an empty folder",
                self.folder,
            )
        if resume and manifest.is_file():
            try:
                earlier = json.loads(manifest.read_text())
            except (OSError, ValueError):
                earlier = None
            if earlier is not None and earlier != job:
                changed = sorted(k for k in set(job) | set(earlier) if job.get(k) != earlier.get(k))
                raise InputError(
                    f"was written by a different job (differs in {', '.join(changed)}); "
                    "resume with the same input and settings, or choose another folder",
                    self.folder,
                )
        elif resume and self.done:
            warnings.warn(f"{self.folder}: no {MANIFEST}; resuming without checking the job",
                          TrimatteWarning, stacklevel=2)
        self.folder.mkdir(parents=True, exist_ok=True)
        from trimatte.io import atomic_write_bytes

        atomic_write_bytes(manifest, json.dumps(job, indent=2, sort_keys=True).encode())
        self.frames = 0

    def path_of(self, index: int) -> Path:
        return self.folder / FRAME_PATTERN.format(index)

    def write(self, index: int, alpha: np.ndarray, foreground: np.ndarray | None = None) -> None:
        """Write frame ``index`` unless an earlier run already did."""
        if index < self.done:
            return
        if self.spec.kind == "png-alpha":
            write_alpha(self.path_of(index), alpha)
        else:
            write_rgba(self.path_of(index), foreground, alpha)
        self.frames += 1

    def close(self, partial: bool = False) -> Path:
        return self.folder

    def abort(self) -> None:
        """Frames already written stay: each is complete, and ``resume`` continues them."""
