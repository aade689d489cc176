"""The ``salient`` trimap source: U²-Net-p saliency → threshold → unknown band.

It also writes ``state.confidence`` (:class:`trimatte.trimap.confidence.Confidence`);
see :mod:`trimatte.stages.auto` for the ``auto`` source (completion, adaptive band).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimatte.errors import TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, check_same_size
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage, renamed_params
from trimatte.trimap import morphology
from trimatte.trimap.completion import select_objects
from trimatte.trimap.confidence import estimate_confidence
from trimatte.trimap.morphology import DEFAULT_BAND_FRACTION
from trimatte.trimap.saliency import check_saliency, trimap_from_saliency


@STAGES.register("salient")
@renamed_params(band="band_radius")
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
            ``band_radius`` is None); the default
            (:data:`~trimatte.trimap.morphology.DEFAULT_BAND_FRACTION`) gives ~24 px on
            a 1620-px photo.
        band_radius: Band radius in pixels, overriding ``band_fraction`` (``band`` before).
        threshold: Saliency at or above which a pixel is foreground.
        confident_bg: Saliency at or below which a pixel is sure background (None: off).
        confident_fg: Saliency at or above which a pixel is sure foreground (None: off).
        size: Network input side in pixels (320, the training size).
        device: Torch device the network runs on.
    """

    band_fraction: float = DEFAULT_BAND_FRACTION
    band_radius: int | None = None
    threshold: float = 0.5
    confident_bg: float | None = 0.05
    confident_fg: float | None = 0.95
    size: int = 320
    device: str = "cpu"
    role = "trimap"

    def check_params(self) -> None:
        check_range(self.band_fraction, "band_fraction", self.owner, ge=0)
        check_range(self.band_radius, "band_radius", self.owner, ge=0)
        check_range(self.threshold, "threshold", self.owner, ge=0, le=1)
        check_range(self.confident_bg, "confident_bg", self.owner, ge=0, le=1)
        check_range(self.confident_fg, "confident_fg", self.owner, ge=0, le=1)
        check_range(self.size, "size", self.owner, ge=32)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.models.salient_net import load_u2netp, predict_saliency

        band = self.band_radius
        if band is None:
            band = morphology.band_radius_for(state.image.shape, self.band_fraction)
        saliency = state.hints.get("saliency")
        if saliency is None:
            saliency = predict_saliency(
                state.image, model=load_u2netp(self.device), size=self.size
            )
        else:  # computed earlier for this image (editor, benchmark): reuse it
            saliency = check_saliency(saliency)
            check_same_size(state.image.shape, saliency.shape, "saliency")
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
                "foreground is left; use a smaller 'band_radius' / 'band_fraction' or lower "
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
