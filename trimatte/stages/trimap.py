"""Trimap sources and trimap refinement stages."""

from __future__ import annotations

from dataclasses import dataclass

from trimatte.image import check_same_size
from trimatte.pipeline import MatteState, Stage
from trimatte.registry import STAGES
from trimatte.trimap import cleanup, grabcut, morphology, validate


@STAGES.register("given")
@dataclass(kw_only=True)
class GivenTrimap(Stage):
    """Use the trimap passed to the pipeline (checked for size and content)."""

    role = "trimap"

    def run(self, state: MatteState) -> MatteState:
        state.require("trimap", stage=self.label)
        check_same_size(state.image.shape, state.trimap.shape, "trimap")
        validate.validate_trimap(state.trimap, name="trimap")
        return state


@STAGES.register("grabcut")
@dataclass(kw_only=True)
class GrabCutTrimap(Stage):
    """OpenCV GrabCut from a rectangle, a mask or scribbles, then a trimap band.

    Hints read from the state: ``rect`` (x, y, w, h), ``mask`` (bool, probable
    foreground), ``fg_scribbles`` / ``bg_scribbles`` (bool masks). With no hint the
    rectangle is the image less ``margin`` of its size on each side.

    Args:
        band: Width of the unknown band in pixels around the GrabCut boundary.
        iterations: GrabCut iterations.
        margin: Default rectangle margin as a fraction of the image size.
    """

    band: int = 10
    iterations: int = 5
    margin: float = 0.05
    role = "trimap"

    def run(self, state: MatteState) -> MatteState:
        hints = state.hints
        mask = grabcut.grabcut_mask(
            state.image,
            rect=hints.get("rect"),
            mask=hints.get("mask"),
            fg_scribbles=hints.get("fg_scribbles"),
            bg_scribbles=hints.get("bg_scribbles"),
            iterations=self.iterations,
            margin=self.margin,
        )
        trimap = morphology.trimap_from_mask(mask, band=self.band)
        return state.replace(mask=mask, trimap=trimap)


@STAGES.register("band")
@dataclass(kw_only=True)
class TrimapBand(Stage):
    """Redraw the unknown band with a controlled width (erode/dilate).

    Args:
        width: Band width in pixels; ``None`` means ``fraction`` of the long side.
        fraction: Band width as a fraction of the image's long side (if ``width`` is None).
    """

    width: int | None = None
    fraction: float = 0.01
    role = "trimap_refine"

    def run(self, state: MatteState) -> MatteState:
        state.require("trimap", stage=self.label)
        width = self.width
        if width is None:
            width = morphology.band_width_for(state.trimap.shape, self.fraction)
        return state.replace(trimap=morphology.rebuild_band(state.trimap, width))


@STAGES.register("cleanup")
@dataclass(kw_only=True)
class TrimapCleanup(Stage):
    """Remove small foreground/background islands and fill holes in a predicted trimap.

    Args:
        min_area: Known regions smaller than this (pixels, or fraction of the
            image area if < 1) become unknown ... see :func:`trimatte.trimap.cleanup.clean_trimap`.
    """

    min_area: float = 0.001
    role = "trimap_refine"

    def run(self, state: MatteState) -> MatteState:
        state.require("trimap", stage=self.label)
        return state.replace(trimap=cleanup.clean_trimap(state.trimap, min_area=self.min_area))
