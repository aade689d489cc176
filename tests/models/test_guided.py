"""The classical-guided network: identity start, shapes and padding, known pixels, round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.models.checkpoint import load_model, save_checkpoint
from trimatte.models.guided import build_guided_net, predict_guided_alpha, smooth_correction

TINY = {"encoder": "resnet18", "encoder_depth": 3, "decoder_channels": (16, 8, 8),
        "refine_channels": 8}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_guided_net(**TINY)


def test_untrained_model_returns_its_guide(model):
    image = torch.rand(2, 3, 32, 40)
    trimap = torch.full((2, 1, 32, 40), 0.5)
    guide = torch.rand(2, 1, 32, 40)
    out = model(image, trimap, guide)
    for key in ("alpha", "alpha_coarse"):
        assert out[key].shape == (2, 1, 32, 40)
        torch.testing.assert_close(out[key], guide)


def test_training_moves_away_from_the_guide(model):
    trained = build_guided_net(**TINY)
    optimizer = torch.optim.Adam(trained.parameters(), 1e-2)
    image, trimap = torch.rand(1, 3, 16, 16), torch.full((1, 1, 16, 16), 0.5)
    guide = torch.full((1, 1, 16, 16), 0.5)
    for _ in range(5):
        loss = (trained(image, trimap, guide)["alpha"] - 0.8).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.3


@pytest.mark.parametrize("shape", [(37, 53), (8, 9), (64, 33)])
def test_prediction_pads_odd_sizes_and_keeps_known_pixels(model, shape):
    rng = np.random.default_rng(0)
    image = rng.random((*shape, 3)).astype(np.float32)
    trimap = np.zeros(shape, np.uint8)
    trimap[shape[0] // 4 :, shape[1] // 4 :] = 128
    trimap[shape[0] // 2 :, shape[1] // 2 :] = 255
    guide = rng.random(shape).astype(np.float32)
    alpha = predict_guided_alpha(model, image, trimap, guide)
    assert alpha.shape == shape and alpha.dtype == np.float32
    assert (alpha[trimap == 255] == 1).all() and (alpha[trimap == 0] == 0).all()
    unknown = trimap == 128
    np.testing.assert_allclose(alpha[unknown], guide[unknown], atol=1e-6)


def test_all_known_trimap_needs_no_network(model):
    trimap = np.zeros((10, 10), np.uint8)
    trimap[:, 5:] = 255
    alpha = predict_guided_alpha(model, np.zeros((10, 10, 3), np.float32), trimap,
                                 np.full((10, 10), 0.3, np.float32))
    np.testing.assert_array_equal(alpha, trimap / 255.0)


def test_checkpoint_round_trip(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "guided.pth", half=True)
    loaded = load_model(path)
    assert loaded.config["architecture"] == "guided"
    x, t, g = torch.rand(1, 3, 16, 16), torch.full((1, 1, 16, 16), 0.5), torch.rand(1, 1, 16, 16)
    torch.testing.assert_close(loaded(x, t, g)["alpha"], model(x, t, g)["alpha"])


def test_shrunk_network_input_keeps_the_guide_where_nothing_is_corrected(model):
    rng = np.random.default_rng(1)
    image = rng.random((90, 120, 3)).astype(np.float32)
    trimap = np.full((90, 120), 128, np.uint8)
    trimap[:10] = 0
    trimap[-10:] = 255
    guide = rng.random((90, 120)).astype(np.float32)
    alpha = predict_guided_alpha(model, image, trimap, guide, max_size=40)
    unknown = trimap == 128
    # an untrained model corrects nothing, at any scale: the full-resolution guide survives
    np.testing.assert_allclose(alpha[unknown], guide[unknown], atol=1e-5)
    assert (alpha[trimap == 0] == 0).all() and (alpha[trimap == 255] == 1).all()


def test_smoothing_ignores_known_pixels_and_keeps_a_flat_correction():
    unknown = np.zeros((40, 50), bool)
    unknown[10:30, 10:40] = True
    correction = np.where(unknown, 0.2, 5.0).astype(np.float32)  # garbage on known pixels
    smoothed = smooth_correction(correction, unknown, 4.0)
    np.testing.assert_allclose(smoothed[unknown], 0.2, atol=1e-5)
    assert (smoothed[~unknown] == 0).all()
    np.testing.assert_array_equal(smooth_correction(correction, unknown, 0.0),
                                  np.where(unknown, correction, 0))


def test_smoothing_removes_pixel_noise():
    rng = np.random.default_rng(0)
    unknown = np.ones((64, 64), bool)
    noise = rng.normal(0, 0.1, (64, 64)).astype(np.float32)
    assert smooth_correction(noise, unknown, 3.0).std() < 0.2 * noise.std()


@settings(max_examples=25, deadline=None)
@given(st.floats(0.5, 8.0), st.integers(0, 2**16))
def test_smoothing_stays_within_the_range_of_the_unknown_values(sigma, seed):
    rng = np.random.default_rng(seed)
    unknown = rng.random((24, 30)) < 0.5
    correction = rng.uniform(-1, 1, (24, 30)).astype(np.float32)
    smoothed = smooth_correction(correction, unknown, sigma)[unknown]
    if unknown.any():
        values = correction[unknown]
        assert smoothed.min() >= values.min() - 1e-5 and smoothed.max() <= values.max() + 1e-5


def test_unknown_corrections_mode_is_refused(model):
    image = np.zeros((16, 16, 3), np.float32)
    trimap = np.full((16, 16), 128, np.uint8)
    trimap[:4], trimap[-4:] = 0, 255
    with pytest.raises(ValueError, match="corrections"):
        predict_guided_alpha(model, image, trimap, np.full((16, 16), 0.5, np.float32),
                             corrections="upper")


def test_enlarged_network_input_keeps_the_guide_and_the_size(model):
    rng = np.random.default_rng(2)
    image = rng.random((30, 44, 3)).astype(np.float32)
    trimap = np.full((30, 44), 128, np.uint8)
    trimap[:5], trimap[-5:] = 0, 255
    guide = rng.random((30, 44)).astype(np.float32)
    alpha = predict_guided_alpha(model, image, trimap, guide, min_size=100)
    assert alpha.shape == (30, 44) and alpha.dtype == np.float32
    unknown = trimap == 128
    np.testing.assert_allclose(alpha[unknown], guide[unknown], atol=1e-5)


def test_enlarging_changes_what_a_trained_network_sees():
    torch.manual_seed(3)
    net = build_guided_net(**TINY)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)  # no longer the identity
    rng = np.random.default_rng(4)
    image = rng.random((24, 24, 3)).astype(np.float32)
    trimap = np.full((24, 24), 128, np.uint8)
    trimap[:4], trimap[-4:] = 0, 255
    guide = np.full((24, 24), 0.5, np.float32)
    small = predict_guided_alpha(net, image, trimap, guide)
    large = predict_guided_alpha(net, image, trimap, guide, min_size=96)
    assert np.abs(small - large).max() > 1e-3
    # a box already at least min_size is left as it is
    np.testing.assert_array_equal(predict_guided_alpha(net, image, trimap, guide, min_size=24),
                                  small)
