"""The streaming driver: frames in, pipeline per frame, temporal coherence, outputs out.

:func:`matte_video` decodes one frame at a time and keeps only a small window of
recent frames (``2 * radius + 2``) for optical flow and smoothing, so memory does not
grow with the clip's length. Each frame goes through the pipeline's stages in three
parts: the trimap source (skipped when a keyframe trimap is given or a propagated one
is trusted), trimap refinement and alpha estimation, and, after temporal smoothing of
the alpha, foreground estimation (see :mod:`trimatte.video.processor`). Outputs are
written as frames leave the window.
"""

from __future__ import annotations

import logging
import math
import time as _time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from trimatte.errors import InputError, TrimatteError, TrimatteWarning
from trimatte.io import read_alpha
from trimatte.pipeline import Pipeline
from trimatte.trimap.confidence import Confidence
from trimatte.video import flow as flowlib
from trimatte.video import temporal
from trimatte.video.outputs import Outputs
from trimatte.video.processor import FrameItem, FrameProcessor, FrameWindow, load_keyframes
from trimatte.video.reader import open_source
from trimatte.video.writer import FRAME_PATTERN, OutputSpec, parse_output

__all__ = ["TEMPORAL_MODES", "TemporalOptions", "VideoInterrupted", "VideoReport", "matte_video"]

log = logging.getLogger(__name__)

TEMPORAL_MODES = ("off", "flow", "ofd")


@dataclass(frozen=True)
class TemporalOptions:
    """Temporal coherence settings.

    Attributes:
        mode: ``"flow"`` (flow-warped weighted average over ``radius`` frames each
            side, delay ``radius`` frames), ``"ofd"`` (one-frame-delay rule on warped
            neighbours) or ``"off"`` (independent frames).
        radius: Frames on each side averaged in ``flow`` mode.
        propagate: Carry trimaps along the flow when the pipeline has an automatic
            trimap source (keyframe trimaps are always propagated).
        flow: ``"dis"`` or ``"farneback"`` (OpenCV optical flow).
        preset: DIS preset (``"ultrafast"``, ``"fast"``, ``"medium"``).
        sigma: Temporal standard deviation, in frames, of the neighbour weights.
        spread: ``flow`` mode averages each pixel around the weighted median of the
            frame's alpha and its warped neighbours: a value's weight falls to
            ``exp(-1/2)`` at this distance from the median (see
            :func:`~trimatte.video.temporal.weighted_blend`), so a neighbour that the
            flow misplaced at a sharp edge is left out instead of blurring it. None:
            the plain weighted mean. A hard matte (only 0 and 1, e.g. ``grabcut-hard``)
            always gets the plain mean, which turns a flickering edge pixel into a
            partial one.
        min_overlap: Overlap under which a detected trimap replaces the propagated one.
        detect_every: With an automatic trimap source and propagation, run the source
            on every n-th frame only (and on frames where the flow lost track); the
            frames between use the propagated trimap. 1 runs it on every frame.
        saliency_memory: Weight of the previous frame's soft map, carried along the
            flow, when a trimap source leaves one in ``hints["saliency"]`` (``salient``,
            ``auto``): each frame's map is ``(s + m c w) / (1 + m c)`` with ``w`` the
            warped previous map and ``c`` its trust, and the trimap is drawn from it.
            0 turns this off (each frame's own map). The map is remembered from one
            detection to the next only when they are consecutive frames (with
            ``detect_every`` > 1, each detection starts afresh).
        drop_still: Drop from each frame's trimap the parts of the subject that move
            with the camera while the rest of the subject moves against the background
            (a second object standing in the scene that the trimap source took in; see
            :mod:`trimatte.video.still_parts`). Where the subject hardly moves, parts
            dropped in the previous frame are dropped again while they stay still.
            Keyframe trimaps are never changed.
        plate: Reconstruct a clean background plate from the video itself (the
            background each frame shows away from the subject, aligned along the
            camera's motion: :mod:`trimatte.video.cleanplate`) and re-matte each frame
            with it where it is known (:mod:`trimatte.video.platematte`): strands the
            per-frame trimap missed, and background objects it took in, are corrected.
            Needs a moving subject or camera; unknown background keeps the per-frame
            result. Adds ``plate_lookahead`` frames of delay.
        plate_lookahead: Frames after a frame whose background enters the plate
            before the frame is re-matted (background uncovered behind a moving subject).
    """

    mode: str = "flow"
    radius: int = 2
    propagate: bool = True
    flow: str = "dis"
    preset: str = "medium"
    sigma: float = 1.5
    spread: float | None = 0.3
    min_overlap: float = 0.7
    detect_every: int = 1
    saliency_memory: float = 2.0
    drop_still: bool = True
    plate: bool = False
    plate_lookahead: int = 2

    def __post_init__(self) -> None:
        if self.mode not in TEMPORAL_MODES:
            raise InputError(f"unknown mode {self.mode!r}; choose {TEMPORAL_MODES}", "temporal")
        if not (isinstance(self.radius, int) and 1 <= self.radius <= 8):
            raise InputError(f"radius must be an integer 1..8, got {self.radius!r}", "radius")
        if not (isinstance(self.detect_every, int) and self.detect_every >= 1):
            raise InputError(f"detect_every must be an integer >= 1, got {self.detect_every!r}",
                             "detect_every")
        if not (isinstance(self.saliency_memory, (int, float)) and self.saliency_memory >= 0):
            raise InputError(f"saliency_memory must be >= 0, got {self.saliency_memory!r}",
                             "saliency_memory")
        if not (isinstance(self.plate_lookahead, int) and 0 <= self.plate_lookahead <= 8):
            raise InputError(f"plate_lookahead must be an integer 0..8, got "
                             f"{self.plate_lookahead!r}", "plate_lookahead")
        if not self.sigma > 0:
            raise InputError(f"sigma must be positive, got {self.sigma!r}", "sigma")
        if self.spread is not None and not self.spread > 0:
            raise InputError(f"spread must be positive or None, got {self.spread!r}", "spread")

    @property
    def uses_plate(self) -> bool:
        return self.plate and self.active

    @property
    def lookahead(self) -> int:
        return self.plate_lookahead if self.uses_plate else 0

    @property
    def delay(self) -> int:
        return {"off": 0, "ofd": 1, "flow": self.radius}[self.mode] + self.lookahead

    @property
    def active(self) -> bool:
        return self.mode != "off"


@dataclass
class VideoReport:
    """What :func:`matte_video` did.

    Attributes:
        frames: Frames written (or, when resuming, frames processed).
        outputs: Paths of the finished outputs.
        empty_frames: Frames where no subject was found (alpha left empty).
        rekeyed: Frames where a detected trimap replaced the propagated one.
        confidence: Per written frame, the mean trust of the flow to the previous frame
            over the frame's unknown band (1.0 when there is no previous frame or band);
            low values mean the temporal constraints could not be applied there.
        subject_confidence: Per written frame, the trimap source's confidence in the
            subject it found (:class:`~trimatte.trimap.confidence.Confidence`, e.g. the
            ``salient`` source's: a second object, a subject that differs in the
            mirrored frame...), taken without the parts dropped as standing still in
            the scene (``still_dropped``); None where the source did not run on the frame
            (keyframes, propagated frames) or leaves no confidence.
        still_dropped: Frame → pixels dropped from its trimap's subject because they
            moved with the camera while the subject moved (``TemporalOptions.drop_still``).
        plate_coverage: Per written frame, with ``TemporalOptions.plate``, the fraction
            of the unknown band where the reconstructed plate was known and used (0: the
            per-frame matte was kept).
        seconds: Wall time.
        interrupted: The run was stopped (Ctrl-C); outputs hold the frames done so far.
    """

    frames: int = 0
    outputs: list[Path] = field(default_factory=list)
    empty_frames: list[int] = field(default_factory=list)
    rekeyed: list[int] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    subject_confidence: list[Confidence | None] = field(default_factory=list)
    plate_coverage: list[float] = field(default_factory=list)
    still_dropped: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def still_dropped_spans(self) -> list[str]:
        """``still_dropped``'s frames as runs: ``["frames 1-13", "frame 15"]``."""
        return [_span(run) for run in _runs(self.still_dropped)]


class VideoInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`matte_video`, raised after the outputs were finalised."""

    def __init__(self, report: VideoReport) -> None:
        super().__init__("interrupted")
        self.report = report




def _smoothed(window: FrameWindow, index: int, options: TemporalOptions) -> np.ndarray:
    """The output alpha of frame ``index`` from the window (see :mod:`.temporal`)."""
    item = window.items[index]
    if item.empty or not options.active:
        return item.alpha
    if options.mode == "ofd":
        prev, nxt = window.items.get(index - 1), window.items.get(index + 1)
        if prev is None or nxt is None:
            return item.alpha
        trust = np.minimum(window.trust(index, index - 1), window.trust(index, index + 1))
        return temporal.ofd_filter(window.warped_alpha(index, index - 1), item.alpha,
                                   window.warped_alpha(index, index + 1), trust)
    neighbours = []
    for k in range(-options.radius, options.radius + 1):
        other = window.items.get(index + k)
        if k == 0 or other is None or other.alpha is None:
            continue
        weight = math.exp(-0.5 * (k / options.sigma) ** 2)
        neighbours.append((window.warped_alpha(index, index + k),
                           window.trust(index, index + k) * np.float32(weight)))
    hard = not np.any((item.alpha > 0) & (item.alpha < 1))
    return temporal.weighted_blend(item.alpha, neighbours, None if hard else options.spread)


def _job(source: Path, pipeline: Pipeline, options: TemporalOptions, keyframes: dict,
         spec: OutputSpec) -> dict:
    try:
        config = pipeline.to_dict()
    except TrimatteError:
        config = repr(pipeline)
    return {"input": str(source.resolve()), "input_bytes": source.stat().st_size
            if source.is_file() else None, "pipeline": config, "temporal": asdict(options),
            "keyframes": sorted(keyframes), "kind": spec.kind}


def matte_video(
    source: str | Path,
    outputs: Iterable[str | Path | OutputSpec],
    *,
    pipeline: Pipeline | None = None,
    keyframes: dict[int, object] | None = None,
    temporal_options: TemporalOptions | None = None,
    background: str | Path = "white",
    fps: float | None = None,
    resume: bool = False,
    hints: dict | None = None,
    progress: bool = True,
    on_frame: Callable[[int], None] | None = None,
    restore_chroma: bool = True,
) -> VideoReport:
    """Pull mattes for every frame of a clip, with temporal coherence, streaming.

    Args:
        source: Video file (anything FFmpeg reads) or folder of frames.
        outputs: Output specs, see :func:`trimatte.video.writer.parse_output`
            (``"out.mov"``, ``"alpha:matte.mp4"``, ``"png-alpha:frames/"``...).
        pipeline: Pipeline run per frame; if None, :func:`trimatte.api.default_pipeline`'s
            stages with the video settings of its trimap source
            (:func:`trimatte.api.video_trimap_params`: no mirrored saliency pass).
        keyframes: ``{frame: trimap}`` (arrays or files); each is propagated forward
            along the optical flow until the next one.
        temporal_options: See :class:`TemporalOptions` (``mode="off"`` for independent frames).
        background: Composite background: colour, image file or video file.
        fps: Frame rate of a folder of frames.
        resume: Continue PNG-sequence outputs of an earlier, interrupted run.
        hints: Inputs for the trimap source of every frame (e.g. ``{"rect": ...}``).
        progress: Show a tqdm bar with frames and frames per second.
        on_frame: Called with each frame number before it is processed.
        restore_chroma: Rebuild the colour edges of a file stored with subsampled
            chroma (4:2:0, 4:2:2) from its luma before matting
            (:func:`trimatte.video.chroma.restore_chroma`); the matte's rim is then
            not widened by the codec's colour blur. False: the decoder's frames.

    Returns:
        A :class:`VideoReport`.

    Raises:
        InputError: Bad input, output or settings (checked before any work).
        VideoInterrupted: Ctrl-C; outputs were finalised first (``.report`` says what).
    """
    from tqdm import tqdm

    from trimatte.api import DEFAULT_TRIMAP_METHOD, build_pipeline, video_trimap_params

    options = temporal_options or TemporalOptions()
    pipeline = pipeline or build_pipeline(
        trimap_params=video_trimap_params(DEFAULT_TRIMAP_METHOD))
    specs = [parse_output(o) for o in outputs]
    if not specs:
        raise InputError("no output given", "outputs")
    source = Path(source)
    report = VideoReport()
    start_time = _time.perf_counter()
    with open_source(source, fps=fps, restore_chroma=restore_chroma) as reader:
        info = reader.info
        keys = load_keyframes(keyframes, (info.height, info.width))
        window = FrameWindow(options)
        processor = FrameProcessor(pipeline, keys, options, dict(hints or {}), window, report)
        if processor.source is None and 0 not in keys:
            first = min(keys) if keys else None
            raise InputError(
                ("no trimap given" if first is None else f"the first trimap is for frame {first}")
                + ": frame 0 needs one (--trimap FILE or --trimap 0:FILE), or use a trimap "
                "source (--trimap-method)",
                "--trimap",
            )
        if resume and any(s.is_video for s in specs):
            raise InputError("--resume continues PNG-sequence outputs only", "--resume")
        jobs = {id(s): _job(source, pipeline, options, keys, s) for s in specs}
        sinks = Outputs(specs, info, source, background, resume, jobs)
        start = sinks.resume_from if resume else 0
        warm = max(0, start - options.delay)
        bar = tqdm(total=info.frames, unit="frame", desc=source.name, disable=not progress,
                   initial=warm)

        def emit(index: int) -> None:
            item = window.items[index]
            alpha = _smoothed(window, index, options)
            state = processor.finish(item, alpha)
            sinks.write(item.frame, state, skip=index < start)
            if index >= start:
                report.frames += 1
                report.confidence.append(item.confidence)
                report.subject_confidence.append(item.subject)
                if options.uses_plate:
                    report.plate_coverage.append(item.plate_coverage)
            window.forget_before(index - options.radius)

        last = -1
        try:
            for frame in reader:
                if frame.index < warm - 1:
                    continue
                item = FrameItem(frame, flowlib.prepare_gray(frame.image),
                             flowlib.prepare_colour(frame.image))
                window.items[frame.index] = item
                if frame.index == warm - 1:  # seed the propagation from the written frame
                    item.alpha = _written_alpha(specs, warm - 1, frame.image.shape[:2])
                    item.trimap = np.zeros(frame.image.shape[:2], np.uint8)
                    continue
                if on_frame is not None:
                    on_frame(frame.index)
                processor.process(item)
                last = frame.index
                if options.uses_plate:
                    processor.remember_background(item)
                    if frame.index - options.lookahead >= warm:
                        processor.rematte(window.items[frame.index - options.lookahead])
                ready = frame.index - options.delay
                if ready >= warm:
                    emit(ready)
                bar.update(1)
            if options.uses_plate:
                for index in range(max(warm, last - options.lookahead + 1), last + 1):
                    processor.rematte(window.items[index])
            for index in range(max(warm, last - options.delay + 1), last + 1):
                emit(index)
        except KeyboardInterrupt:
            bar.close()
            report.outputs = sinks.close(partial=True)
            report.interrupted = True
            report.seconds = _time.perf_counter() - start_time
            raise VideoInterrupted(report) from None
        except BaseException:
            bar.close()
            sinks.abort()
            raise
        bar.close()
        report.outputs = sinks.close(partial=False)
    report.seconds = _time.perf_counter() - start_time
    _warn_empty(processor.empty_reasons)
    _warn_uncertain(report.subject_confidence, start)
    if options.active or processor.source is None:
        _warn_untrusted(report.confidence, start)
    return report


def _written_alpha(specs: list[OutputSpec], index: int, shape: tuple[int, int]) -> np.ndarray:
    for spec in specs:
        path = spec.path / FRAME_PATTERN.format(index)
        if path.is_file():
            alpha = read_alpha(path)
            if alpha.shape == shape:
                return alpha
    return np.zeros(shape, np.float32)


#: Mean flow trust over the band below which a frame is reported as not tracked.
LOW_CONFIDENCE = 0.1


def _warn_untrusted(confidence: list[float], first: int) -> None:
    """One warning listing the frames where the flow could not be trusted at the edges."""
    low = [first + i for i, c in enumerate(confidence) if c < LOW_CONFIDENCE]
    if low:
        shown = ", ".join(str(i) for i in low[:10]) + (" ..." if len(low) > 10 else "")
        warnings.warn(
            f"{len(low)} frame(s) ({shown}): the optical flow could not be trusted around "
            "the subject's edge (fast motion, a cut or occlusion); trimaps and smoothing fell "
            "back to each frame's own result there (VideoReport.confidence)",
            TrimatteWarning,
            stacklevel=3,
        )


def _runs(indices: Iterable[int], key: Callable[[int], object] = lambda index: None
          ) -> list[list[int]]:
    """Sorted frame numbers split into runs of consecutive frames with equal ``key``."""
    runs: list[list[int]] = []
    for index in sorted(indices):
        if runs and index == runs[-1][-1] + 1 and key(index) == key(runs[-1][0]):
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _span(run: list[int]) -> str:
    return f"frame {run[0]}" if len(run) == 1 else f"frames {run[0]}-{run[-1]}"


def _warn_uncertain(subjects: list[Confidence | None], first: int) -> None:
    """One warning per run of consecutive frames whose subject the source doubts."""
    doubted = {first + offset: subject for offset, subject in enumerate(subjects)
               if subject is not None and subject.low}
    for run in _runs(doubted):
        picked = [doubted[index] for index in run]
        flags = Counter(flag for c in picked for flag in c.flags)
        why = ", ".join(flag for flag, _ in flags.most_common(2)) or "low confidence"
        lowest = min(c.score for c in picked)
        warnings.warn(f"{_span(run)}: the subject is probably wrong ({why}; confidence down "
                      f"to {lowest:.2f}); check these frames (VideoReport.subject_confidence)",
                      TrimatteWarning, stacklevel=3)


def _warn_empty(reasons: dict[int, str]) -> None:
    """One warning per run of consecutive frames without a subject (and one reason)."""
    for run in _runs(reasons, key=reasons.get):
        warnings.warn(f"{_span(run)}: no subject found ({reasons[run[0]]}); alpha left empty",
                      TrimatteWarning, stacklevel=3)
