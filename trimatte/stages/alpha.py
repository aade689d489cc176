"""Classical alpha estimation stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage
from trimatte.trimap import validate


@STAGES.register("closed-form")
@dataclass(kw_only=True)
class ClosedFormAlpha(Stage):
    """Closed-form matting (Levin, Lischinski & Weiss 2008).

    Args:
        epsilon: Regulariser of the local colour-line model.
        window_radius: Radius r of the (2r+1)^2 local windows.
        lambda_: Weight of the trimap constraints.
    """

    epsilon: float = 1e-7
    window_radius: int = 1
    lambda_: float = 100.0
    role = "alpha"

    def check_params(self) -> None:
        check_range(self.epsilon, "epsilon", self.owner, gt=0)
        check_range(self.window_radius, "window_radius", self.owner, ge=1)
        check_range(self.lambda_, "lambda_", self.owner, gt=0)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.matting.closed_form import closed_form_alpha

        state.require("trimap", stage=self.label)
        validate.validate_trimap(state.trimap, name="trimap")
        alpha = closed_form_alpha(
            state.image,
            state.trimap,
            epsilon=self.epsilon,
            window_radius=self.window_radius,
            lambda_=self.lambda_,
        )
        return state.replace(alpha=alpha)


@STAGES.register("grabcut-hard")
@dataclass(kw_only=True)
class GrabCutAlpha(Stage):
    """GrabCut's hard mask as a binary alpha (0 or 1).

    Uses the mask of an earlier GrabCut trimap source when there is one;
    otherwise runs GrabCut initialised from the trimap.
    """

    iterations: int = 5
    role = "alpha"

    def check_params(self) -> None:
        check_range(self.iterations, "iterations", self.owner, ge=1)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.trimap.grabcut import grabcut_mask_from_trimap

        mask = state.mask
        if mask is None:
            state.require("trimap", stage=self.label)
            validate.validate_trimap(state.trimap, name="trimap")
            mask = grabcut_mask_from_trimap(state.image, state.trimap, iterations=self.iterations)
        return state.replace(mask=mask, alpha=mask.astype(np.float32))
