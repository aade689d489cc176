"""Stages that use a captured background plate (a photo of the empty scene).

* ``plate`` (trimap source): registers the plate to the photo, matches its
  exposure, and thresholds a noise-aware difference into a trimap.
* ``plate-alpha`` (alpha): closed-form matting with a per-pixel data term from
  the known background.
* ``plate-foreground`` (foreground): decontaminated colours, ``F = (I - (1-a) B) / a``.

The plate comes from the pipeline's hints, ``pipe(image, plate=array_or_path)``,
or from the stage's ``path`` parameter. The ``plate`` stage leaves the matched
plate in the hints for the later stages (``plate_background``, ``plate_scale``),
and its findings: ``plate_alignment``, ``plate_exposure``, ``plate_noise``,
``confidence_map`` (float32 HxW in [0, 1]) and ``confidence`` (a float: the mean
confidence over the unknown region); the state's ``confidence`` is a
:class:`~trimatte.trimap.confidence.Confidence` flagged ``"subject like plate"``
(low, so ``trimatte matte --strict`` fails it) when the warning is given. The
other two stages match the plate themselves when no ``plate`` stage ran (for
example with a given trimap), so each composes with any other stage: ``plate``
→ ``closed-form`` or ``dim`` works too.

Where the subject's colour equals the plate's, the result is uncertain: a
:class:`PlateUncertainWarning` is issued and ``confidence`` is low.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trimatte.errors import InputError, TrimatteWarning
from trimatte.pipeline import STAGES, MatteState, Stage
from trimatte.trimap import morphology

#: Hint holding the plate given to the pipeline (array or path).
PLATE_HINT = "plate"


class PlateUncertainWarning(TrimatteWarning):
    """Part of the subject has the plate's colour, so the matte there is a guess."""


def load_plate(state: MatteState, path: str | None, stage: str) -> tuple[np.ndarray, str]:
    """The plate for this image (hint first, then the stage's ``path``) and its name."""
    from trimatte.io import read_image

    plate = state.hints.get(PLATE_HINT)
    if plate is None:
        plate = path
    if plate is None:
        raise InputError("needs a background plate: pass plate=<array or file> to the "
                         "pipeline, or set the stage's 'path'", stage)
    if isinstance(plate, (str, Path)):
        return read_image(plate), str(plate)
    return np.asarray(plate), "plate"


def _match(state: MatteState, stage: Stage, *, path: str | None, motion: str, exposure: str,
           align: bool, tolerance: float):
    from trimatte.plate.background import match_plate

    plate, source = load_plate(state, path, stage.label)
    return match_plate(state.image, plate, motion=motion, exposure=exposure, align=align,
                       tolerance=tolerance, source=source)


def ensure_background(state: MatteState, stage: Stage, *, path: str | None = None,
                      motion: str = "euclidean", exposure: str = "gain-offset",
                      align: bool = True, tolerance: float = 0.15) -> MatteState:
    """State whose hints hold ``plate_background`` and ``plate_scale`` (matching if needed)."""
    if "plate_background" in state.hints and "plate_scale" in state.hints:
        return state
    from trimatte.plate.difference import expected_residual

    match = _match(state, stage, path=path, motion=motion, exposure=exposure, align=align,
                   tolerance=tolerance)
    hints = dict(state.hints, plate_background=match.background,
                 plate_scale=expected_residual(match.noise, match.gradient, tolerance),
                 plate_alignment=match.alignment, plate_exposure=match.exposure,
                 plate_noise=match.noise)
    return state.replace(hints=hints)


#: Flag of :class:`~trimatte.trimap.confidence.Confidence` for a subject like its plate.
LIKE_PLATE = "subject like plate"


def plate_confidence(uncertain_fraction: float, warn_fraction: float, agreement: float,
                     mean: float):
    """The :class:`~trimatte.trimap.confidence.Confidence` of a plate trimap.

    The score falls linearly with the uncertain fraction and is below the CLI's "low"
    mark (0.5) once that fraction exceeds ``warn_fraction``.
    """
    from trimatte.trimap.confidence import Confidence

    score = float(np.clip(1.0 - uncertain_fraction / (2.0 * warn_fraction), 0.0, 1.0))
    flags = (LIKE_PLATE,) if uncertain_fraction > warn_fraction else ()
    details = {"uncertain_fraction": uncertain_fraction, "mean_confidence": mean,
               "plate_agreement": agreement}
    return Confidence(score, flags, details)


def _warn_uncertain(source: Any, fraction: float, confidence: float) -> None:
    warnings.warn(
        f"{source}: the subject's colour matches the plate's along {fraction:.0%} of its "
        f"size (mean confidence {confidence:.2f}); the matte is uncertain there, check it",
        PlateUncertainWarning, stacklevel=3,
    )


@STAGES.register("plate")
@dataclass(kw_only=True)
class PlateTrimap(Stage):
    """Trimap from the difference between the photo and a background plate.

    Args:
        path: Plate file, used when the pipeline is given no ``plate`` hint.
        motion: Registration model: ``translation``, ``euclidean``, ``affine``,
            ``homography``.
        exposure: Colour model: ``gain``, ``gain-offset``, ``affine``.
        align: Register the plate (False: plate and photo are pixel-aligned).
        band: Unknown band width in pixels on each side of the subject's edge
            (None: ``band_fraction`` of the long side).
        band_fraction: Band width as a fraction of the long side.
        bg_threshold: Difference (noise units) at or below which a pixel is background.
        fg_threshold: Difference above which a pixel is subject.
        tolerance: Registration error allowed, in pixels.
        shadow_darkest: Darkest shadow explained as background (brightness ratio).
        shadows: Treat shadows the subject casts as background.
        min_area: Smallest subject component kept, as a fraction of the image area.
        warn_fraction: Warn when the uncertain part of the edge exceeds this fraction
            of the subject's area.
    """

    path: str | None = None
    motion: str = "euclidean"
    exposure: str = "gain-offset"
    align: bool = True
    band: int | None = None
    band_fraction: float = 0.01
    bg_threshold: float = 2.5
    fg_threshold: float = 4.0
    tolerance: float = 0.15
    shadow_darkest: float = 0.4
    shadows: bool = True
    min_area: float = 0.0002
    warn_fraction: float = 0.05
    role = "trimap"

    def run(self, state: MatteState) -> MatteState:
        from trimatte.plate.segment import plate_trimap

        match = _match(state, self, path=self.path, motion=self.motion, exposure=self.exposure,
                       align=self.align, tolerance=self.tolerance)
        band = self.band
        if band is None:
            band = morphology.band_width_for(state.image.shape, self.band_fraction)
        area = max(1, round(self.min_area * state.image.shape[0] * state.image.shape[1]))
        seg = plate_trimap(state.image, match, band=band, bg_threshold=self.bg_threshold,
                           fg_threshold=self.fg_threshold, tolerance=self.tolerance,
                           shadow_darkest=self.shadow_darkest, min_area=area,
                           shadows=self.shadows)
        hints = dict(state.hints, plate_background=seg.background, plate_scale=seg.scale,
                     plate_alignment=match.alignment, plate_exposure=match.exposure,
                     plate_noise=match.noise, plate_shadow=seg.shadow,
                     confidence_map=seg.confidence_map, confidence=seg.confidence,
                     plate_uncertain_fraction=seg.uncertain_fraction)
        if seg.uncertain_fraction > self.warn_fraction:
            _warn_uncertain(state.hints.get("source", "image"), seg.uncertain_fraction,
                            seg.confidence)
            hints["plate_warned"] = True
        confidence = plate_confidence(seg.uncertain_fraction, self.warn_fraction,
                                      match.agreement, seg.confidence)
        return state.replace(trimap=seg.trimap, mask=seg.mask, hints=hints,
                             confidence=confidence)


@STAGES.register("plate-alpha")
@dataclass(kw_only=True)
class PlateAlpha(Stage):
    """Closed-form matting that knows the background at every pixel (from a plate).

    Args:
        data_weight: Weight of the per-pixel compositing-equation estimates against
            the matting Laplacian (0 gives plain closed-form matting).
        epsilon: Regulariser of the local colour-line model.
        window_radius: Radius r of the (2r+1)^2 local windows.
        lambda_: Weight of the trimap constraints.
        path: Plate file when neither the hints nor a ``plate`` stage provide one.
        motion: Registration model when this stage matches the plate itself.
        exposure: Colour model when this stage matches the plate itself.
        warn_fraction: Without a ``plate`` trimap stage (which judges and warns
            itself), warn when the unknown pixels with confidence < 0.25 exceed this
            fraction of the foreground's area.
    """

    data_weight: float = 0.02
    epsilon: float = 1e-7
    window_radius: int = 1
    lambda_: float = 100.0
    path: str | None = None
    motion: str = "euclidean"
    exposure: str = "gain-offset"
    warn_fraction: float = 0.05
    role = "alpha"

    def run(self, state: MatteState) -> MatteState:
        from trimatte.plate.alpha import plate_alpha
        from trimatte.trimap import validate

        state.require("trimap", stage=self.label)
        validate.validate_trimap(state.trimap, name="trimap")
        state = ensure_background(state, self, path=self.path, motion=self.motion,
                                  exposure=self.exposure)
        alpha, confidence = plate_alpha(
            state.image, state.trimap, state.hints["plate_background"],
            state.hints["plate_scale"], data_weight=self.data_weight, epsilon=self.epsilon,
            window_radius=self.window_radius, lambda_=self.lambda_,
        )
        hints = dict(state.hints, plate_alpha_confidence=confidence)
        if "plate_uncertain_fraction" not in state.hints:  # no plate trimap stage ran
            unknown = state.trimap == 128
            mean = float(confidence[unknown].mean()) if unknown.any() else 1.0
            fraction = float(np.count_nonzero(unknown & (confidence < 0.25))) / max(
                1.0, float(np.count_nonzero(state.trimap == 255)))
            hints.update(confidence_map=confidence, confidence=mean,
                         plate_uncertain_fraction=fraction)
            if fraction > self.warn_fraction:
                _warn_uncertain(state.hints.get("source", "image"), fraction, mean)
                hints["plate_warned"] = True
        return state.replace(alpha=alpha, hints=hints)


@STAGES.register("plate-foreground")
@dataclass(kw_only=True)
class PlateForeground(Stage):
    """Foreground colours decontaminated with the known background (a plate).

    Args:
        stable_alpha: Alpha below which the multi-level estimate takes over from
            ``(I - (1 - alpha) B) / alpha``.
        path: Plate file when neither the hints nor a ``plate`` stage provide one.
        motion: Registration model when this stage matches the plate itself.
        exposure: Colour model when this stage matches the plate itself.
    """

    stable_alpha: float = 0.2
    path: str | None = None
    motion: str = "euclidean"
    exposure: str = "gain-offset"
    role = "foreground"

    def run(self, state: MatteState) -> MatteState:
        from trimatte.plate.alpha import plate_foreground

        state.require("alpha", stage=self.label)
        state = ensure_background(state, self, path=self.path, motion=self.motion,
                                  exposure=self.exposure)
        fg = plate_foreground(state.image, state.alpha, state.hints["plate_background"],
                              stable_alpha=self.stable_alpha)
        return state.replace(foreground=fg)
