"""Tests of trimatte.models.trimap_unet: the 3-class trimap U-Net."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.errors import ModelUnavailableError
from trimatte.models.trimap_unet import (
    build_trimap_net,
    classes_to_trimap,
    predict_trimap,
    trimap_to_classes,
)

TINY = dict(encoder="tu-resnet10t", encoder_depth=3, decoder_channels=(16, 8, 8))


def test_logits_have_three_classes():
    model = build_trimap_net(**TINY).eval()
    with torch.inference_mode():
        logits = model(torch.rand(2, 3, 32, 64))
    assert logits.shape == (2, 3, 32, 64)
    assert model.config["architecture"] == "unet-trimap"


@given(arrays(np.uint8, (6, 7), elements=st.sampled_from([0, 128, 255])))
def test_classes_round_trip(trimap):
    classes = trimap_to_classes(trimap)
    assert classes.dtype == np.int64 and set(np.unique(classes)) <= {0, 1, 2}
    np.testing.assert_array_equal(classes_to_trimap(classes), trimap)


@pytest.mark.parametrize("shape", [(37, 29), (64, 64)])
def test_predict_trimap_any_size(shape):
    model = build_trimap_net(**TINY)
    trimap = predict_trimap(np.random.default_rng(0).random((*shape, 3)), model)
    assert trimap.shape == shape and trimap.dtype == np.uint8
    assert set(np.unique(trimap)) <= {0, 128, 255}
    assert model.training  # mode restored


def test_tiny_net_learns_a_disc_trimap(disc_scene):
    """Cross-entropy training on one synthetic scene: the predicted trimap must fit it."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    image, alpha, _, _ = disc_scene
    target_trimap = np.where(alpha >= 0.99, 255, np.where(alpha <= 0.01, 0, 128)).astype(np.uint8)
    model = build_trimap_net(**TINY)
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    y = torch.from_numpy(trimap_to_classes(target_trimap))[None]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    predicted = predict_trimap(image, model)
    assert (predicted == target_trimap).mean() > 0.9
    assert (predicted[target_trimap == 255] == 255).mean() > 0.8


def test_predict_trimap_downscales_large_images():
    model = build_trimap_net(**TINY)
    trimap = predict_trimap(np.zeros((90, 130, 3), np.float32), model, max_size=48)
    assert trimap.shape == (90, 130)


def test_hub_encoder_init_is_refused():
    with pytest.raises(ModelUnavailableError):
        build_trimap_net(**TINY, encoder_init="imagenet")


def test_default_input_statistics_are_imagenet():
    model = build_trimap_net(**TINY)
    np.testing.assert_allclose(model.normalize.mean.flatten().numpy(), (0.485, 0.456, 0.406))
    np.testing.assert_allclose(model.normalize.std.flatten().numpy(), (0.229, 0.224, 0.225))


def test_lite0_imagenet_init_normalises_like_its_classifier(shared_dir):
    """The EfficientNet-Lite0 file was trained on inputs in [-1, 1] (mean = std = 0.5)."""
    from trimatte.models.checkpoint import model_from_config
    from trimatte.models.encoders import LITE0_MEAN, LITE0_STD

    path = shared_dir / "weights" / "efficientnet-lite0-57934424.pth"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    model = build_trimap_net("tu-efficientnet_lite0", str(path), encoder_depth=3,
                             decoder_channels=(16, 8, 8))
    np.testing.assert_allclose(model.normalize.mean.flatten().numpy(), LITE0_MEAN)
    np.testing.assert_allclose(model.normalize.std.flatten().numpy(), LITE0_STD)
    rebuilt = model_from_config(model.config)  # as load_model does: no encoder_init
    np.testing.assert_allclose(rebuilt.normalize.mean.flatten().numpy(), LITE0_MEAN)
    np.testing.assert_allclose(rebuilt.normalize.std.flatten().numpy(), LITE0_STD)


def test_bad_input_statistics_are_input_errors():
    from trimatte.errors import InputError

    with pytest.raises(InputError):
        build_trimap_net(**TINY, input_mean=(0.5, 0.5), input_std=(0.5, 0.5, 0.5))
    with pytest.raises(InputError):
        build_trimap_net(**TINY, input_mean=(0.5, 0.5, 0.5), input_std=(0.5, 0.0, 0.5))
