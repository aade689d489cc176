"""Reading frames from a video file (any format FFmpeg reads, through PyAV) or a folder.

:func:`open_source` returns a :class:`FrameSource`: iterate it for :class:`Frame`
objects (index, presentation time in seconds, float32 RGB image), one at a time, so a
long clip never sits in memory. Frames of a file stored with subsampled chroma (4:2:0,
4:2:2: nearly all H.264, HEVC and VP9) get their colour edges rebuilt from the luma
(:func:`trimatte.video.chroma.restore_chroma`) unless ``restore_chroma=False``.
Damaged or truncated files give the frames that decode, then a
:class:`~trimatte.errors.TrimatteWarning`; files that do not open at all raise
:class:`~trimatte.errors.InputError` naming the file.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from trimatte.errors import InputError, TrimatteWarning
from trimatte.image import as_image
from trimatte.io import IMAGE_SUFFIXES, list_images, read_image
from trimatte.video.chroma import chroma_subsampling, restore_chroma

__all__ = ["Frame", "FrameSource", "VideoInfo", "open_source"]

log = logging.getLogger(__name__)

#: Frame rate assumed for a folder of frames when none is given.
DEFAULT_FOLDER_FPS = 25.0


@dataclass(frozen=True)
class VideoInfo:
    """What is known about a source before decoding it.

    Attributes:
        path: The file or folder.
        width, height: Frame size in pixels.
        fps: Average frame rate (frames per second).
        frames: Number of frames if the container says so (exact for folders), else None.
        duration: Duration in seconds if known.
        has_audio: The file has an audio stream (copied to video outputs).
        is_folder: The source is a folder of images.
    """

    path: Path
    width: int
    height: int
    fps: float
    frames: int | None
    duration: float | None
    has_audio: bool
    is_folder: bool

    @property
    def rate(self) -> Fraction:
        """``fps`` as a fraction (what encoders are given)."""
        return Fraction(self.fps).limit_denominator(1001)


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes:
        index: Frame number from 0, in decoding order of presentation.
        time: Presentation time in seconds from the start of the clip.
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
    """

    index: int
    time: float
    image: np.ndarray


class FrameSource:
    """Iterable of :class:`Frame` from a file or a folder; use as a context manager."""

    def __init__(self, info: VideoInfo) -> None:
        self.info = info

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (no-op for folders)."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _FolderSource(FrameSource):
    def __init__(self, folder: Path, fps: float | None) -> None:
        self.files = list_images(folder)
        if not self.files:
            raise InputError(f"folder holds no frames ({', '.join(IMAGE_SUFFIXES)})", folder)
        first = read_image(self.files[0])
        height, width = first.shape[:2]
        fps = float(fps or DEFAULT_FOLDER_FPS)
        super().__init__(VideoInfo(folder, width, height, fps, len(self.files),
                                   len(self.files) / fps, False, True))

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.files):
            image = read_image(path)
            if image.shape[:2] != (self.info.height, self.info.width):
                raise InputError(
                    f"is {image.shape[1]}x{image.shape[0]} but the first frame is "
                    f"{self.info.width}x{self.info.height}; all frames must have one size",
                    path,
                )
            yield Frame(index, index / self.info.fps, image)


class _VideoSource(FrameSource):
    def __init__(self, path: Path, rebuild_chroma: bool = True) -> None:
        import av

        self.rebuild_chroma = rebuild_chroma
        try:
            self.container = av.open(str(path), "r")
        except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise InputError(f"not a readable video ({_reason(exc)})", path) from None
        streams = self.container.streams.video
        if not streams:
            self.container.close()
            raise InputError("has no video stream", path)
        stream = streams[0]
        stream.thread_type = "AUTO"
        self.stream = stream
        context = stream.codec_context
        width, height = int(context.width or 0), int(context.height or 0)
        if width <= 0 or height <= 0:
            self.container.close()
            raise InputError("video stream has no frame size (damaged file?)", path)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else DEFAULT_FOLDER_FPS
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif self.container.duration is not None:
            duration = self.container.duration / 1_000_000
        frames = int(stream.frames) if stream.frames else None
        if frames is None and duration:
            frames = max(1, round(duration * fps))
        has_audio = bool(self.container.streams.audio)
        super().__init__(VideoInfo(path, width, height, fps, frames, duration, has_audio, False))

    def __iter__(self) -> Iterator[Frame]:
        import av

        stream = self.stream
        start: float | None = None
        index = 0
        last_time = -1.0
        try:
            for frame in self.container.decode(stream):
                rgb = as_image(frame.to_ndarray(format="rgb24"), str(self.info.path))
                factors = chroma_subsampling(frame.format.name)
                if self.rebuild_chroma and factors != (1, 1):
                    rgb = restore_chroma(rgb, factors)
                if frame.pts is not None and frame.time is not None:
                    time = float(frame.time)
                else:
                    time = last_time + 1.0 / self.info.fps if index else 0.0
                start = time if start is None else start
                time -= start
                if time <= last_time:  # broken timestamps: keep them increasing
                    time = last_time + 1.0 / self.info.fps
                last_time = time
                yield Frame(index, time, rgb)
                index += 1
        except av.FFmpegError as exc:
            _warn_truncated(self.info.path, index, _reason(exc))
            return
        if index == 0:
            raise InputError("no frame could be decoded (damaged or empty file)", self.info.path)
        declared = self.info.duration
        if declared and last_time + 2.5 / self.info.fps < declared - 1e-3:
            _warn_truncated(self.info.path, index,
                            f"the file declares {declared:.2f} s but frames stop at "
                            f"{last_time:.2f} s")

    def close(self) -> None:
        self.container.close()


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _warn_truncated(path: Path, frames: int, reason: str) -> None:
    warnings.warn(
        f"{path}: the video ends early after {frames} frame(s) ({reason}); the file looks "
        "truncated or damaged, so only those frames are processed",
        TrimatteWarning,
        stacklevel=3,
    )


def open_source(path: str | Path, fps: float | None = None, *, restore_chroma: bool = True
                ) -> FrameSource:
    """Open a video file or a folder of frames for streaming.

    Args:
        path: A file FFmpeg can read (mp4, mov, mkv, webm, avi, gif, ...) or a folder of
            images (sorted by name, all one size).
        fps: Frame rate of a folder of frames (default 25); ignored for files, whose
            timestamps are used as they are (variable frame rates are kept).
        restore_chroma: Rebuild the colour edges of files stored with subsampled chroma
            from their luma (:func:`trimatte.video.chroma.restore_chroma`); False gives
            the decoder's frames as they are. Folders of images are never changed.

    Returns:
        A :class:`FrameSource`; its ``info`` is filled before any frame is decoded.

    Raises:
        InputError: Missing path, not a video, no video stream, empty folder.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        return _FolderSource(path, fps)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path)
    return _VideoSource(path, restore_chroma)
