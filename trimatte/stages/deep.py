"""Deep-learning pipeline stages: DIM alpha matting and the U-Net trimap predictor.

Both load a checkpoint written by :func:`trimatte.models.checkpoint.save_checkpoint`
(``weights`` = a path), or with ``weights="default"`` the weights shipped in the
package (``trimatte/models/weights/``, see :data:`DEFAULT_WEIGHTS`); while no
such file ships, ``"default"`` raises :class:`~trimatte.errors.ModelUnavailableError`.
Nothing is ever downloaded. torch is imported only when a stage runs, and a
loaded model is cached per process (keyed by file, modification time and device).

The trimap stage's raw prediction is meant to be followed by the erode/dilate
refinement stages (``band`` and/or ``cleanup``) in a pipeline, e.g.
``Pipeline([UNetTrimap(weights=...), TrimapBand(), DIMAlpha(weights=...)])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trimatte.errors import InputError, ModelUnavailableError
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage

DEFAULT_WEIGHTS = {
    "dim": "dim_lite0.pth",
    "unet-trimap": "unet_trimap_lite0.pth",
}
"""File names, inside ``trimatte/models/weights/``, of the default checkpoints."""

_CACHE: dict[tuple[str, int, str], Any] = {}


def weights_folder() -> Path:
    """The package folder holding shipped weights (``trimatte/models/weights``)."""
    from importlib.resources import files

    return Path(str(files("trimatte.models"))) / "weights"


def resolve_weights(weights: str | Path, architecture: str) -> Path:
    """The checkpoint file for ``weights`` (``"default"`` or a path).

    Raises:
        ModelUnavailableError: ``"default"`` but no default weights ship yet.
        InputError: The given path does not exist.
    """
    if str(weights) == "default":
        path = weights_folder() / DEFAULT_WEIGHTS[architecture]
        if not path.is_file():
            raise ModelUnavailableError(
                f"no default weights for the {architecture!r} network ship with this version "
                f"of trimatte (expected {path}); pass weights=<path to a checkpoint "
                "written by trimatte.models.checkpoint.save_checkpoint>"
            )
        return path
    path = Path(weights).expanduser()
    if not path.is_file():
        raise InputError("checkpoint file not found", path)
    return path


def load_cached_model(weights: str | Path, architecture: str, device: str) -> Any:
    """Load (once per process) the checkpoint for ``weights`` and check its architecture."""
    from trimatte.models.checkpoint import load_model
    from trimatte.models.inference import resolve_device

    path = resolve_weights(weights, architecture)
    torch_device = resolve_device(device)
    key = (str(path.resolve()), path.stat().st_mtime_ns, str(torch_device))
    if key not in _CACHE:
        _CACHE[key] = load_model(path, map_location=torch_device)
    model = _CACHE[key]
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
