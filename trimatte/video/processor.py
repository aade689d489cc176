"""Per-frame work of :func:`~trimatte.video.driver.matte_video`.

:class:`FrameWindow` holds the recent frames and caches the optical flows and trusts
between them. :class:`FrameProcessor` gives each frame its trimap (a keyframe, the
previous alpha carried along the flow, the trimap source's detection, or the two
fused) and its raw alpha (the pipeline's refinement and alpha stages), and runs the
foreground stages on the smoothed alpha. With a trimap source that leaves a soft map
in ``hints["saliency"]`` (``salient``, ``auto``), that map is first averaged with the
previous frame's, carried along the flow (:func:`trimatte.video.temporal.recursive_map`),
and the trimap is drawn from the steadier map. Parts of a frame's subject that move
with the camera while the rest of it moves (a second object standing in the scene) are
then dropped from its trimap (:mod:`trimatte.video.still_parts`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from trimatte.errors import InputError, TrimapError
from trimatte.image import FOREGROUND, as_trimap
from trimatte.io import read_trimap
from trimatte.pipeline import MatteState, Pipeline
from trimatte.trimap.confidence import Confidence
from trimatte.trimap.validate import validate_trimap
from trimatte.video import flow as flowlib
from trimatte.video import temporal
from trimatte.video.cleanplate import PlateMemory, background_homography, background_mask
from trimatte.video.platematte import plate_matte
from trimatte.video.reader import Frame
from trimatte.video.still_parts import (
    camera_fit_mask,
    drop_parts,
    motion_residual,
    still_parts,
)

if TYPE_CHECKING:
    from trimatte.video.driver import TemporalOptions, VideoReport

__all__ = ["FrameItem", "FrameProcessor", "FrameWindow", "load_keyframes", "split_pipeline"]

log = logging.getLogger(__name__)

@dataclass
class FrameItem:
    frame: Frame
    gray: np.ndarray
    colour: np.ndarray
    alpha: np.ndarray | None = None
    trimap: np.ndarray | None = None
    empty: bool = False
    confidence: float = 1.0
    plate_coverage: float = 0.0
    subject: Confidence | None = None  # the trimap source's, when it ran on this frame
    source_hints: dict | None = None  # what it left (its soft map...), when it ran


class FrameWindow:
    """Recent frames and the flows between them (cached, pruned as frames leave)."""

    def __init__(self, options: TemporalOptions) -> None:
        self.options = options
        self.estimator = flowlib.FlowEstimator(options.flow, options.preset)
        self.items: dict[int, FrameItem] = {}
        self.flows: dict[tuple[int, int], np.ndarray] = {}
        self.trusts: dict[tuple[int, int], np.ndarray] = {}

    def flow(self, a: int, b: int) -> np.ndarray:
        if (a, b) not in self.flows:
            self.flows[(a, b)] = self.estimator(self.items[a].gray, self.items[b].gray)
        return self.flows[(a, b)]

    def trust(self, a: int, b: int) -> np.ndarray:
        """Trust of frame b's data warped into frame a."""
        if (a, b) not in self.trusts:
            self.trusts[(a, b)] = flowlib.flow_confidence(
                self.flow(a, b), self.flow(b, a), self.items[a].colour, self.items[b].colour
            )
        return self.trusts[(a, b)]

    def warped_alpha(self, a: int, b: int) -> np.ndarray:
        return flowlib.warp(self.items[b].alpha, self.flow(a, b))

    def forget_before(self, index: int) -> None:
        for key in [k for k in self.items if k < index]:
            del self.items[key]
        for cache in (self.flows, self.trusts):
            for key in [k for k in cache if min(k) < index]:
                del cache[key]


def split_pipeline(pipeline: Pipeline) -> tuple[Pipeline | None, Pipeline, list]:
    """(trimap source or None, refinement + alpha stages, foreground stages)."""
    sources = [s for s in pipeline.stages if s.role == "trimap" and s.registry_name != "given"]
    middle = [s for s in pipeline.stages if s.role in ("trimap_refine", "alpha", "alpha_refine")]
    if not any(s.role == "alpha" for s in middle):
        raise InputError("the pipeline has no alpha stage", "pipeline")
    post = [s for s in pipeline.stages if s.role == "foreground"]
    return (Pipeline(sources) if sources else None), Pipeline(middle), post


def load_keyframes(keyframes: dict[int, object] | None, shape: tuple[int, int]
                   ) -> dict[int, np.ndarray]:
    """Keyframe trimaps from arrays or files, checked against the frame size."""
    loaded: dict[int, np.ndarray] = {}
    for index, value in sorted((keyframes or {}).items()):
        if not isinstance(index, int) or index < 0:
            raise InputError(f"keyframe numbers are integers >= 0, got {index!r}", "--trimap")
        name = str(value) if isinstance(value, (str, Path)) else f"trimap of frame {index}"
        trimap = read_trimap(value) if isinstance(value, (str, Path)) else as_trimap(value, name)
        if trimap.shape != shape:
            raise InputError(
                f"is {trimap.shape[1]}x{trimap.shape[0]} but the video is "
                f"{shape[1]}x{shape[0]} (WxH)",
                name,
            )
        validate_trimap(trimap, name=name)
        loaded[index] = trimap
    return loaded


class FrameProcessor:
    """Per-frame trimap (key, propagated, detected or fused) and raw alpha."""

    def __init__(self, pipeline: Pipeline, keyframes: dict[int, np.ndarray],
                 options: TemporalOptions, hints: dict, window: FrameWindow,
                 report: VideoReport) -> None:
        self.source, self.middle, self.post = split_pipeline(pipeline)
        self.keyframes = keyframes
        self.options = options
        self.hints = hints
        self.window = window
        self.report = report
        self.radius = temporal.band_radius(next(iter(keyframes.values()))) if keyframes else 0
        self.empty_reasons: dict[int, str] = {}
        self.since_detection = 0
        self.memory: tuple[int, np.ndarray] | None = None  # (frame, steadied soft map)
        self.dropped: tuple[int, np.ndarray] | None = None  # (frame, still parts dropped)
        self.plates: PlateMemory | None = None

    def _detect(self, item: FrameItem) -> tuple[np.ndarray | None, str]:
        """The trimap source's trimap for this frame (None and why, when it finds none).

        When the source leaves a soft map in ``hints["saliency"]`` and the previous
        frame's map is remembered, the map is averaged with it along the flow and the
        source draws its trimap again from the steadier map (no second network run).
        """
        t, image = item.frame.index, item.frame.image
        try:
            state = self.source(image, **self.hints)
        except TrimapError as exc:
            self.memory = None
            return None, exc.reason
        item.subject = state.confidence
        soft = state.hints.get("saliency")
        weight = self.options.saliency_memory if self.options.active else 0.0
        item.source_hints = state.hints
        if soft is None or weight <= 0:
            return state.trimap, ""
        soft = np.asarray(soft, np.float32)
        if self.memory is not None and self.memory[0] == t - 1 and t - 1 in self.window.items:
            warped = flowlib.warp(self.memory[1], self.window.flow(t, t - 1))
            soft = temporal.recursive_map(soft, warped, self.window.trust(t, t - 1), weight)
            try:  # what the source left for this image (its mirrored map...) is reused
                state = self.source(image, **dict(state.hints, saliency=soft))
                item.subject, item.source_hints = state.confidence, state.hints
            except TrimapError as exc:  # the steadied map lost the subject: keep the frame's
                log.debug("frame %d: steadied map rejected (%s)", t, exc.reason)
        self.memory = (t, soft)
        return state.trimap, ""

    def trimap_for(self, item: FrameItem) -> tuple[np.ndarray | None, str]:
        """The frame's trimap (None and why, when there is none).

        A keyframe's trimap is used as given; any other is checked for parts that stand
        still in the scene while the subject moves (:meth:`_drop_still_parts`).
        """
        trimap, reason = self._trimap(item)
        if trimap is not None and item.frame.index not in self.keyframes:
            trimap = self._drop_still_parts(item, trimap)
        return trimap, reason

    def _drop_still_parts(self, item: FrameItem, trimap: np.ndarray) -> np.ndarray:
        """Drop the parts of the trimap's subject that move with the camera
        (:mod:`trimatte.video.still_parts`), in temporal mode, from the second frame on."""
        t = item.frame.index
        if not (self.options.active and self.options.drop_still) or t - 1 not in self.window.items:
            self.dropped = None
            return trimap
        flow, trust = self.window.flow(t, t - 1), self.window.trust(t, t - 1)
        camera = background_homography(flow, camera_fit_mask(trimap, trust))
        if camera is None:  # no single camera motion (parallax, a cut): nothing to compare
            self.dropped = None
            return trimap
        previous = None
        if self.dropped is not None and self.dropped[0] == t - 1:
            previous = flowlib.warp(self.dropped[1].astype(np.float32), flow) > 0.5
        parts = still_parts(trimap, motion_residual(flow, camera), trust, previous)
        out = drop_parts(trimap, parts, max(self.radius, 1))
        dropped = parts if out is not trimap else np.zeros_like(parts)
        self.dropped = (t, dropped)
        if dropped.any():
            self.report.still_dropped[t] = int(dropped.sum())
            log.debug("frame %d: %d px that move with the camera dropped from the subject",
                      t, int(dropped.sum()))
            self._reassess(item, dropped)
        return out

    def _reassess(self, item: FrameItem, dropped: np.ndarray) -> None:
        """The source's confidence in what is left of its subject once the dropped parts
        are taken out of its soft map (no network run; kept as it was when the source left
        no map or rejects the result)."""
        hints = item.source_hints
        if self.source is None or hints is None or hints.get("saliency") is None:
            return
        soft = np.where(dropped, np.float32(0.0), np.asarray(hints["saliency"], np.float32))
        try:
            state = self.source(item.frame.image, **dict(hints, saliency=soft))
        except TrimapError as exc:
            log.debug("frame %d: confidence not re-assessed (%s)", item.frame.index, exc.reason)
            return
        item.subject = state.confidence

    def _trimap(self, item: FrameItem) -> tuple[np.ndarray | None, str]:
        t = item.frame.index
        if t in self.keyframes:
            self.radius = temporal.band_radius(self.keyframes[t])
            return self.keyframes[t], ""
        prev = self.window.items.get(t - 1)
        propagate = prev is not None and prev.alpha is not None and (
            self.source is None or (self.options.propagate and self.options.active)
        )
        if propagate:
            warped = self.window.warped_alpha(t, t - 1)
            trust = self.window.trust(t, t - 1)
            propagated = temporal.propagate_trimap(warped, trust, max(self.radius, 1))
            if self.source is None:
                return propagated, "the subject left the picture or was lost by the flow"
            self.since_detection += 1
            tracked = np.any(propagated == FOREGROUND)
            if tracked and self.since_detection < self.options.detect_every:
                return propagated, ""
            self.since_detection = 0
            detected, reason = self._detect(item)
            if detected is None:
                return None, reason
            fused, rekeyed = temporal.fuse_trimaps(propagated, detected,
                                                   self.options.min_overlap)
            if rekeyed:
                self.radius = temporal.band_radius(detected)
                if t > 0:
                    self.report.rekeyed.append(t)
            return fused, ""
        if self.source is None:
            raise InputError(f"no trimap for frame {t}: give one (--trimap {t}:FILE) or use a "
                             "trimap source (--trimap-method)", "--trimap")
        detected, reason = self._detect(item)
        if detected is not None:
            self.radius = temporal.band_radius(detected)
        return detected, reason

    def process(self, item: FrameItem) -> None:
        trimap, reason = self.trimap_for(item)
        shape = item.frame.image.shape[:2]
        if trimap is not None and not np.any(trimap == FOREGROUND):
            trimap, reason = None, reason or "the trimap has no foreground"
        if trimap is not None:
            try:
                state = self.middle(item.frame.image, trimap, **self.hints)
                item.alpha, item.trimap = state.alpha, state.trimap
            except TrimapError as exc:
                trimap, reason = None, exc.reason
        if trimap is None:
            item.alpha = np.zeros(shape, np.float32)
            item.trimap = np.zeros(shape, np.uint8)
            item.empty = True
            self.empty_reasons[item.frame.index] = reason
            self.report.empty_frames.append(item.frame.index)
        prev = self.window.items.get(item.frame.index - 1)
        band = item.trimap == 128
        uses_flow = self.options.active or self.source is None
        if prev is not None and band.any() and uses_flow:
            item.confidence = float(self.window.trust(item.frame.index, prev.frame.index)[band]
                                    .mean())

    def _background(self, item: FrameItem) -> np.ndarray:
        """The frame's confident background, kept well away from its per-frame subject."""
        margin = max(4, round(0.02 * max(item.alpha.shape)))
        return background_mask(item.trimap, item.alpha, margin)

    def remember_background(self, item: FrameItem) -> None:
        """Add the frame's confident background to the reconstructed plate."""
        t, image = item.frame.index, item.frame.image
        if self.plates is None or self.plates.shape != image.shape[:2]:
            self.plates = PlateMemory(image.shape[:2])
        mask = self._background(item)
        motion = None
        if t - 1 in self.window.items:
            trusted = mask & (self.window.trust(t, t - 1) > 0.5)
            motion = background_homography(self.window.flow(t, t - 1), trusted)
            if motion is None:
                log.debug("frame %d: background motion not found; the plate starts afresh", t)
        self.plates.add(t, image, mask, motion)

    def rematte(self, item: FrameItem) -> None:
        """Re-matte the frame with the reconstructed plate (where it is known)."""
        t = item.frame.index
        if item.empty or self.plates is None or t not in self.plates.to_canvas:
            return
        image = item.frame.image
        plate, support = self.plates.view(t, image, self._background(item))
        result = plate_matte(image, item.trimap, item.alpha, plate, support)
        item.plate_coverage = result.coverage
        if result.coverage <= 0:
            return
        state = MatteState(image=image, trimap=result.trimap, alpha=result.alpha,
                           hints=dict(self.hints))
        for stage in self.middle.stages:  # the pipeline's own alpha clean-up (levels...)
            if stage.role == "alpha_refine":
                state = stage.run(state)
        item.alpha, item.trimap = state.alpha, result.trimap

    def finish(self, item: FrameItem, alpha: np.ndarray) -> MatteState:
        state = MatteState(image=item.frame.image, trimap=item.trimap, alpha=alpha,
                           hints=dict(self.hints))
        if not item.empty:
            for stage in self.post:
                state = stage.run(state)
        return state
