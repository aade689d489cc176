"""Export the networks to TorchScript or ONNX for deployment, and check the export.

What gets exported is a small wrapper (:class:`ExportedMatting` /
:class:`ExportedTrimap`) around the eager model:

* matting: inputs ``image`` float32 ``(B, 3, H, W)`` RGB in [0, 1] and ``trimap``
  float32 ``(B, 1, H, W)`` = trimap / 255; output ``alpha`` ``(B, 1, H, W)`` with
  the trimap's known pixels set to 0 / 1 (the refinement stage included when the
  model has one and ``refine=True``);
* trimap: input ``image`` as above; output class ``logits`` ``(B, 3, H, W)``
  (0 background, 1 unknown, 2 foreground).

The ImageNet normalisation is inside the graph. ``H`` and ``W`` must be
multiples of the network stride (32 for a depth-5 encoder): pad at the bottom
and right with edge replication first, as :func:`trimatte.models.inference.pad_to_multiple`
does. Batch size, height and width are dynamic in both formats.

Both exporters verify the file they wrote: it is loaded back (TorchScript with
``torch.jit.load``, ONNX with onnxruntime) and run on random inputs at two sizes;
the largest absolute difference from the eager model must be at most ``atol``
(1e-4 by default), otherwise :class:`~trimatte.errors.InputError` is raised and
nothing is left at ``path``.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.io import atomic_write_bytes
from trimatte.models.dim import DIMMatting, keep_known


class ExportedMatting(nn.Module):
    """``(image, trimap) -> alpha`` wrapper of a :class:`~trimatte.models.dim.DIMMatting`."""

    def __init__(self, model: DIMMatting, refine: bool = True) -> None:
        super().__init__()
        self.model = model
        self.refine = refine
        self.stride = model.stride

    def forward(self, image: torch.Tensor, trimap: torch.Tensor) -> torch.Tensor:
        alpha = self.model(image, trimap, refine=self.refine)["alpha"]
        return keep_known(alpha, trimap)


class ExportedTrimap(nn.Module):
    """``image -> logits`` wrapper of a :class:`~trimatte.models.trimap_unet.TrimapUNet`."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.stride = model.stride

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image)


def export_wrapper(model: nn.Module, refine: bool = True) -> nn.Module:
    """The eager module that is exported for ``model`` (in eval mode, on the CPU)."""
    from trimatte.models.trimap_unet import TrimapUNet

    if isinstance(model, DIMMatting):
        wrapper: nn.Module = ExportedMatting(model, refine)
    elif isinstance(model, TrimapUNet):
        wrapper = ExportedTrimap(model)
    else:
        raise InputError(
            f"can export DIMMatting or TrimapUNet models, got {type(model).__name__}", "model"
        )
    return wrapper.cpu().eval()


def example_inputs(
    wrapper: nn.Module, height: int, width: int, batch: int = 1, seed: int = 0
) -> tuple[torch.Tensor, ...]:
    """Random inputs for ``wrapper`` (image in [0, 1]; trimap with all three values)."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, height, width, generator=generator)
    if isinstance(wrapper, ExportedTrimap):
        return (image,)
    levels = torch.tensor([0.0, 128 / 255, 1.0])
    trimap = levels[torch.randint(0, 3, (batch, 1, height, width), generator=generator)]
    return image, trimap


def _check_sizes(wrapper: nn.Module, size: tuple[int, int]) -> list[tuple[int, int]]:
    stride = int(wrapper.stride)
    height, width = size
    if height % stride or width % stride:
        raise InputError(f"{height}x{width} is not a multiple of the stride {stride}", "size")
    return [(height, width), (height + stride, width + 2 * stride)]


def _max_difference(wrapper: nn.Module, run_exported, sizes, batch: int = 2) -> float:
    worst = 0.0
    for seed, (height, width) in enumerate(sizes):
        inputs = example_inputs(wrapper, height, width, batch=batch, seed=seed)
        with torch.inference_mode():
            expected = wrapper(*inputs).numpy()
        got = np.asarray(run_exported(inputs))
        if got.shape != expected.shape:
            raise InputError(f"exported model returned shape {got.shape}, eager {expected.shape}",
                             "export")
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def _verify(path: Path, worst: float, atol: float) -> None:
    if not worst <= atol:
        os.unlink(path)
        raise InputError(
            f"exported model differs from the eager model by {worst:.3g} (> {atol:g}); "
            "file removed",
            path,
        )


def export_torchscript(
    model: nn.Module,
    path: str | Path,
    *,
    refine: bool = True,
    size: tuple[int, int] = (64, 64),
    atol: float = 1e-4,
) -> dict[str, Any]:
    """Trace ``model`` to TorchScript, write it atomically and check it against eager.

    Args:
        model: A DIMMatting or TrimapUNet.
        path: Output ``.pt`` file.
        refine: Include the refinement stage (matting models).
        size: Tracing input size (height, width), multiples of the stride; the
            check also runs at a second, larger size.
        atol: Largest allowed absolute difference from eager.

    Returns:
        ``{"path", "max_abs_diff", "sizes"}``.

    Raises:
        InputError: Unsupported model, bad size, or the check fails.
    """
    wrapper = export_wrapper(model, refine)
    sizes = _check_sizes(wrapper, size)
    with warnings.catch_warnings():
        # TorchScript is deprecated upstream in favour of torch.export but still the
        # most portable format for C++/mobile deployment; keep the user's log clean.
        warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning))
        with torch.inference_mode():
            traced = torch.jit.trace(wrapper, example_inputs(wrapper, *size), check_trace=False)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
        path = atomic_write_bytes(path, buffer.getvalue())
        loaded = torch.jit.load(str(path), map_location="cpu")

    def run(inputs):
        with torch.inference_mode():
            return loaded(*inputs).numpy()

    worst = _max_difference(wrapper, run, sizes)
    _verify(path, worst, atol)
    return {"path": path, "max_abs_diff": worst, "sizes": sizes}


def export_onnx(
    model: nn.Module,
    path: str | Path,
    *,
    refine: bool = True,
    size: tuple[int, int] = (64, 64),
    opset: int = 17,
    atol: float = 1e-4,
) -> dict[str, Any]:
    """Export ``model`` to ONNX (dynamic batch/height/width), write atomically, check.

    Input names are ``image`` (and ``trimap``), the output is ``alpha`` (matting)
    or ``logits`` (trimap). The check runs the file with onnxruntime.

    Args:
        model: A DIMMatting or TrimapUNet.
        path: Output ``.onnx`` file.
        refine: Include the refinement stage (matting models).
        size: Export input size (height, width), multiples of the stride.
        opset: ONNX opset version.
        atol: Largest allowed absolute difference from eager.

    Returns:
        ``{"path", "max_abs_diff", "sizes"}``.

    Raises:
        InputError: Unsupported model, bad size, or the check fails.
    """
    import onnxruntime

    wrapper = export_wrapper(model, refine)
    sizes = _check_sizes(wrapper, size)
    is_trimap = isinstance(wrapper, ExportedTrimap)
    input_names = ["image"] if is_trimap else ["image", "trimap"]
    output_name = "logits" if is_trimap else "alpha"
    dynamic = {0: "batch", 2: "height", 3: "width"}
    axes = {name: dynamic for name in [*input_names, output_name]}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        # the TorchScript-based exporter (dynamo=False) needs no onnxscript
        warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning))
        torch.onnx.export(
            wrapper,
            example_inputs(wrapper, *size),
            buffer,
            input_names=input_names,
            output_names=[output_name],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    path = atomic_write_bytes(path, buffer.getvalue())
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"]
    )

    def run(inputs):
        feed = {name: t.numpy() for name, t in zip(input_names, inputs, strict=True)}
        return session.run([output_name], feed)[0]

    worst = _max_difference(wrapper, run, sizes)
    _verify(path, worst, atol)
    return {"path": path, "max_abs_diff": worst, "sizes": sizes}
