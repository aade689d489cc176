"""predict_saliency / load_u2netp / preprocess: conventions, caching, errors, no network."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import make_disc_scene
from trimatte.errors import InputError, ModelUnavailableError
from trimatte.models import weights
from trimatte.models.salient_net import (
    load_u2netp,
    predict_saliency,
    preprocess,
)
from trimatte.models.weights import IMAGENET_MEAN, IMAGENET_STD


@pytest.fixture(scope="module")
def disc():
    image, alpha, _, _ = make_disc_scene(size=96, radius=28, soft=2)
    return image, alpha


def test_preprocess_shape_dtype_and_imagenet_normalisation() -> None:
    image = np.full((10, 14, 3), 0.5, np.float32)
    image[0, 0] = 1.0  # the brightest value is 1, so max-scaling changes nothing
    batch = preprocess(image, size=32)
    assert batch.shape == (1, 3, 32, 32) and batch.dtype == np.float32
    expected = (0.5 - np.float32(IMAGENET_MEAN)) / np.float32(IMAGENET_STD)
    np.testing.assert_allclose(batch[0, :, 20, 20], expected, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.05, 1.0), seed=st.integers(0, 1000))
def test_preprocess_divides_by_the_maximum(scale: float, seed: int) -> None:
    image = np.random.default_rng(seed).uniform(0, 1, (12, 9, 3)).astype(np.float32)
    np.testing.assert_allclose(
        preprocess(image * np.float32(scale), 32), preprocess(image, 32), atol=2e-4
    )


def test_preprocess_keeps_a_black_image_finite() -> None:
    batch = preprocess(np.zeros((8, 8, 3), np.float32), 32)
    assert np.all(np.isfinite(batch))


@pytest.mark.parametrize("size", [0, 31, 32.0, "320", True])
def test_bad_size_is_an_input_error(size) -> None:
    with pytest.raises(InputError, match="size"):
        preprocess(np.zeros((8, 8, 3), np.float32), size)


def test_saliency_of_a_disc(disc) -> None:
    image, alpha = disc
    result = predict_saliency(image)
    assert result.shape == alpha.shape and result.dtype == np.float32
    assert result.min() >= 0.0 and result.max() <= 1.0
    assert result[alpha > 0.99].mean() > 0.9
    assert result[alpha < 0.01].mean() < 0.1


def test_odd_sized_uint8_image_is_accepted() -> None:
    image = (make_disc_scene(size=64)[0][:45, :61] * 255).astype(np.uint8)
    result = predict_saliency(image, size=64)
    assert result.shape == (45, 61) and result.dtype == np.float32


def test_stretch_spans_zero_to_one(disc) -> None:
    stretched = predict_saliency(disc[0], stretch=True)
    assert stretched.min() == pytest.approx(0.0, abs=1e-6)
    assert stretched.max() == pytest.approx(1.0, abs=1e-6)


def test_bad_image_is_an_input_error() -> None:
    with pytest.raises(InputError, match="image"):
        predict_saliency(np.zeros((8, 8, 4), np.float32))
    with pytest.raises(InputError, match="image"):
        predict_saliency(np.full((8, 8, 3), 2.0, np.float32))


def test_model_is_loaded_once_per_process() -> None:
    assert load_u2netp() is load_u2netp("cpu")
    model = load_u2netp()
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())


def test_local_weights_file_loads(tmp_path) -> None:
    import torch

    path = tmp_path / "copy.pth"
    torch.save(load_u2netp().state_dict(), path)
    model = load_u2netp(weights=path)
    assert model is not load_u2netp()
    for a, b in zip(model.parameters(), load_u2netp().parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", ["https://example.org/u2netp.pth", "hf://xuebinqin/u2netp"])
def test_hub_names_are_refused(name: str) -> None:
    with pytest.raises(ModelUnavailableError, match="never downloads"):
        load_u2netp(weights=name)


def test_missing_or_foreign_weights_are_input_errors(tmp_path) -> None:
    import torch

    with pytest.raises(InputError, match="no such weights file"):
        load_u2netp(weights=tmp_path / "absent.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot read"):
        load_u2netp(weights=garbage)
    foreign = tmp_path / "foreign.pth"
    torch.save({"conv.weight": torch.zeros(1)}, foreign)
    with pytest.raises(InputError, match="not a U2NetP state dict"):
        load_u2netp(weights=foreign)


def test_bad_device_is_an_input_error() -> None:
    with pytest.raises(InputError, match="device"):
        load_u2netp("not-a-device")


def test_loading_and_predicting_never_touch_the_network(monkeypatch, disc) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    weights.clear_cache()
    result = predict_saliency(disc[0])
    assert result.shape == disc[1].shape
