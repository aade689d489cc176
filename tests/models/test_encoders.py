"""Tests of trimatte.models.encoders: the EfficientNet-Lite0 ImageNet weights remap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trimatte.errors import InputError
from trimatte.models.encoders import (
    LITE0_MEAN,
    LITE0_STD,
    adapt_first_conv,
    efficientnet_lite0_classifier,
    load_efficientnet_lite0_imagenet,
    read_state_dict,
    remap_efficientnet_lite0,
)

LITE0 = "weights/efficientnet-lite0-57934424.pth"
# ImageNet class indices of what AM-2k samples show (checked by eye on the photos)
LLAMA, GOLDEN_RETRIEVER, ARABIAN_CAMEL = 355, 207, 354


@pytest.fixture(scope="module")
def lite0_path(shared_dir):
    path = shared_dir / LITE0
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="module")
def classifier(lite0_path):
    torch.set_num_threads(1)
    return efficientnet_lite0_classifier(lite0_path)


def center_crop(path, size=224):
    import cv2

    from trimatte.io import read_image

    image = read_image(path)
    height, width = image.shape[:2]
    scale = 256 / min(height, width)
    image = cv2.resize(image, (round(width * scale), round(height * scale)),
                       interpolation=cv2.INTER_AREA)
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    x = torch.from_numpy(image[top:top + size, left:left + size]).permute(2, 0, 1)[None]
    mean, std = torch.tensor(LITE0_MEAN), torch.tensor(LITE0_STD)
    return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def test_remap_maps_every_tensor_once(lite0_path):
    import timm

    source = read_state_dict(lite0_path)
    remapped = remap_efficientnet_lite0(source)
    target = timm.create_model("efficientnet_lite0", pretrained=False).state_dict()
    assert len(source) == len(remapped) == len(target) == 296
    assert set(remapped) == set(target)
    for key, tensor in remapped.items():
        assert tensor.shape == target[key].shape, key
    assert {id(t) for t in remapped.values()} == {id(t) for t in source.values()}
    total = sum(t.numel() for t in source.values() if t.is_floating_point())
    assert 4.6e6 < total < 4.8e6  # the README's 4.69M (parameters + BN statistics)


@pytest.mark.parametrize(
    "sample, expected",
    [("sample12", LLAMA), ("sample11", GOLDEN_RETRIEVER), ("sample1", ARABIAN_CAMEL)],
)
def test_classifier_recognises_am2k_animals_also_when_flipped(classifier, shared_dir, sample,
                                                             expected):
    x = center_crop(shared_dir / "data" / "am2k" / "image" / f"{sample}.jpg")
    with torch.inference_mode():
        probs = classifier(torch.cat([x, x.flip(-1)])).softmax(1)
    assert probs.argmax(1).tolist() == [expected, expected]
    assert float(probs[:, expected].min()) > 0.3
    top5 = [set(p.topk(5).indices.tolist()) for p in probs]
    assert len(top5[0] & top5[1]) >= 3


def test_random_weights_do_not_recognise_the_llama(shared_dir):
    import timm

    torch.manual_seed(0)
    model = timm.create_model("efficientnet_lite0", pretrained=False).eval()
    x = center_crop(shared_dir / "data" / "am2k" / "image" / "sample12.jpg")
    with torch.inference_mode():
        assert float(model(x).softmax(1)[0, LLAMA]) < 0.3  # so the test above can fail


def test_smp_encoder_gets_the_classifier_features_and_a_zero_trimap_channel(lite0_path,
                                                                            classifier):
    from trimatte.models.dim import build_matting_net

    model = build_matting_net("tu-efficientnet_lite0", encoder_init=str(lite0_path)).eval()
    encoder = model.matting.encoder
    stem = encoder.state_dict()["model.conv_stem.weight"]
    assert stem.shape[1] == 4 and torch.count_nonzero(stem[:, 3]) == 0
    assert torch.equal(stem[:, :3], classifier.conv_stem.weight)
    rgb = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        with_trimap = encoder(torch.cat([rgb, torch.rand(1, 1, 64, 64)], 1))[-1]
        without = encoder(torch.cat([rgb, torch.zeros(1, 1, 64, 64)], 1))[-1]
        reference = classifier.blocks(classifier.bn1(classifier.conv_stem(rgb)))
    assert torch.equal(with_trimap, without)
    torch.testing.assert_close(with_trimap, reference, rtol=1e-5, atol=1e-5)


def test_head_is_reported_unused_for_an_encoder(lite0_path):
    from trimatte.models.trimap_unet import build_trimap_net

    encoder = build_trimap_net("tu-efficientnet_lite0").encoder
    unused = load_efficientnet_lite0_imagenet(encoder, lite0_path)
    assert unused and all(k.startswith(("conv_head.", "bn2.", "classifier.")) for k in unused)


def test_remap_rejects_other_layouts():
    with pytest.raises(InputError, match="lukemelas"):
        remap_efficientnet_lite0({"conv1.weight": torch.zeros(1)})
    fake = {"_conv_stem.weight": torch.zeros(1), "_blocks.0._depthwise_conv.weight": torch.zeros(1)}
    with pytest.raises(InputError, match="blocks"):
        remap_efficientnet_lite0(fake)


def test_adapt_first_conv_pads_with_zeros():
    weight = torch.randn(8, 3, 3, 3)
    wide = adapt_first_conv(weight, 5)
    assert torch.equal(wide[:, :3], weight) and not wide[:, 3:].any()
    with pytest.raises(InputError):
        adapt_first_conv(weight, 2)


def test_read_state_dict_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_state_dict(tmp_path / "none.pth")
    (tmp_path / "junk.pth").write_bytes(np.arange(100, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="not a readable"):
        read_state_dict(tmp_path / "junk.pth")
