"""Tests of trimatte.models.checkpoint: save/load round trip and clear errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.models.checkpoint import (
    load_checkpoint,
    load_model,
    model_from_config,
    save_checkpoint,
)
from trimatte.models.dim import DIMMatting, build_matting_net
from trimatte.models.trimap_unet import TrimapUNet, build_trimap_net

TINY = dict(encoder="tu-resnet10t", encoder_depth=3, decoder_channels=(16, 8, 8))


def tiny_dim() -> DIMMatting:
    torch.manual_seed(0)
    model = build_matting_net(**TINY, refine_channels=16)
    nn.init.normal_(model.refinement.head.weight, std=0.05)
    return model


def test_dim_round_trip(tmp_path):
    model = tiny_dim().eval()
    path = save_checkpoint(model, tmp_path / "sub" / "dim.pth", metadata={"epoch": 7, "sad": 1.5})
    loaded = load_model(path)
    assert isinstance(loaded, DIMMatting) and not loaded.training
    assert loaded.config == model.config
    assert loaded.metadata == {"epoch": 7, "sad": 1.5}
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    image, trimap = torch.rand(1, 3, 32, 32), torch.full((1, 1, 32, 32), 0.5)
    with torch.inference_mode():
        assert torch.equal(loaded(image, trimap)["alpha"], model(image, trimap)["alpha"])
    assert [p.name for p in path.parent.iterdir()] == ["dim.pth"]  # no temporary files left


def test_trimap_net_round_trip(tmp_path):
    torch.manual_seed(0)
    model = build_trimap_net(**TINY).eval()
    loaded = load_model(save_checkpoint(model, tmp_path / "trimap.pth"))
    assert isinstance(loaded, TrimapUNet)
    image = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(loaded(image), model(image))


def test_load_checkpoint_reads_without_building(tmp_path):
    path = save_checkpoint(tiny_dim(), tmp_path / "dim.pth", metadata={"note": "x"})
    payload = load_checkpoint(path)
    assert payload["config"]["architecture"] == "dim"
    assert payload["metadata"] == {"note": "x"}
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "nope.pth")


def test_corrupt_file(tmp_path):
    path = save_checkpoint(tiny_dim(), tmp_path / "dim.pth")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="corrupt"):
        load_model(path)
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(InputError, match="corrupt"):
        load_model(tmp_path / "text.pth")


def test_bare_state_dict_is_not_a_checkpoint(tmp_path):
    torch.save(tiny_dim().state_dict(), tmp_path / "bare.pth")
    with pytest.raises(InputError, match="not a trimatte checkpoint"):
        load_model(tmp_path / "bare.pth")


def test_incompatible_weights_are_reported(tmp_path):
    model = tiny_dim()
    path = save_checkpoint(model, tmp_path / "dim.pth", config={**model.config,
                                                             "decoder_channels": [32, 16, 8]})
    with pytest.raises(InputError, match="wrong shape"):
        load_model(path)
    path = save_checkpoint(model, tmp_path / "dim2.pth", config={**model.config, "refine": False})
    with pytest.raises(InputError, match="unexpected"):
        load_model(path)


def test_unknown_architecture_and_bad_config(tmp_path):
    model = tiny_dim()
    path = save_checkpoint(model, tmp_path / "x.pth", config={"architecture": "vit-matte"})
    with pytest.raises(InputError, match="unknown architecture"):
        load_model(path)
    with pytest.raises(InputError, match="does not fit"):
        model_from_config({"architecture": "dim", "colour": "blue"})
    with pytest.raises(InputError, match="architecture"):
        model_from_config({"encoder": "resnet18"})


def test_model_without_config_cannot_be_saved(tmp_path):
    with pytest.raises(InputError, match="config"):
        save_checkpoint(nn.Linear(2, 2), tmp_path / "linear.pth")
    assert not (tmp_path / "linear.pth").exists()


def test_half_precision_checkpoint_is_smaller_and_loads_as_float32(tmp_path):
    model = tiny_dim().eval()
    full = save_checkpoint(model, tmp_path / "full.pth")
    half = save_checkpoint(model, tmp_path / "half.pth", half=True)
    assert half.stat().st_size < 0.7 * full.stat().st_size
    loaded = load_model(half)
    for key, value in model.state_dict().items():
        got = loaded.state_dict()[key]
        assert got.dtype == value.dtype, key
        assert torch.allclose(got.float(), value.float(), rtol=1e-3, atol=1e-4), key
