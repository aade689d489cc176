"""Deep-learning pipeline stages: DIM alpha matting and the U-Net trimap predictor.

Both load a checkpoint written by :func:`trimatte.models.checkpoint.save_checkpoint`
(``weights`` = a path), or with ``weights="default"`` the weights shipped in the
package; :mod:`trimatte.models.weights` finds, reads and caches them (one model per
file, modification time and device per process). A network without shipped weights
raises :class:`~trimatte.errors.ModelUnavailableError` for ``"default"``; nothing is
ever downloaded. torch is imported only when a stage runs.

The trimap stage's raw prediction is meant to be followed by the erode/dilate
refinement stages (``band`` and/or ``cleanup``) in a pipeline, e.g.
``Pipeline([UNetTrimap(weights=...), TrimapBand(), DIMAlpha(weights=...)])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trimatte.errors import InputError
from trimatte.models.weights import cached, resolve_weights
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage

__all__ = ["DIMAlpha", "UNetTrimap", "load_cached_model"]


def load_cached_model(weights: str | Path, architecture: str, device: str) -> Any:
    """The checkpoint model for ``weights`` (``"default"`` or a path), loaded once per process.

    Raises:
        ModelUnavailableError: ``"default"`` but no weights ship for ``architecture``.
        InputError: Missing or foreign file, or a checkpoint of another architecture.
    """
    from trimatte.models.checkpoint import load_model
    from trimatte.models.inference import resolve_device

    path = resolve_weights(weights, architecture, missing="checkpoint file not found")
    torch_device = resolve_device(device)
    model = cached(path, torch_device, "checkpoint",
                   lambda: load_model(path, map_location=torch_device))
    found = getattr(model, "config", {}).get("architecture")
    if found != architecture:
        raise InputError(f"holds a {found!r} network, but this stage needs {architecture!r}", path)
    return model


@STAGES.register("dim")
@dataclass(kw_only=True)
class DIMAlpha(Stage):
    """Deep Image Matting (encoder-decoder + refinement CNN) from a trained checkpoint.

    Args:
        weights: Path to a checkpoint, or ``"default"`` for the shipped weights.
        refine: Run DIM's refinement stage.
        max_size: Downscale images whose long side exceeds this before the
            network (None: full resolution, tiled when large).
        context: Pixels of context around the unknown band's bounding box.
        tile_size: Crops larger than ``tile_size**2`` pixels are processed in tiles.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        half: float16 on CUDA.
    """

    weights: str = "default"
    refine: bool = True
    max_size: int | None = None
    context: int = 64
    tile_size: int = 1024
    device: str = "cpu"
    half: bool = False
    role = "alpha"

    def check_params(self) -> None:
        check_range(self.max_size, "max_size", self.owner, ge=1)
        check_range(self.context, "context", self.owner, ge=0)
        check_range(self.tile_size, "tile_size", self.owner, ge=1)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.models.inference import predict_alpha

        state.require("trimap", stage=self.label)
        model = load_cached_model(self.weights, "dim", self.device)
        alpha = predict_alpha(
            model,
            state.image,
            state.trimap,
            refine=self.refine,
            device=self.device,
            half=self.half,
            context=self.context,
            max_size=self.max_size,
            tile_size=self.tile_size,
        )
        return state.replace(alpha=alpha)


@STAGES.register("unet-trimap")
@dataclass(kw_only=True)
class UNetTrimap(Stage):
    """Trimap predicted by the 3-class U-Net from a trained checkpoint.

    Follow it with the ``band`` / ``cleanup`` trimap refinement stages.

    Args:
        weights: Path to a checkpoint, or ``"default"`` for the shipped weights.
        max_size: The network runs on the image downscaled to this long side.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    """

    weights: str = "default"
    max_size: int | None = 1024
    device: str = "cpu"
    role = "trimap"

    def check_params(self) -> None:
        check_range(self.max_size, "max_size", self.owner, ge=1)

    def run(self, state: MatteState) -> MatteState:
        from trimatte.models.trimap_unet import predict_trimap

        model = load_cached_model(self.weights, "unet-trimap", self.device)
        trimap = predict_trimap(state.image, model, device=self.device, max_size=self.max_size)
        return state.replace(trimap=trimap)
