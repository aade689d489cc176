"""Synthetic video clips with exact ground-truth alpha, for tests and benchmarks.

A clip is a foreground layer ``(F, alpha)`` moving over a background image that pans,
composited exactly (``I = alpha F + (1 - alpha) B``), then lit by a global gain that
changes over the clip and corrupted by Gaussian sensor noise before 8-bit rounding.
The ground truth of frame ``t`` is the warped alpha used to composite it, so it is
exact by construction. Every function is pure: the same arguments give the same frames.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import as_alpha, as_image
from trimatte.video.writer import X264_REPRODUCIBLE

__all__ = [
    "ClipFrame",
    "ClipSpec",
    "subject_warp",
    "synthetic_clip",
    "synthetic_foreground",
    "textured_background",
    "write_clip",
]


@dataclass(frozen=True)
class ClipSpec:
    """How a synthetic clip moves and degrades.

    Attributes:
        width, height: Frame size in pixels (any size >= 16, odd sizes included).
        frames: Number of frames.
        subject_height: Height of the subject as a fraction of the frame height.
        path_amplitude: Horizontal swing of the subject, as a fraction of the width.
        bob_amplitude: Vertical swing, as a fraction of the height.
        period: Frames per full swing of the subject.
        pan: Background pan over the whole clip, as a fraction of the width.
        gain_start, gain_end: Global lighting gain at the first and last frame.
        noise: Standard deviation of the Gaussian sensor noise (in [0, 1] units).
        absent: ``(first, last)`` frames (inclusive) in which the subject is out of
            the picture, or None.
        seed: Seed of the noise.
    """

    width: int = 320
    height: int = 240
    frames: int = 30
    subject_height: float = 0.6
    path_amplitude: float = 0.18
    bob_amplitude: float = 0.04
    period: float = 40.0
    pan: float = 0.25
    gain_start: float = 1.0
    gain_end: float = 0.7
    noise: float = 0.02
    absent: tuple[int, int] | None = None
    seed: int = 0


@dataclass(frozen=True)
class ClipFrame:
    """One frame of a synthetic clip.

    Attributes:
        index: Frame number from 0.
        image: uint8 ``(H, W, 3)`` RGB frame as a camera would record it.
        alpha: float32 ``(H, W)`` exact ground-truth alpha in [0, 1].
    """

    index: int
    image: np.ndarray
    alpha: np.ndarray


def _smooth_noise(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [0, 1]: white noise blurred with a Gaussian of ``scale`` px."""
    noise = rng.standard_normal(shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), scale)
    lo, hi = float(noise.min()), float(noise.max())
    return (noise - lo) / max(hi - lo, 1e-6)


def synthetic_foreground(size: int = 256, seed: int = 0,
                         texture: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A furry blob: soft-edged body with thin semi-transparent strands, and its colours.

    The alpha is drawn at 4x resolution with anti-aliased strands and averaged down,
    so it has a solid interior, a 1-2 px soft edge and fractional hair-like strands.

    Args:
        size: Side of the square layer in pixels.
        seed: Seed of the shape and colour noise.
        texture: Optional RGB image whose centre crop colours the subject; a smooth
            random colour field otherwise.

    Returns:
        ``(foreground, alpha)``: float32 ``(size, size, 3)`` and ``(size, size)``.
    """
    if size < 16:
        raise InputError(f"must be at least 16, got {size}", "size")
    rng = np.random.default_rng(seed)
    big = size * 4
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32)
    cx, cy = big / 2, big * 0.55
    angle = np.arctan2(yy - cy, xx - cx)
    wobble = sum(
        rng.uniform(0.02, 0.05) * np.sin(k * angle + rng.uniform(0, 2 * math.pi))
        for k in (2, 3, 5)
    )
    radius = big * (0.30 + wobble)
    ellipse = np.hypot((xx - cx) / 0.85, (yy - cy) / 1.05)
    body = (ellipse <= radius).astype(np.float32)
    head = (np.hypot(xx - cx, yy - big * 0.2) <= big * 0.14).astype(np.float32)
    canvas = np.maximum(body, head)
    strands = np.zeros((big, big), np.float32)
    for _ in range(70):
        theta = rng.uniform(0, 2 * math.pi)
        r0 = big * 0.28
        x0, y0 = cx + r0 * math.cos(theta) * 0.85, cy + r0 * math.sin(theta) * 1.05
        length = big * rng.uniform(0.08, 0.17)
        bend = rng.uniform(-0.5, 0.5)
        x1 = x0 + length * math.cos(theta + bend)
        y1 = y0 + length * math.sin(theta + bend)
        level = rng.uniform(0.5, 1.0)
        cv2.line(strands, (int(x0), int(y0)), (int(x1), int(y1)), level, 3, cv2.LINE_AA)
    canvas = np.maximum(canvas, strands)
    alpha = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    if texture is not None:
        tex = as_image(texture, "texture")
        side = min(tex.shape[:2])
        top, left = (tex.shape[0] - side) // 2, (tex.shape[1] - side) // 2
        fg = cv2.resize(tex[top:top + side, left:left + side], (size, size),
                        interpolation=cv2.INTER_AREA)
    else:
        base = np.array([0.85, 0.55, 0.25], np.float32)
        shade = _smooth_noise((size, size), size / 16, rng)[..., None]
        fg = base * (0.6 + 0.4 * shade) + 0.1 * _smooth_noise((size, size), 2.0, rng)[..., None]
    return np.clip(fg, 0.0, 1.0).astype(np.float32), alpha


def textured_background(width: int, height: int, seed: int = 1) -> np.ndarray:
    """A bluish-green textured background, float32 ``(height, width, 3)`` in [0, 1]."""
    rng = np.random.default_rng(seed)
    coarse = _smooth_noise((height, width), max(width, height) / 20, rng)
    fine = _smooth_noise((height, width), 1.5, rng)
    bg = np.stack([0.15 + 0.2 * coarse, 0.45 + 0.25 * fine, 0.55 + 0.2 * coarse], axis=2)
    return np.clip(bg, 0.0, 1.0).astype(np.float32)


def _subject_transform(spec: ClipSpec, index: int, layer_size: int) -> np.ndarray:
    """2x3 affine matrix placing the subject layer in frame ``index``."""
    scale = spec.subject_height * spec.height / layer_size
    phase = 2 * math.pi * index / spec.period
    cx = spec.width * (0.5 + spec.path_amplitude * math.sin(phase))
    cy = spec.height * (0.55 + spec.bob_amplitude * math.sin(2 * phase))
    rotation = 4.0 * math.sin(phase)
    matrix = cv2.getRotationMatrix2D((layer_size / 2, layer_size / 2), rotation, scale)
    matrix[0, 2] += cx - layer_size / 2
    matrix[1, 2] += cy - layer_size / 2
    return matrix


def synthetic_clip(
    spec: ClipSpec,
    foreground: np.ndarray | None = None,
    alpha: np.ndarray | None = None,
    background: np.ndarray | None = None,
) -> Iterator[ClipFrame]:
    """Yield the frames of a synthetic clip with their exact alpha.

    Args:
        spec: Size, motion, lighting and noise of the clip.
        foreground: ``(S, S', 3)`` subject colours (float in [0, 1] or uint8); a
            :func:`synthetic_foreground` when None.
        alpha: ``(S, S')`` subject alpha matching ``foreground``.
        background: Background image, larger than the frame is best (it is scaled to
            cover the frame plus the pan); :func:`textured_background` when None.

    Yields:
        :class:`ClipFrame` objects, ``spec.frames`` of them.
    """
    if spec.width < 16 or spec.height < 16 or spec.frames < 1:
        raise InputError(f"needs width, height >= 16 and frames >= 1, got {spec}", "spec")
    if foreground is None or alpha is None:
        foreground, alpha = synthetic_foreground(256, seed=spec.seed)
    fg = as_image(foreground, "foreground")
    a = as_alpha(alpha, "alpha")
    layer = max(fg.shape[:2])
    fg = _pad_square(fg, layer)
    a = _pad_square(a, layer)
    pan_pixels = spec.pan * spec.width
    bg_w, bg_h = math.ceil(spec.width + pan_pixels) + 2, spec.height + 2
    if background is None:
        bg = textured_background(bg_w, bg_h, seed=spec.seed + 1)
    else:
        bg = _cover(as_image(background, "background"), bg_w, bg_h)
    rng = np.random.default_rng(spec.seed + 2)
    size = (spec.width, spec.height)
    for index in range(spec.frames):
        progress = index / max(spec.frames - 1, 1)
        shift = np.float32([[1, 0, -pan_pixels * progress - 1], [0, 1, -1]])
        frame_bg = cv2.warpAffine(bg, shift, size, flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REFLECT)
        absent = spec.absent is not None and spec.absent[0] <= index <= spec.absent[1]
        if absent:
            frame_alpha = np.zeros((spec.height, spec.width), np.float32)
            frame_fg = frame_bg
        else:
            matrix = _subject_transform(spec, index, layer)
            frame_alpha = cv2.warpAffine(a, matrix, size, flags=cv2.INTER_LINEAR)
            frame_fg = cv2.warpAffine(fg, matrix, size, flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE)
        frame_alpha = np.clip(frame_alpha, 0.0, 1.0).astype(np.float32)
        a3 = frame_alpha[..., None]
        image = a3 * frame_fg + (1.0 - a3) * frame_bg
        gain = spec.gain_start + (spec.gain_end - spec.gain_start) * progress
        image = image * gain + rng.normal(0.0, spec.noise, image.shape).astype(np.float32)
        image8 = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
        yield ClipFrame(index=index, image=image8, alpha=frame_alpha)


def _pad_square(array: np.ndarray, side: int) -> np.ndarray:
    h, w = array.shape[:2]
    top, left = (side - h) // 2, (side - w) // 2
    pad = [(top, side - h - top), (left, side - w - left)]
    if array.ndim == 3:
        pad.append((0, 0))
    return np.pad(array, pad, mode="edge" if array.ndim == 3 else "constant")


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(image, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top = (resized.shape[0] - height) // 2
    left = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[top:top + height, left:left + width])


#: Video codec used by :func:`write_clip` for each container suffix.
CLIP_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9",
               ".avi": "mpeg4"}


def write_clip(
    path: str | os.PathLike,
    images: Iterable[np.ndarray],
    *,
    fps: float = 25.0,
    times: Sequence[float] | None = None,
    tone_hz: float | None = 440.0,
    crf: int = 16,
) -> Path:
    """Encode uint8 RGB frames into a video file (test clips), with an optional tone.

    Args:
        path: Output file; the suffix picks the container and codec (:data:`CLIP_CODECS`).
        images: uint8 ``(H, W, 3)`` RGB frames, all one size.
        fps: Nominal frame rate; frame ``i`` is shown at ``i / fps`` unless ``times``.
        times: Presentation time of each frame in seconds (a variable frame rate).
        tone_hz: Frequency of a sine tone written as the audio track (None: no audio).
        crf: Quality of the H.264/VP9 encoder (lower is better).

    Returns:
        The path written.
    """
    import av

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CLIP_CODECS:
        raise InputError(f"unsupported clip container {suffix!r}; use {sorted(CLIP_CODECS)}", path)
    codec = CLIP_CODECS[suffix]
    time_base = Fraction(1, 1000) if times is not None else Fraction(1, round(fps * 1000))
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        if codec != "mpeg4":
            extra = {"b": "0"} if codec == "libvpx-vp9" else X264_REPRODUCIBLE
            stream.options = {"crf": str(crf), **extra}
        stream.codec_context.time_base = time_base
        audio = None
        if tone_hz is not None:
            audio_codec = "libopus" if suffix in (".webm", ".mkv") else "aac"
            audio = container.add_stream(audio_codec, rate=48000)
            audio.layout = "mono"
        end = 0.0
        for index, image in enumerate(images):
            image = np.ascontiguousarray(image, dtype=np.uint8)
            if index == 0:
                height, width = image.shape[:2]
                stream.width, stream.height = width, height
                even = width % 2 == 0 and height % 2 == 0
                stream.pix_fmt = "yuv420p" if even or codec == "libvpx-vp9" else "yuv444p"
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            when = times[index] if times is not None else index / fps
            frame.pts, frame.time_base = round(when / time_base), time_base
            end = when + 1.0 / fps
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if audio is not None:
            samples = int(48000 * end)
            wave = (0.2 * np.sin(2 * np.pi * tone_hz * np.arange(samples) / 48000.0))
            wave = wave.astype(np.float32)
            for start in range(0, samples, 960):
                chunk = av.AudioFrame.from_ndarray(wave[None, start:start + 960], format="flt",
                                                   layout="mono")
                chunk.sample_rate, chunk.pts = 48000, start
                for packet in audio.encode(chunk):
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
    return path


def subject_warp(spec: ClipSpec, layer_size: int, data: np.ndarray, source: int,
                 target: int) -> np.ndarray:
    """Carry ``data`` of frame ``source`` into frame ``target`` along the subject's exact motion.

    What a perfect optical flow would do for the subject (the background pans
    differently; use this on alpha mattes, which are zero there).

    Args:
        spec: The clip's spec.
        layer_size: Side of the (square-padded) subject layer: ``max(foreground.shape[:2])``
            of the layers given to :func:`synthetic_clip` (256 for the default subject).
        data: ``(H, W)`` or ``(H, W, C)`` float32 array of frame ``source``.
        source, target: Frame numbers.

    Returns:
        float32 array in frame ``target``'s grid.
    """
    def full(index: int) -> np.ndarray:
        return np.vstack([_subject_transform(spec, index, layer_size), [0.0, 0.0, 1.0]])

    matrix = (full(source) @ np.linalg.inv(full(target)))[:2]
    return cv2.warpAffine(np.asarray(data, np.float32), matrix, (spec.width, spec.height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
