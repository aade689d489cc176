"""Foreground estimation and compositing stages."""

from __future__ import annotations

from dataclasses import dataclass

from trimatte.errors import ConfigError
from trimatte.foreground import compositing, estimation, tiled
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage

#: Images above this many pixels get their foreground tile by tile at the fine levels
#: (:mod:`trimatte.foreground.tiled`: the same values where ``0 < alpha < 1``, memory
#: bounded by a tile instead of ~50 bytes per pixel).
TILED_ABOVE_PIXELS = 4_000_000


@STAGES.register("multilevel-foreground")
@dataclass(kw_only=True)
class MultilevelForeground(Stage):
    """Colour-decontaminated foreground by multi-level estimation (Germer et al. 2020)."""

    regularization: float = 1e-5
    role = "foreground"

    def check_params(self) -> None:
        check_range(self.regularization, "regularization", self.owner, gt=0)

    def run(self, state: MatteState) -> MatteState:
        state.require("alpha", stage=self.label)
        height, width = state.alpha.shape[:2]
        estimate = (tiled.estimate_foreground_tiled if height * width > TILED_ABOVE_PIXELS
                    else estimation.estimate_foreground)
        fg = estimate(state.image, state.alpha, regularization=self.regularization)
        return state.replace(foreground=fg)


@STAGES.register("cutout")
@dataclass(kw_only=True)
class Cutout(Stage):
    """RGBA cutout: the foreground (or the image) with alpha as the fourth channel."""

    role = "composite"

    def run(self, state: MatteState) -> MatteState:
        state.require("alpha", stage=self.label)
        colour = state.foreground if state.foreground is not None else state.image
        return state.replace(composite=compositing.cutout(colour, state.alpha))


@STAGES.register("composite")
@dataclass(kw_only=True)
class Composite(Stage):
    """Composite over a new background: a colour (name, ``#rrggbb``, ``r,g,b``) or an image file."""

    background: str = "white"
    role = "composite"

    def check_params(self) -> None:
        if not self.background.strip():
            raise ConfigError("background must be a colour or an image file, got ''", self.owner)

    def run(self, state: MatteState) -> MatteState:
        state.require("alpha", stage=self.label)
        colour = state.foreground if state.foreground is not None else state.image
        background = compositing.load_background(self.background, colour.shape[:2])
        return state.replace(composite=compositing.composite(colour, state.alpha, background))
