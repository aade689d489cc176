"""The set of outputs of one run: checks before work, writing each frame, finalising.

All output paths are checked before the first frame is decoded (not an input, no two
outputs on one path, a folder where a folder is needed); composite backgrounds are a
colour, an image or a video read in step with the clip (looped when shorter).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.foreground.compositing import load_background
from trimatte.pipeline import MatteState
from trimatte.video.reader import Frame, VideoInfo, open_source
from trimatte.video.writer import OutputSpec, PngSequenceWriter, VideoWriter

__all__ = ["BackgroundVideo", "Outputs"]

_VIDEO_BACKGROUND_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif")


class BackgroundVideo:
    """Frames of a background clip, scaled to cover the frame size, looped at its end."""

    def __init__(self, path: Path, width: int, height: int) -> None:
        self.path, self.size = path, (width, height)
        self.source = open_source(path)
        self.frames = iter(self.source)
        self.count = 0

    def next(self) -> np.ndarray:
        try:
            frame = next(self.frames)
        except StopIteration:
            if self.count == 0:
                raise InputError("background video has no frames", self.path) from None
            self.source.close()
            self.source = open_source(self.path)
            self.frames = iter(self.source)
            frame = next(self.frames)
        self.count += 1
        width, height = self.size
        return _cover(frame.image, width, height)

    def close(self) -> None:
        self.source.close()


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    new = (max(width, round(w * scale)), max(height, round(h * scale)))
    resized = cv2.resize(image, new, interpolation=cv2.INTER_AREA if scale < 1 else
                         cv2.INTER_LINEAR)
    top, left = (new[1] - height) // 2, (new[0] - width) // 2
    return np.clip(resized[top:top + height, left:left + width], 0.0, 1.0)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


class Outputs:
    """Writers of all outputs of a run.

    Args:
        specs: Requested outputs.
        info: The input's :class:`~trimatte.video.reader.VideoInfo`.
        source: The input path (never overwritten; its audio is copied).
        background: Composite background: colour, image or video file.
        resume: Continue PNG sequences.
        jobs: ``id(spec)`` → job description stored beside PNG sequences.
    """

    def __init__(self, specs: list[OutputSpec], info: VideoInfo, source: Path,
                 background: str | Path, resume: bool, jobs: dict[int, dict]) -> None:
        seen: dict[Path, OutputSpec] = {}
        for spec in specs:
            resolved = spec.path.resolve()
            if resolved == source.resolve() or _same_file(spec.path, source):
                raise InputError("would overwrite the input; choose another output", spec.path)
            if source.is_dir() and spec.kind in ("png", "png-alpha") and resolved == \
                    source.resolve():
                raise InputError("is the input folder; choose another output", spec.path)
            if resolved in seen:
                raise InputError("is given twice as an output", spec.path)
            seen[resolved] = spec
            if spec.is_video and spec.path.is_dir():
                raise InputError("is a folder; a video output needs a file name", spec.path)
        self.info = info
        self.background_spec = background
        self.background: np.ndarray | None = None
        self.background_video: BackgroundVideo | None = None
        if any(s.kind == "composite" for s in specs):
            self._open_background(background)
        self.writers: list[VideoWriter | PngSequenceWriter] = []
        audio = source if info.has_audio else None
        try:
            for spec in specs:
                if spec.is_video:
                    self.writers.append(VideoWriter(spec, info.width, info.height, info.rate,
                                                    audio))
                else:
                    self.writers.append(PngSequenceWriter(spec, jobs[id(spec)], resume))
        except BaseException:
            self.abort()
            raise
        self.needs_colour = any(s.needs_colour for s in specs)

    def _open_background(self, spec: str | Path) -> None:
        path = Path(spec)
        if path.suffix.lower() in _VIDEO_BACKGROUND_SUFFIXES and path.is_file():
            self.background_video = BackgroundVideo(path, self.info.width, self.info.height)
        else:
            self.background = load_background(str(spec), (self.info.height, self.info.width))

    @property
    def resume_from(self) -> int:
        """First frame that some PNG sequence still lacks."""
        done = [w.done for w in self.writers if isinstance(w, PngSequenceWriter)]
        return min(done) if done else 0

    def write(self, frame: Frame, state: MatteState, skip: bool = False) -> None:
        """Write one finished frame to every output (``skip``: only advance the background)."""
        from trimatte.foreground.estimation import estimate_foreground

        background = None
        if self.background_video is not None:
            background = self.background_video.next()
        elif self.background is not None:
            background = self.background
        if skip:
            return
        alpha = state.alpha
        foreground = state.foreground
        if foreground is None and self.needs_colour:
            foreground = (estimate_foreground(frame.image, alpha) if alpha.any()
                          else frame.image)
        composite = None
        if background is not None:
            a3 = alpha[..., None]
            composite = np.clip(a3 * foreground + (1.0 - a3) * background, 0.0, 1.0)
        for writer in self.writers:
            if isinstance(writer, VideoWriter):
                writer.write(frame.time, alpha, foreground, composite)
            else:
                writer.write(frame.index, alpha, foreground)

    def close(self, partial: bool) -> list[Path]:
        """Finalise every output; returns the paths that hold frames."""
        done = []
        for writer in self.writers:
            path = writer.close(partial=partial)
            if path is not None:
                done.append(path)
        if self.background_video is not None:
            self.background_video.close()
        return done

    def abort(self) -> None:
        """Remove unfinished video outputs (PNG frames written so far stay)."""
        for writer in self.writers:
            writer.abort()
        if self.background_video is not None:
            self.background_video.close()
