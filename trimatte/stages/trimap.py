"""Trimap sources and trimap refinement stages."""

from __future__ import annotations

from dataclasses import dataclass

from trimatte.image import check_same_size
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage, renamed_params
from trimatte.trimap import cleanup, grabcut, morphology, validate
from trimatte.trimap.morphology import DEFAULT_BAND_FRACTION


@STAGES.register("given")
@dataclass(kw_only=True)
class GivenTrimap(Stage):
    """Use the trimap passed to the pipeline (checked for size and content)."""

    role = "trimap"
    uses_given_trimap = True

    def run(self, state: MatteState) -> MatteState:
        state.require("trimap", stage=self.label)
        check_same_size(state.image.shape, state.trimap.shape, "trimap")
        validate.validate_trimap(state.trimap, name="trimap")
        return state


@STAGES.register("grabcut")
@renamed_params(band="band_radius")
@dataclass(kw_only=True)
class GrabCutTrimap(Stage):
    """OpenCV GrabCut from a rectangle, a mask or scribbles, then a trimap band.

    Hints read from the state: ``rect`` (x, y, w, h), ``mask`` (bool, probable
    foreground), ``fg_scribbles`` / ``bg_scribbles`` (bool masks). With no hint the
    rectangle is the image less ``margin`` of its size on each side.

    Args:
        band_radius: Radius in pixels of the unknown band around the GrabCut
            boundary (``band`` before); None: ``band_fraction`` of the long side.
        band_fraction: Band radius as a fraction of the image's long side (default
            :data:`~trimatte.trimap.morphology.DEFAULT_BAND_FRACTION`).
        iterations: GrabCut iterations.
        margin: Default rectangle margin as a fraction of the image size.
    """

    band_radius: int | None = None
    band_fraction: float = DEFAULT_BAND_FRACTION
    iterations: int = 5
    margin: float = 0.05
    role = "trimap"

    def check_params(self) -> None:
        check_range(self.band_radius, "band_radius", self.owner, ge=0)
        check_range(self.band_fraction, "band_fraction", self.owner, ge=0)
        check_range(self.iterations, "iterations", self.owner, ge=1)
        check_range(self.margin, "margin", self.owner, ge=0, lt=0.5)

    def run(self, state: MatteState) -> MatteState:
        hints = state.hints
        band = self.band_radius
        if band is None:
            band = morphology.band_radius_for(state.image.shape, self.band_fraction)
        mask, trimap = grabcut.grabcut_trimap(
            state.image,
            band=band,
            rect=hints.get("rect"),
            mask=hints.get("mask"),
            fg_scribbles=hints.get("fg_scribbles"),
            bg_scribbles=hints.get("bg_scribbles"),
            iterations=self.iterations,
            margin=self.margin,
        )
        return state.replace(mask=mask, trimap=trimap)


@STAGES.register("band")
@renamed_params(width="band_radius", fraction="band_fraction")
@dataclass(kw_only=True)
class TrimapBand(Stage):
    """Redraw the unknown band with a controlled radius (erode/dilate).

    Args:
        band_radius: Band radius in pixels (``width`` before); None means
            ``band_fraction`` of the long side.
        band_fraction: Band radius as a fraction of the image's long side (``fraction``
            before; default :data:`~trimatte.trimap.morphology.DEFAULT_BAND_FRACTION`).
    """

    band_radius: int | None = None
    band_fraction: float = DEFAULT_BAND_FRACTION
    role = "trimap_refine"

    def check_params(self) -> None:
        check_range(self.band_radius, "band_radius", self.owner, ge=0)
        check_range(self.band_fraction, "band_fraction", self.owner, ge=0)

    def run(self, state: MatteState) -> MatteState:
        state.require("trimap", stage=self.label)
        radius = self.band_radius
        if radius is None:
            radius = morphology.band_radius_for(state.trimap.shape, self.band_fraction)
        return state.replace(trimap=morphology.rebuild_band(state.trimap, radius))


@STAGES.register("cleanup")
@dataclass(kw_only=True)
class TrimapCleanup(Stage):
    """Clean up a predicted trimap: small islands and holes.

    See :func:`trimatte.trimap.cleanup.clean_trimap` for the rules: small unknown
    holes enclosed by one class take that class, small foreground specks in the
    background become background, other small known islands become unknown.

    Args:
        min_area: Size below which a region is "small": pixels if >= 1, else a
            fraction of the image area.
        fill_holes: Fill small enclosed unknown holes with their surrounding class.
    """

    min_area: float = 0.001
    fill_holes: bool = True
    role = "trimap_refine"

    def check_params(self) -> None:
        check_range(self.min_area, "min_area", self.owner, ge=0)

    def run(self, state: MatteState) -> MatteState:
        state.require("trimap", stage=self.label)
        cleaned = cleanup.clean_trimap(
            state.trimap, min_area=self.min_area, fill_holes=self.fill_holes
        )
        return state.replace(trimap=cleaned)
