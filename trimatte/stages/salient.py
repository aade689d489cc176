"""Automatic trimap sources from U²-Net-p saliency.

* ``salient``: saliency → threshold → fixed unknown band (plus low-confidence pixels);
* ``auto``: saliency → object selection → saliency-seeded GrabCut completion →
  adaptive unknown band, with a confidence estimate.

Both write ``state.confidence`` (:class:`trimatte.trimap.confidence.Confidence`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimatte.errors import TrimapError
from trimatte.image import BACKGROUND, FOREGROUND
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage
from trimatte.trimap import morphology
from trimatte.trimap.band import BandParams, band_radius, variable_band_trimap
from trimatte.trimap.completion import complete_subject, select_objects
from trimatte.trimap.confidence import estimate_confidence
from trimatte.trimap.saliency import trimap_from_saliency


@STAGES.register("salient")
@dataclass(kw_only=True)
class SalientTrimap(Stage):
    """Trimap of the most salient object, from the shipped U²-Net-p network.

    Works with no user input: the saliency map (see
    :func:`trimatte.models.salient_net.predict_saliency`) is thresholded, an unknown band
    is drawn around the boundary, and low-confidence pixels become unknown too (see
    :func:`trimatte.trimap.saliency.trimap_from_saliency`). Also writes ``mask``
    (the thresholded saliency) to the state, and ``hints["saliency"]`` (the map).

    Args:
        band_fraction: Band radius as a fraction of the image's long side (used when
            ``band`` is None); the default gives ~24 px on a 1620-px photo.
        band: Band radius in pixels, overriding ``band_fraction``.
        threshold: Saliency at or above which a pixel is foreground.
        confident_bg: Saliency at or below which a pixel is sure background (None: off).
        confident_fg: Saliency at or above which a pixel is sure foreground (None: off).
        size: Network input side in pixels (320, the training size).
        device: Torch device the network runs on.
    """

    band_fraction: float = 0.015
    band: int | None = None
    threshold: float = 0.5
    confident_bg: float | None = 0.05
    confident_fg: float | None = 0.95
    size: int = 320
    device: str = "cpu"
    role = "trimap"

    def check_params(self) -> None:
        check_range(self.band_fraction, "band_fraction", self.owner, ge=0)
        check_range(self.band, "band", self.owner, ge=0)
        check_range(self.threshold, "threshold", self.owner, ge=0, le=1)
        check_range(self.confident_bg, "confident_bg", self.owner, ge=0, le=1)
        check_range(self.confident_fg, "confident_fg", self.owner, ge=0, le=1)
        check_range(self.size, "size", self.owner, ge=32)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.models.salient_net import load_u2netp, predict_saliency

        band = self.band
        if band is None:
            band = morphology.band_width_for(state.image.shape, self.band_fraction)
        saliency = predict_saliency(
            state.image, model=load_u2netp(self.device), size=self.size
        )
        trimap = trimap_from_saliency(
            saliency,
            band=band,
            threshold=self.threshold,
            confident_bg=self.confident_bg,
            confident_fg=self.confident_fg,
        )
        peak = float(saliency.max())
        if peak < self.threshold:
            raise TrimapError(
                f"no salient object found (highest saliency {peak:.2f} is below the "
                f"threshold {self.threshold}); lower 'threshold', or use a trimap source "
                "with user input such as 'grabcut' or 'given'",
                self.label,
            )
        if not np.any(trimap == FOREGROUND):
            raise TrimapError(
                f"the salient object is too thin for a {band}-px band: no definite "
                "foreground is left; use a smaller 'band' / 'band_fraction' or lower "
                "'confident_fg' (None turns it off)",
                self.label,
            )
        if not np.any(trimap == BACKGROUND):
            raise TrimapError(
                "the salient region covers the whole image: no definite background is "
                "left; raise 'threshold', use a smaller band, or use 'grabcut' / 'given'",
                self.label,
            )
        hints = dict(state.hints, saliency=saliency)
        mask = saliency >= self.threshold
        selection = select_objects(saliency, threshold=self.threshold)
        confidence = estimate_confidence(
            trimap, saliency=saliency, mask=mask, second_strength=selection.second_strength,
            threshold=self.threshold,
        )
        return state.replace(mask=mask, trimap=trimap, hints=hints, confidence=confidence)


def _check_usable(trimap: np.ndarray, peak: float, threshold: float, label: str) -> None:
    if peak < threshold:
        raise TrimapError(
            f"no salient object found (highest saliency {peak:.2f} is below the "
            f"threshold {threshold}); lower 'threshold', or use a trimap source "
            "with user input such as 'grabcut' or 'given'",
            label,
        )
    if not np.any(trimap == FOREGROUND):
        raise TrimapError(
            "the subject is too thin for its band: no definite foreground is left; "
            "lower 'r_max' / 'r_min' or use 'given'",
            label,
        )
    if not np.any(trimap == BACKGROUND):
        raise TrimapError(
            "the subject covers the whole image: no definite background is left; "
            "raise 'threshold', or use 'grabcut' / 'given'",
            label,
        )


@STAGES.register("auto")
@dataclass(kw_only=True)
class AutoTrimap(Stage):
    """Whole-subject trimap with an adaptive band and a confidence estimate.

    1. U²-Net-p saliency (:func:`trimatte.models.saliency.predict_saliency`);
    2. the most salient object is kept, and a second one only when it is strongly
       salient too (:func:`trimatte.trimap.completion.select_objects`);
    3. with ``complete``, parts attached to it that the net missed are added by
       saliency-seeded GrabCut (:func:`trimatte.trimap.completion.complete_subject`);
    4. an unknown band whose radius follows the edge: wide on soft, textured or
       ambiguous edges, narrow on hard ones (:mod:`trimatte.trimap.band`);
    5. a :class:`~trimatte.trimap.confidence.Confidence` in ``state.confidence``.

    Writes ``trimap``, ``mask`` (the completed hard mask), ``confidence`` and
    ``hints["saliency"]``.

    Args:
        threshold: Saliency at or above which a pixel belongs to an object.
        complete: Run the GrabCut completion step.
        reach: How far around the salient object completion may add pixels, as a
            fraction of the image diagonal.
        work_side: Long side in pixels GrabCut runs at.
        r_min: Smallest band radius, fraction of the long side (hard edges).
        r_max: Largest band radius, fraction of the long side (hair, fur).
        soft_gain: Band pixels per pixel of saliency transition width.
        texture_gain: Weight of the edge-texture cue.
        ambiguity_gain: Weight of the colour-ambiguity cue.
        size: Network input side in pixels.
        device: Torch device the network runs on.
    """

    threshold: float = 0.5
    complete: bool = True
    reach: float = 0.06
    work_side: int = 400
    r_min: float = BandParams.r_min
    r_max: float = BandParams.r_max
    soft_gain: float = BandParams.soft_gain
    texture_gain: float = BandParams.texture_gain
    ambiguity_gain: float = BandParams.ambiguity_gain
    size: int = 320
    device: str = "cpu"
    role = "trimap"

    def check_params(self) -> None:
        check_range(self.threshold, "threshold", self.owner, ge=0, le=1)
        check_range(self.reach, "reach", self.owner, ge=0, le=1)
        check_range(self.work_side, "work_side", self.owner, ge=32)
        check_range(self.r_min, "r_min", self.owner, ge=0, le=0.5)
        check_range(self.r_max, "r_max", self.owner, ge=0, le=0.5)
        for name in ("soft_gain", "texture_gain", "ambiguity_gain"):
            check_range(getattr(self, name), name, self.owner, ge=0)
        check_range(self.size, "size", self.owner, ge=32)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.models.salient_net import load_u2netp, predict_saliency

        image = state.image
        saliency = predict_saliency(image, model=load_u2netp(self.device), size=self.size)
        peak = float(saliency.max())
        if peak < self.threshold:
            _check_usable(np.zeros(1, np.uint8), peak, self.threshold, self.label)
        selection = select_objects(saliency, threshold=self.threshold)
        mask = selection.mask
        if self.complete:
            mask = complete_subject(image, saliency, mask, reach=self.reach,
                                    work_side=self.work_side)
        params = BandParams(r_min=self.r_min, r_max=self.r_max, soft_gain=self.soft_gain,
                            texture_gain=self.texture_gain,
                            ambiguity_gain=self.ambiguity_gain)
        trimap = variable_band_trimap(mask, band_radius(image, mask, saliency, params))
        confidence = estimate_confidence(
            trimap, saliency=saliency, mask=mask, salient=selection.mask,
            second_strength=selection.second_strength, threshold=self.threshold,
        )
        _check_usable(trimap, peak, self.threshold, self.label)
        hints = dict(state.hints, saliency=saliency)
        return state.replace(mask=mask, trimap=trimap, hints=hints, confidence=confidence)
