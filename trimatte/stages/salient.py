"""The ``salient`` trimap source: U²-Net-p saliency → sure regions → unknown band.

It also writes ``state.confidence`` (:class:`trimatte.trimap.confidence.Confidence`);
see :mod:`trimatte.stages.auto` for the ``auto`` source (completion, adaptive band).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimatte.errors import ConfigError, TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, check_same_size
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage, renamed_params
from trimatte.trimap import morphology
from trimatte.trimap.completion import select_objects
from trimatte.trimap.confidence import UNCERTAIN as UNSURE_NET
from trimatte.trimap.confidence import estimate_confidence
from trimatte.trimap.saliency import (
    check_saliency,
    trimap_from_saliency,
    trimap_from_uncertain,
)

#: Band radius of the ``salient`` source as a fraction of the long side (~16 px on a
#: 1620-px photo), chosen with its thresholds on the validation images.
SALIENT_BAND_FRACTION = 0.01
#: How the ``salient`` source draws its band (see :class:`SalientTrimap`).
BAND_MODES = ("uncertain", "threshold")


@STAGES.register("salient")
@renamed_params(band="band_radius")
@dataclass(kw_only=True)
class SalientTrimap(Stage):
    """Trimap of the most salient object, from the shipped U²-Net-p network.

    Works with no user input, from the saliency map (see
    :func:`trimatte.models.salient_net.predict_saliency`). With ``band_mode="uncertain"``
    (the default) sure foreground and background are the pixels the network is sure
    about (``>= confident_fg``, ``<= confident_bg``), each eroded by the band radius,
    and everything else is unknown
    (:func:`trimatte.trimap.saliency.trimap_from_uncertain`): the band follows the
    softness of the edge. With ``band_mode="threshold"`` (the source before session 3)
    the map is thresholded, a band is drawn around that boundary and low-confidence
    pixels become unknown too (:func:`trimatte.trimap.saliency.trimap_from_saliency`).
    Also writes ``mask`` (the thresholded saliency) to the state, ``hints["saliency"]``
    (the map) and ``confidence``.

    Args:
        band_fraction: Band radius as a fraction of the image's long side (used when
            ``band_radius`` is None); the default (:data:`SALIENT_BAND_FRACTION`) gives
            ~16 px on a 1620-px photo.
        band_radius: Band radius in pixels, overriding ``band_fraction`` (``band`` before).
        band_mode: ``"uncertain"`` or ``"threshold"`` (see above).
        threshold: Saliency at or above which a pixel is foreground (the ``mask``, the
            band of ``"threshold"`` mode, and the "no salient object" check).
        confident_bg: Saliency at or below which a pixel is sure background (None: off;
            ``"threshold"`` mode only).
        confident_fg: Saliency at or above which a pixel is sure foreground (None: off;
            ``"threshold"`` mode only).
        size: Network input side in pixels (320, the training size).
        mirror_check: Also run the network on the mirrored photo and lower the
            confidence when its subject differs (the ``unstable subject`` cue of
            :func:`trimatte.trimap.confidence.estimate_confidence`); one more network
            pass (about 0.9 CPU s on a 1620-px photo). Skipped when the saliency map comes in
            ``hints`` without ``hints["saliency_mirrored"]``.
        device: Torch device the network runs on.
    """

    band_fraction: float = SALIENT_BAND_FRACTION
    band_radius: int | None = None
    band_mode: str = "uncertain"
    threshold: float = 0.5
    confident_bg: float | None = 0.02
    confident_fg: float | None = 0.98
    size: int = 320
    mirror_check: bool = True
    device: str = "cpu"
    role = "trimap"

    def check_params(self) -> None:
        check_range(self.band_fraction, "band_fraction", self.owner, ge=0)
        check_range(self.band_radius, "band_radius", self.owner, ge=0)
        check_range(self.threshold, "threshold", self.owner, ge=0, le=1)
        check_range(self.confident_bg, "confident_bg", self.owner, ge=0, le=1)
        check_range(self.confident_fg, "confident_fg", self.owner, ge=0, le=1)
        check_range(self.size, "size", self.owner, ge=32)
        if self.band_mode not in BAND_MODES:
            raise ConfigError(
                f"band_mode must be one of {', '.join(BAND_MODES)}, got {self.band_mode!r}",
                self.owner,
            )
        if self.band_mode == "uncertain" and (
            self.confident_bg is None or self.confident_fg is None
            or self.confident_bg >= self.confident_fg
        ):
            raise ConfigError(
                "band_mode 'uncertain' needs confident_bg < confident_fg (neither None)",
                self.owner,
            )

    def run(self, state: MatteState) -> MatteState:
        from trimatte.models.salient_net import load_u2netp, predict_saliency

        band = self.band_radius
        if band is None:
            band = morphology.band_radius_for(state.image.shape, self.band_fraction)
        saliency = state.hints.get("saliency")
        mirrored = state.hints.get("saliency_mirrored")
        if saliency is None:
            model = load_u2netp(self.device)
            saliency = predict_saliency(state.image, model=model, size=self.size)
            if self.mirror_check:
                flipped = np.ascontiguousarray(state.image[:, ::-1])
                mirrored = predict_saliency(flipped, model=model, size=self.size)[:, ::-1]
        else:  # computed earlier for this image (editor, benchmark): reuse it
            saliency = check_saliency(saliency)
            check_same_size(state.image.shape, saliency.shape, "saliency")
        if mirrored is not None:
            mirrored = check_saliency(mirrored, "saliency_mirrored")
            check_same_size(state.image.shape, mirrored.shape, "saliency_mirrored")
        fallback = False
        if self.band_mode == "uncertain":
            trimap = trimap_from_uncertain(
                saliency, band=band, confident_bg=self.confident_bg,
                confident_fg=self.confident_fg,
            )
            if not np.any(trimap == FOREGROUND):
                # the net is never sure (or the sure part is thinner than the band): the
                # band around the threshold contour still gives a matte; say so below
                fallback = True
                trimap = trimap_from_saliency(
                    saliency, band=band, threshold=self.threshold,
                    confident_bg=self.confident_bg, confident_fg=None,
                )
        else:
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
        if mirrored is not None and self.mirror_check:
            hints["saliency_mirrored"] = mirrored  # a redraw from a changed map reuses it
        mask = saliency >= self.threshold
        selection = select_objects(saliency, threshold=self.threshold)
        confidence = estimate_confidence(
            trimap, saliency=saliency, mask=mask, second_strength=selection.second_strength,
            threshold=self.threshold, mirrored=mirrored if self.mirror_check else None,
        )
        if fallback:
            confidence = confidence.with_penalty(UNSURE_NET, 0.3, no_sure_foreground=1.0)
        return state.replace(mask=mask, trimap=trimap, hints=hints, confidence=confidence)
