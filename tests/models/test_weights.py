"""trimatte.models.weights: finding, reading, caching and describing weights (hub-free)."""

from __future__ import annotations

import os

import pytest
import torch

from trimatte.errors import InputError, ModelUnavailableError
from trimatte.models import weights
from trimatte.models.checkpoint import save_checkpoint
from trimatte.models.dim import build_matting_net


def test_default_resolves_to_the_shipped_file_and_paths_to_themselves(tmp_path):
    assert weights.resolve_weights("default", "u2netp") == weights.weights_folder() / "u2netp.pth"
    assert weights.resolve_weights(None, "u2netp").is_file()
    local = tmp_path / "w.pth"
    local.write_bytes(b"x")
    assert weights.resolve_weights(str(local), "dim") == local.resolve()
    with pytest.raises(InputError, match="weights file not found"):
        weights.resolve_weights(tmp_path / "absent.pth", "dim")
    with pytest.raises(InputError, match="no shipped weights are known for 'resnet'"):
        weights.shipped_weights("resnet")


@pytest.mark.parametrize("name", ["https://x.org/dim.pth", "hf://user/dim", "s3://b/k.pth"])
def test_hub_names_are_refused_without_a_download(name):
    with pytest.raises(ModelUnavailableError, match="never downloads"):
        weights.resolve_weights(name, "dim")


def test_missing_shipped_file_is_model_unavailable(monkeypatch, tmp_path):
    monkeypatch.setattr(weights, "weights_folder", lambda: tmp_path)
    with pytest.raises(ModelUnavailableError, match="no default weights for the 'dim' network"):
        weights.resolve_weights("default", "dim")


def test_read_state_dict_unwraps_checkpoints_and_nesting(tmp_path):
    tensors = {"a": torch.zeros(2), "b": torch.ones(1)}
    for i, payload in enumerate([tensors, {"state_dict": tensors}, {"model": tensors}]):
        torch.save(payload, tmp_path / f"{i}.pth")
        assert set(weights.read_state_dict(tmp_path / f"{i}.pth")) == {"a", "b"}
    torch.save({"a": 1}, tmp_path / "numbers.pth")
    with pytest.raises(InputError, match="does not hold a state dict"):
        weights.read_state_dict(tmp_path / "numbers.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(InputError, match=r"junk\.pth: not a readable weights"):
        weights.read_state_dict(tmp_path / "junk.pth")
    with pytest.raises(InputError, match="is a folder"):
        weights.read_checkpoint(tmp_path)


def test_cache_returns_the_same_object_until_the_file_changes(tmp_path):
    path = tmp_path / "w.pth"
    path.write_bytes(b"x")
    calls = []

    def load():
        calls.append(1)
        return object()

    first = weights.cached(path, "cpu", "test", load)
    assert weights.cached(path, "cpu", "test", load) is first and len(calls) == 1
    assert weights.cached(path, "cuda", "test", load) is not first
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert weights.cached(path, "cpu", "test", load) is not first and len(calls) == 3
    weights.clear_cache()
    weights.cached(path, "cpu", "test", load)
    assert len(calls) == 4


def test_describe_a_checkpoint_and_a_state_dict(tmp_path):
    model = build_matting_net("tu-resnet10t", encoder_depth=3, decoder_channels=(8, 8, 8),
                              refine_channels=8)
    path = save_checkpoint(model, tmp_path / "dim.pth", metadata={"epoch": 3})
    info = weights.describe_weights(path)
    assert info["format"] == "trimatte-checkpoint" and info["architecture"] == "dim"
    assert info["metadata"] == {"epoch": 3} and info["bytes"] == path.stat().st_size
    assert info["notice"] is None
    shipped = weights.describe_weights("default", "u2netp")
    assert shipped["format"] == "state-dict" and shipped["parameters"] == 1_125_485
    assert shipped["notice"].endswith("NOTICE-u2netp.md")


def test_imagenet_statistics_are_defined_once():
    from trimatte.models import dim, salient_net

    assert dim.IMAGENET_MEAN is weights.IMAGENET_MEAN is salient_net.IMAGENET_MEAN
    assert dim.IMAGENET_STD is weights.IMAGENET_STD
