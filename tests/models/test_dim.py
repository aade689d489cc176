"""Tests of trimatte.models.dim: the DIM encoder-decoder, refinement CNN and input convention."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from trimatte.errors import InputError, ModelUnavailableError
from trimatte.models.dim import (
    DIMMatting,
    RefinementCNN,
    build_matting_net,
    keep_known,
    prepare_inputs,
)

TINY = dict(encoder="tu-resnet10t", encoder_depth=3, decoder_channels=(32, 16, 8))


def tiny_net(**kwargs) -> DIMMatting:
    torch.manual_seed(0)
    return build_matting_net(**{**TINY, **kwargs}).eval()


def test_forward_returns_coarse_and_refined_alpha_in_unit_range():
    model = tiny_net()
    image, trimap = torch.rand(2, 3, 64, 48), torch.full((2, 1, 64, 48), 128 / 255)
    with torch.inference_mode():
        out = model(image, trimap)
    assert set(out) == {"logits_coarse", "alpha_coarse", "alpha"}
    for value in out.values():
        assert value.shape == (2, 1, 64, 48)
    for key in ("alpha_coarse", "alpha"):
        assert 0.0 <= float(out[key].min()) and float(out[key].max()) <= 1.0
    assert torch.allclose(out["alpha_coarse"], torch.sigmoid(out["logits_coarse"]))


def test_untrained_refinement_is_identity_and_trained_refinement_is_a_skip():
    model = tiny_net()
    image, trimap = torch.rand(1, 3, 32, 32), torch.full((1, 1, 32, 32), 0.5)
    with torch.inference_mode():
        out = model(image, trimap)
        assert torch.equal(out["alpha"], out["alpha_coarse"])
        nn.init.normal_(model.refinement.head.weight, std=0.1)
        nn.init.constant_(model.refinement.head.bias, 0.3)
        out = model(image, trimap)
        residual = model.refinement(model.normalize(image), out["alpha_coarse"])
        assert torch.allclose(out["alpha"], torch.sigmoid(out["logits_coarse"] + residual))
        assert not torch.allclose(out["alpha"], out["alpha_coarse"])
        unrefined = model(image, trimap, refine=False)
        assert torch.equal(unrefined["alpha"], unrefined["alpha_coarse"])


def test_refinement_cnn_has_dims_layout():
    refinement = RefinementCNN()
    convs = [m for m in refinement.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (4, 64, (3, 3)), (64, 64, (3, 3)), (64, 64, (3, 3)), (64, 1, (3, 3))
    ]
    assert sum(isinstance(m, nn.ReLU) for m in refinement.modules()) == 3


def test_without_refinement_model_has_no_refinement_stage():
    model = tiny_net(refine=False)
    assert model.refinement is None and model.config["refine"] is False
    with torch.inference_mode():
        out = model(torch.rand(1, 3, 32, 32), torch.zeros(1, 1, 32, 32))
    assert torch.equal(out["alpha"], out["alpha_coarse"])


def test_gradients_reach_both_stages():
    model = tiny_net().train()
    out = model(torch.rand(2, 3, 32, 32), torch.full((2, 1, 32, 32), 0.5))
    loss = (out["alpha"] - 0.7).abs().mean() + (out["alpha_coarse"] - 0.7).abs().mean()
    loss.backward()
    first = next(model.matting.parameters())
    assert first.grad is not None and float(first.grad.abs().sum()) > 0
    assert float(model.refinement.head.weight.grad.abs().sum()) > 0


def test_prepare_inputs_follows_the_documented_convention():
    image = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    trimap = np.array([[0, 128, 255, 0, 128, 255, 0]] * 5, np.uint8)
    image_t, trimap_t = prepare_inputs(image, trimap)
    assert image_t.shape == (1, 3, 5, 7) and trimap_t.shape == (1, 1, 5, 7)
    assert image_t.dtype == trimap_t.dtype == torch.float32
    np.testing.assert_array_equal(image_t[0].permute(1, 2, 0).numpy(), image)
    np.testing.assert_allclose(trimap_t[0, 0].numpy(), trimap / 255.0, rtol=0, atol=1e-7)


def test_prepare_inputs_accepts_uint8_batches():
    images = np.full((2, 4, 6, 3), 255, np.uint8)
    trimaps = np.full((2, 4, 6), 128, np.uint8)
    image_t, trimap_t = prepare_inputs(images, trimaps)
    assert image_t.shape == (2, 3, 4, 6) and float(image_t.max()) == 1.0
    assert trimap_t.shape == (2, 1, 4, 6)


@pytest.mark.parametrize(
    "image, trimap",
    [
        (np.zeros((4, 4, 3), np.float32), np.zeros((5, 4), np.uint8)),  # size mismatch
        (np.full((4, 4, 3), 2.0, np.float32), np.zeros((4, 4), np.uint8)),  # out of range
        (np.zeros((2, 4, 4, 3), np.float32), np.zeros((4, 4), np.uint8)),  # batch vs single
    ],
)
def test_prepare_inputs_rejects_bad_input(image, trimap):
    with pytest.raises(InputError):
        prepare_inputs(image, trimap)


def test_keep_known_sets_known_pixels_only():
    alpha = torch.full((1, 1, 1, 3), 0.4)
    trimap = torch.tensor([0.0, 128 / 255, 1.0]).view(1, 1, 1, 3)
    assert keep_known(alpha, trimap).flatten().tolist() == pytest.approx([0.0, 0.4, 1.0])


def test_rgb_encoder_init_zeroes_the_trimap_channel(tmp_path):
    torch.manual_seed(1)
    rgb = build_matting_net(**TINY, in_channels=4).matting.encoder
    # an RGB encoder's weights: the first conv has 3 input channels
    state = {k: v.clone() for k, v in rgb.state_dict().items()}
    first = next(k for k, v in state.items() if v.ndim == 4)
    state[first] = torch.randn(state[first].shape[0], 3, *state[first].shape[2:])
    torch.save({f"encoder.{k}": v for k, v in state.items()}, tmp_path / "rgb.pth")
    model = build_matting_net(**TINY, encoder_init=str(tmp_path / "rgb.pth"))
    weight = model.matting.encoder.state_dict()[first]
    assert torch.equal(weight[:, :3], state[first])
    assert torch.count_nonzero(weight[:, 3]) == 0
    other = next(k for k in state if k != first and state[k].is_floating_point())
    assert torch.equal(model.matting.encoder.state_dict()[other], state[other])


def test_encoder_init_never_downloads():
    with pytest.raises(ModelUnavailableError, match="never downloads"):
        build_matting_net(**TINY, encoder_init="imagenet")


def test_encoder_init_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        build_matting_net(**TINY, encoder_init=str(tmp_path / "missing.pth"))


def test_encoder_init_wrong_file_is_input_error(tmp_path):
    torch.save({"something.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(InputError, match="no weights"):
        build_matting_net(**TINY, encoder_init=str(tmp_path / "other.pth"))


def test_unknown_encoder_is_input_error():
    with pytest.raises(InputError, match="encoder"):
        build_matting_net("no-such-encoder", encoder_depth=3, decoder_channels=(8, 8, 8))


def test_config_records_the_architecture():
    config = tiny_net().config
    assert config == {
        "architecture": "dim", "encoder": "tu-resnet10t", "in_channels": 4, "refine": True,
        "encoder_depth": 3, "decoder_channels": [32, 16, 8], "refine_channels": 64,
        "input_mean": [0.485, 0.456, 0.406], "input_std": [0.229, 0.224, 0.225],
    }


def test_lite0_init_normalises_like_its_classifier_and_checkpoints_keep_it(shared_dir):
    """DIM used to feed the Lite0 encoder ImageNet statistics; it now uses the file's own."""
    from trimatte.models.checkpoint import model_from_config
    from trimatte.models.encoders import LITE0_MEAN, LITE0_STD

    path = shared_dir / "weights" / "efficientnet-lite0-57934424.pth"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    model = build_matting_net("tu-efficientnet_lite0", 4, str(path), encoder_depth=3,
                              decoder_channels=(16, 8, 8))
    np.testing.assert_allclose(model.normalize.mean.flatten().numpy(), LITE0_MEAN)
    np.testing.assert_allclose(model.normalize.std.flatten().numpy(), LITE0_STD)
    rebuilt = model_from_config(model.config)
    np.testing.assert_allclose(rebuilt.normalize.std.flatten().numpy(), LITE0_STD)


def test_old_configs_without_statistics_keep_imagenet():
    from trimatte.models.checkpoint import model_from_config

    config = tiny_net().config
    del config["input_mean"], config["input_std"]
    model = model_from_config(config)
    np.testing.assert_allclose(model.normalize.mean.flatten().numpy(), (0.485, 0.456, 0.406))
