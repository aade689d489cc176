"""Video matting with temporal consistency.

:func:`matte_video` streams a clip (any file FFmpeg reads, through PyAV, or a folder
of frames) through any :class:`~trimatte.pipeline.Pipeline` frame by frame, carries
trimaps from frame to frame along OpenCV optical flow, smooths the alpha along the
flow without smearing motion, and writes videos with alpha (ProRes 4444 ``.mov``, VP9
``.webm``), alpha videos, composites and PNG sequences, with the audio track copied.

Modules: :mod:`~trimatte.video.reader` (decoding), :mod:`~trimatte.video.chroma`
(colour edges of 4:2:0 video rebuilt from the luma), :mod:`~trimatte.video.writer`
(encoding, PNG sequences, audio), :mod:`~trimatte.video.flow` (optical flow and trust),
:mod:`~trimatte.video.temporal` (trimap propagation, alpha smoothing),
:mod:`~trimatte.video.driver` (the streaming loop), :mod:`~trimatte.video.processor`
(each frame's trimap, steadied saliency and alpha), :mod:`~trimatte.video.synthetic`
(test clips with exact ground truth).
"""

from trimatte.video.chroma import restore_chroma
from trimatte.video.driver import (
    TEMPORAL_MODES,
    TemporalOptions,
    VideoInterrupted,
    VideoReport,
    matte_video,
)
from trimatte.video.reader import Frame, VideoInfo, open_source
from trimatte.video.synthetic import ClipSpec, synthetic_clip, synthetic_foreground
from trimatte.video.writer import OUTPUT_KINDS, OutputSpec, parse_output

__all__ = [
    "OUTPUT_KINDS",
    "TEMPORAL_MODES",
    "ClipSpec",
    "Frame",
    "OutputSpec",
    "TemporalOptions",
    "VideoInfo",
    "VideoInterrupted",
    "VideoReport",
    "matte_video",
    "open_source",
    "parse_output",
    "restore_chroma",
    "synthetic_clip",
    "synthetic_foreground",
]
