"""The classical-guided deep alpha stage: closed-form matting corrected by a DIM-style network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from trimatte.errors import ConfigError
from trimatte.params import check_range
from trimatte.pipeline import (
    STAGES,
    MatteState,
    Stage,
    nested_alpha_stage,
    nested_stage_config,
)


@STAGES.register("guided")
@dataclass(kw_only=True)
class GuidedAlpha(Stage):
    """Closed-form alpha, then the classical-guided network's correction.

    The network (:mod:`trimatte.models.guided`) sees the image, the trimap and
    closed-form's alpha, and starts as the identity: an untrained model returns
    closed-form's matte. A trimap without definite foreground (a net, a wire spring)
    cannot be solved by closed-form matting; the network then starts from the
    trimap's own values and predicts the matte alone.

    Args:
        weights: Path to a checkpoint, or ``"default"`` for the shipped weights.
        epsilon: Closed-form matting's regulariser (when ``guide`` is None).
        guide: The alpha stage that makes the guide, as a config
            ``{"name": ..., "params": {...}}`` (a bare name is accepted); None:
            closed-form matting with ``epsilon``. For large images the default pipeline
            passes ``refined`` closed-form here: the network always works at
            ``max_size``, so only the guide needs the high-resolution machinery.
        refine: Run the refinement CNN.
        context: Pixels of context around the unknown band's bounding box.
        max_size: Longest side the network sees; a larger unknown box is shrunk for
            the network and its correction enlarged onto the full-resolution
            closed-form alpha (None: full resolution). 640 is the scale the shipped
            network was trained at (photos of at most 640 px); chosen on the held-out
            pseudo-alpha portraits, where full resolution was worse (SAD 14.4 vs 12.1).
        smoothing: Gaussian sigma (pixels at the network's scale) applied to the
            network's correction over the unknown pixels before it is added to
            closed-form's alpha (:func:`~trimatte.models.guided.smooth_correction`).
            The network fixes regions closed-form gets wrong; its pixel-scale texture
            only adds gradient error, and closed-form keeps the fine detail. 4 was
            chosen on the training split's 10 AM-2k photos (band-10 trimaps: SAD 0.66x
            and Grad 0.84x closed-form's, against 0.69x and 1.30x unsmoothed); 0 turns
            it off.
        corrections: ``"both"``: add the whole correction; ``"lower"``: only where it
            lowers closed-form's alpha. With trimaps whose unknown band hugs the true
            edge the network's added alpha is most of its gain (training split, band-10
            trimaps: SAD 19.6 with both, 29.8 lower-only, closed-form 29.7); with the
            ``salient`` source's wide automatic trimaps its added alpha fills gaps and
            halos in the unsure zone instead (whole-image SAD 28.3 with both, **26.5**
            lower-only, closed-form 30.3). :func:`trimatte.api.build_pipeline` picks
            ``"lower"`` after automatic trimaps.
        min_size: Shortest long side the network sees: a smaller unknown box is
            enlarged for the network and its correction shrunk back (None: never
            enlarged). At small scales the network mistakes a subject's whole rim for
            edge and lowers it: frames of 320x240 clips made from the training split's
            10 AM-2k photos (60 frames, salient trimaps) score SAD 3.10 without, 3.03
            at 320 (closed-form 3.10); on those photos shrunk to 240 / 400 px it is
            29.1 / 26.1 at 320 against 29.7 / 26.2 without. Larger sizes help the clip
            frames more (2.96 at 640) but hurt the 400 px photos (27.5).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    """

    weights: str = "default"
    epsilon: float = 1e-7
    guide: dict[str, Any] | None = None
    refine: bool = True
    context: int = 32
    max_size: int | None = 640
    smoothing: float = 4.0
    corrections: Literal["both", "lower"] = "both"
    min_size: int | None = 320
    device: str = "cpu"
    role = "alpha"

    def __post_init__(self) -> None:
        self.guide = nested_stage_config(self.guide)
        super().__post_init__()
        if self.guide is not None:
            self.guide = self.guide_stage().to_dict()  # every parameter spelled out

    def guide_stage(self) -> Stage:
        """The stage that computes the guide alpha."""
        if self.guide is None:
            return STAGES.build("closed-form", epsilon=self.epsilon)
        return nested_alpha_stage(self.guide, "guide", self)

    def check_params(self) -> None:
        check_range(self.epsilon, "epsilon", self.owner, gt=0)
        self.guide_stage()
        check_range(self.context, "context", self.owner, ge=0)
        check_range(self.max_size, "max_size", self.owner, ge=32)
        check_range(self.min_size, "min_size", self.owner, ge=32)
        if self.min_size is not None and self.max_size is not None and (
                self.min_size > self.max_size):
            raise ConfigError(f"min_size ({self.min_size}) is above max_size "
                              f"({self.max_size})", self.owner)
        check_range(self.smoothing, "smoothing", self.owner, ge=0)

    def run(self, state: MatteState) -> MatteState:
        import numpy as np

        from trimatte.models.guided import predict_guided_alpha
        from trimatte.stages.deep import load_cached_model

        state.require("trimap", stage=self.label)
        trimap = state.trimap
        if (trimap == 255).any() and (trimap == 0).any():
            guide = self.guide_stage().run(state).alpha
        else:
            guide = trimap.astype(np.float32) / 255.0
        model = load_cached_model(self.weights, "guided", self.device)
        alpha = predict_guided_alpha(model, state.image, trimap, guide, refine=self.refine,
                                     context=self.context, device=self.device,
                                     max_size=self.max_size, smoothing=self.smoothing,
                                     corrections=self.corrections, min_size=self.min_size)
        return state.replace(alpha=alpha)
