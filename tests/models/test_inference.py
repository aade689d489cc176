"""Tests of trimatte.models.inference: padding, band crops, tiles, batches, known pixels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trimatte.errors import InputError, TrimatteWarning
from trimatte.models.dim import build_matting_net
from trimatte.models.inference import (
    pad_to_multiple,
    predict_alpha,
    predict_alpha_batch,
    tile_starts,
    unknown_window,
    unpad,
)


class LocalMatting(nn.Module):
    """A matting model with a 5x5 receptive field (two 3x3 convs), same interface as DIMMatting."""

    def __init__(self, stride: int = 8) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(
            nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1)
        )
        self.stride = stride
        self.calls = 0

    def forward(self, image, trimap, refine=True):
        self.calls += 1
        alpha = torch.sigmoid(self.net(torch.cat([image, trimap], 1)))
        return {"alpha": alpha, "alpha_coarse": alpha}


def scene(height=64, width=80, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((height, width, 3)).astype(np.float32)
    trimap = np.zeros((height, width), np.uint8)
    trimap[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = 128
    trimap[height // 3: 2 * height // 3, width // 3: 2 * width // 3] = 255
    return image, trimap


@pytest.fixture(scope="module")
def tiny_dim():
    torch.manual_seed(0)
    model = build_matting_net("tu-resnet10t", encoder_depth=3, decoder_channels=(16, 8, 8),
                              refine_channels=16)
    nn.init.normal_(model.refinement.head.weight, std=0.05)
    return model.eval()


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 70), st.integers(1, 70), st.sampled_from([1, 8, 32]))
def test_padding_round_trips_exactly(height, width, multiple):
    x = torch.rand(2, 3, height, width)
    padded, pads = pad_to_multiple(x, multiple)
    assert padded.shape[-2] % multiple == 0 and padded.shape[-1] % multiple == 0
    assert padded.shape[-2] - height < multiple and padded.shape[-1] - width < multiple
    assert torch.equal(unpad(padded, pads), x)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 39), st.integers(0, 39),
       st.integers(0, 20), st.sampled_from([1, 8]))
def test_unknown_window_covers_band_and_is_aligned(height, width, y, x, context, stride):
    trimap = np.zeros((height, width), np.uint8)
    trimap[min(y, height - 1), min(x, width - 1)] = 128
    window = unknown_window(trimap, context, stride)
    assert window.top % stride == 0 and window.left % stride == 0
    assert 0 <= window.top and window.bottom <= height
    assert 0 <= window.left and window.right <= width
    inside = np.zeros_like(trimap, bool)
    inside[window.slices()] = True
    assert inside[trimap == 128].all()
    assert window.top <= max(0, min(y, height - 1) - context)


def test_unknown_window_is_none_without_unknown_pixels():
    assert unknown_window(np.full((5, 5), 255, np.uint8), 4) is None


def test_tile_starts_cover_the_length():
    for length in (10, 64, 100, 257):
        starts = tile_starts(length, 32, 8)
        covered = np.zeros(length, bool)
        for s in starts:
            covered[s:s + 32] = True
        assert covered.all() and starts[-1] + 32 >= length


def test_band_crop_equals_full_image_inference():
    image, trimap = scene(70, 90)
    model = LocalMatting()
    full = predict_alpha(model, image, trimap, context=10**6)
    crop = predict_alpha(model, image, trimap, context=8)
    unknown = trimap == 128
    np.testing.assert_allclose(crop[unknown], full[unknown], atol=1e-6)
    np.testing.assert_array_equal(crop[~unknown], full[~unknown])


def test_tiles_equal_one_pass():
    image, trimap = scene(100, 120, seed=3)
    model = LocalMatting()
    whole = predict_alpha(model, image, trimap, context=8)
    calls = model.calls
    tiled = predict_alpha(model, image, trimap, context=8, tile_size=32, tile_overlap=16)
    assert model.calls - calls > 4  # really tiled
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_image_without_unknown_pixels_skips_the_network():
    model = LocalMatting()
    trimap = np.zeros((20, 30), np.uint8)
    trimap[5:10] = 255
    alpha = predict_alpha(model, np.zeros((20, 30, 3), np.float32), trimap)
    assert model.calls == 0
    np.testing.assert_array_equal(alpha, trimap / 255.0)


@pytest.mark.parametrize("size", [(64, 64), (37, 53), (65, 31)])
def test_dim_keeps_known_pixels_and_any_size(tiny_dim, size):
    image, trimap = scene(*size, seed=1)
    alpha = predict_alpha(tiny_dim, image, trimap)
    assert alpha.shape == size and alpha.dtype == np.float32
    assert (alpha[trimap == 0] == 0).all() and (alpha[trimap == 255] == 1).all()
    assert ((alpha >= 0) & (alpha <= 1)).all()
    unknown = alpha[trimap == 128]
    assert unknown.std() > 0  # the network, not a constant, filled the band


def test_batch_equals_single(tiny_dim):
    scenes = [scene(64, 64, 0), scene(48, 72, 1), scene(64, 64, 2), scene(33, 40, 3)]
    images, trimaps = zip(*scenes, strict=True)
    batch = predict_alpha_batch(tiny_dim, images, trimaps, batch_size=3)
    for image, trimap, alpha in zip(images, trimaps, batch, strict=True):
        np.testing.assert_allclose(alpha, predict_alpha(tiny_dim, image, trimap), atol=1e-5)


def test_refine_switch_changes_the_result(tiny_dim):
    image, trimap = scene(64, 64)
    refined = predict_alpha(tiny_dim, image, trimap)
    coarse = predict_alpha(tiny_dim, image, trimap, refine=False)
    assert np.abs(refined - coarse).max() > 1e-4


def test_max_size_downscales_but_returns_full_size(tiny_dim):
    image, trimap = scene(96, 128)
    alpha = predict_alpha(tiny_dim, image, trimap, max_size=64)
    assert alpha.shape == (96, 128)
    assert (alpha[trimap == 255] == 1).all() and (alpha[trimap == 0] == 0).all()


def test_inference_does_not_leave_the_model_in_eval_mode():
    model = LocalMatting().train()
    predict_alpha(model, *scene(32, 32))
    assert model.training


def test_half_on_cpu_warns_and_runs_in_float32():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alpha = predict_alpha(LocalMatting(), *scene(32, 32), half=True, device="cpu")
    assert any(issubclass(w.category, TrimatteWarning) for w in caught)
    assert alpha.dtype == np.float32


def test_bad_inputs_raise_input_error():
    model = LocalMatting()
    image, trimap = scene(32, 32)
    with pytest.raises(InputError, match="trimap"):
        predict_alpha(model, image, trimap[:20])
    with pytest.raises(InputError, match="2 images but 1 trimaps"):
        predict_alpha_batch(model, [image, image], [trimap])
    with pytest.raises(InputError, match="batch_size"):
        predict_alpha_batch(model, [image], [trimap], batch_size=0)
