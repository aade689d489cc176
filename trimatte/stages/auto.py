"""The ``auto`` trimap source: the whole subject, an adaptive band, and a confidence.

U²-Net-p saliency → object selection → saliency-seeded GrabCut completion →
adaptive unknown band (:mod:`trimatte.trimap.completion`, :mod:`trimatte.trimap.band`),
with a :class:`~trimatte.trimap.confidence.Confidence` in ``state.confidence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimatte.errors import TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, check_same_size
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage
from trimatte.trimap.band import (
    BandParams,
    band_radius,
    mark_uncertain,
    variable_band_trimap,
)
from trimatte.trimap.completion import complete_subject, select_objects
from trimatte.trimap.confidence import estimate_confidence
from trimatte.trimap.saliency import check_saliency


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

    1. U²-Net-p saliency (:func:`trimatte.models.salient_net.predict_saliency`);
    2. the most salient object is kept, and a second one only when it is strongly
       salient too (:func:`trimatte.trimap.completion.select_objects`);
    3. with ``complete``, parts attached to it that the net missed are added by
       saliency-seeded GrabCut (:func:`trimatte.trimap.completion.complete_subject`);
    4. an unknown band whose radius follows the edge: wide where the saliency edge is
       soft, narrow on hard edges (:mod:`trimatte.trimap.band`); pixels the net was
       unsure about (saliency strictly between 0.05 and 0.95, connected to the subject)
       and pixels added by completion are unknown too
       (:func:`trimatte.trimap.band.mark_uncertain`), so the matting solver decides them;
    5. a :class:`~trimatte.trimap.confidence.Confidence` in ``state.confidence``.

    Writes ``trimap``, ``mask`` (the completed hard mask), ``confidence`` and
    ``hints["saliency"]``. A saliency map already in ``hints["saliency"]`` (float32
    ``(H, W)`` in [0, 1], e.g. from an earlier run on the same image) is reused.

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
        saliency = state.hints.get("saliency")
        if saliency is None:
            saliency = predict_saliency(image, model=load_u2netp(self.device), size=self.size)
        else:  # computed earlier for this image (editor, benchmark): reuse it
            saliency = check_saliency(saliency)
            check_same_size(image.shape, saliency.shape, "saliency")
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
        added = mask & ~selection.mask if self.complete else None
        trimap = mark_uncertain(trimap, saliency, mask, added=added)
        confidence = estimate_confidence(
            trimap, saliency=saliency, mask=mask, salient=selection.mask,
            second_strength=selection.second_strength, threshold=self.threshold,
        )
        _check_usable(trimap, peak, self.threshold, self.label)
        hints = dict(state.hints, saliency=saliency)
        return state.replace(mask=mask, trimap=trimap, hints=hints, confidence=confidence)
