"""The ``refined`` alpha stage: any alpha stage at a base resolution plus full-resolution
re-solves of its uncertain patches (:mod:`trimatte.matting.refine`).

Below ``above_megapixels`` it is the inner stage itself (same matte, bit for bit).
Above, the inner stage runs on the image downscaled to ``base_megapixels``; the patches
whose error score reaches ``error_threshold`` are then re-solved at full resolution:
exactly with the base matte as boundary condition when the inner stage is
``closed-form``, and by running the inner stage on the patch plus ``margin`` pixels of
context, feathered in, for any other stage (``dim``, ``guided``, ...).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from trimatte.errors import TrimatteWarning
from trimatte.params import check_range
from trimatte.pipeline import (
    STAGES,
    MatteState,
    Stage,
    nested_alpha_stage,
    nested_stage_config,
)

#: A matte whose refinement left more than this share of the error score unrefined
#: (``max_patches``) is reported with a warning.
LOW_CONFIDENCE = 0.9


@STAGES.register("refined")
@dataclass(kw_only=True)
class RefinedAlpha(Stage):
    """Base-resolution alpha plus selective full-resolution refinement, for large images.

    Args:
        inner: The wrapped alpha stage as a config, ``{"name": ..., "params": {...}}``
            (a bare stage name is accepted).
        above_megapixels: Images up to this size go straight to the inner stage.
        base_megapixels: Size of the base solve.
        patch: Side of the refinement patches, in pixels.
        margin: Context (and overlap) around each patch, in pixels.
        error_threshold: Mean error score from which a patch is re-solved (0: all
            patches holding unknown pixels).
        max_patches: Re-solve at most this many patches (the worst); None: no cap.
        progress: Show a progress bar over the patches.
    """

    inner: dict[str, Any] = field(default_factory=lambda: {"name": "closed-form", "params": {}})
    above_megapixels: float = 6.0
    base_megapixels: float = 2.0
    patch: int = 256
    margin: int = 16
    error_threshold: float = 0.02
    max_patches: int | None = None
    progress: bool = False
    role = "alpha"

    def __post_init__(self) -> None:
        self.inner = nested_stage_config(self.inner)
        super().__post_init__()
        self.inner = self.inner_stage().to_dict()  # canonical: every parameter spelled out

    def check_params(self) -> None:
        check_range(self.above_megapixels, "above_megapixels", self.owner, ge=0)
        check_range(self.base_megapixels, "base_megapixels", self.owner, gt=0)
        check_range(self.patch, "patch", self.owner, ge=16)
        check_range(self.margin, "margin", self.owner, ge=4)
        check_range(self.error_threshold, "error_threshold", self.owner, ge=0)
        if self.max_patches is not None:
            check_range(self.max_patches, "max_patches", self.owner, ge=0)
        self.inner_stage()

    def inner_stage(self) -> Stage:
        """The wrapped stage, built from :attr:`inner`."""
        return nested_alpha_stage(self.inner, "inner", self)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.matting import refine
        from trimatte.stages.alpha import ClosedFormAlpha
        from trimatte.trimap import validate

        inner = self.inner_stage()
        height, width = state.image.shape[:2]
        if height * width <= self.above_megapixels * 1e6:
            return inner.run(state)
        state.require("trimap", stage=self.label)
        validate.validate_trimap(state.trimap, name="trimap")

        def base(image, trimap):
            return inner.run(MatteState(image=image, trimap=trimap)).alpha

        if isinstance(inner, ClosedFormAlpha):
            solver = refine.closed_form_patch(self.margin, epsilon=inner.epsilon,
                                              window_radius=inner.window_radius,
                                              lambda_=inner.lambda_)
        else:
            solver = refine.function_patch(base, self.margin)
        alpha, report = refine.refine_alpha(
            state.image, state.trimap, base, solver,
            base_pixels=round(self.base_megapixels * 1e6), patch=self.patch,
            error_threshold=self.error_threshold, max_patches=self.max_patches,
            progress=self.progress,
        )
        if report.confidence < LOW_CONFIDENCE:
            warnings.warn(TrimatteWarning(
                f"high-resolution refinement re-solved {report.refined_patches} of "
                f"{report.refined_patches + report.skipped_patches} uncertain patches "
                f"(max_patches={self.max_patches}); the matte may be soft there "
                f"(confidence {report.confidence:.2f})"), stacklevel=2)
        hints = dict(state.hints, refine=report.as_dict())
        return state.replace(alpha=alpha, hints=hints)
