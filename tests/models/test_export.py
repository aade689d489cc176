"""Tests of trimatte.models.export: TorchScript and ONNX exports match eager to 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.models.dim import build_matting_net
from trimatte.models.export import example_inputs, export_onnx, export_torchscript, export_wrapper
from trimatte.models.trimap_unet import build_trimap_net

TINY = dict(encoder="tu-resnet10t", encoder_depth=3, decoder_channels=(16, 8, 8))


@pytest.fixture(scope="module")
def dim_model():
    torch.manual_seed(0)
    model = build_matting_net(**TINY, refine_channels=16)
    nn.init.normal_(model.refinement.head.weight, std=0.05)
    return model.eval()


@pytest.fixture(scope="module")
def trimap_model():
    torch.manual_seed(0)
    return build_trimap_net(**TINY).eval()


def test_torchscript_matches_eager(dim_model, tmp_path):
    report = export_torchscript(dim_model, tmp_path / "dim.pt")
    assert report["max_abs_diff"] <= 1e-4 and report["path"].is_file()
    loaded = torch.jit.load(str(report["path"]))
    image, trimap = example_inputs(export_wrapper(dim_model), 40, 48, seed=5)
    with torch.inference_mode():
        alpha = loaded(image, trimap)
    assert alpha.shape == (1, 1, 40, 48)
    assert (alpha[trimap == 1.0] == 1).all() and (alpha[trimap == 0.0] == 0).all()


def test_onnx_matches_eager_with_dynamic_sizes(dim_model, tmp_path):
    import onnxruntime

    report = export_onnx(dim_model, tmp_path / "dim.onnx")
    assert report["max_abs_diff"] <= 1e-4
    assert len({s for s in report["sizes"]}) == 2
    session = onnxruntime.InferenceSession(str(report["path"]), providers=["CPUExecutionProvider"])
    image, trimap = example_inputs(export_wrapper(dim_model), 24, 56, batch=3, seed=9)
    (alpha,) = session.run(["alpha"], {"image": image.numpy(), "trimap": trimap.numpy()})
    with torch.inference_mode():
        expected = export_wrapper(dim_model)(image, trimap).numpy()
    np.testing.assert_allclose(alpha, expected, atol=1e-4)


def test_unrefined_export_differs_from_refined(dim_model, tmp_path):
    refined = torch.jit.load(str(export_torchscript(dim_model, tmp_path / "a.pt")["path"]))
    coarse = torch.jit.load(
        str(export_torchscript(dim_model, tmp_path / "b.pt", refine=False)["path"])
    )
    inputs = example_inputs(export_wrapper(dim_model), 32, 32)
    with torch.inference_mode():
        assert (refined(*inputs) - coarse(*inputs)).abs().max() > 1e-4


def test_trimap_net_exports(trimap_model, tmp_path):
    assert export_onnx(trimap_model, tmp_path / "t.onnx")["max_abs_diff"] <= 1e-4
    assert export_torchscript(trimap_model, tmp_path / "t.pt")["max_abs_diff"] <= 1e-4


def test_export_rejects_bad_sizes_and_models(dim_model, tmp_path):
    with pytest.raises(InputError, match="stride"):
        export_torchscript(dim_model, tmp_path / "x.pt", size=(30, 32))
    with pytest.raises(InputError, match="DIMMatting or TrimapUNet"):
        export_onnx(nn.Linear(3, 3), tmp_path / "x.onnx")
    assert not list(tmp_path.iterdir())
