"""Tests of trimatte.stages.deep: the "dim" alpha stage and the "unet-trimap" stage."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import trimatte.stages.deep as deep
from tests.conftest import make_disc_scene
from trimatte.errors import InputError, ModelUnavailableError
from trimatte.models import weights
from trimatte.models.checkpoint import save_checkpoint
from trimatte.models.dim import build_matting_net
from trimatte.models.trimap_unet import build_trimap_net
from trimatte.pipeline import STAGES, MatteState, Pipeline
from trimatte.trimap.morphology import trimap_from_alpha

TINY = dict(encoder="tu-resnet10t", encoder_depth=3, decoder_channels=(16, 8, 8))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    dim = build_matting_net(**TINY, refine_channels=16)
    nn.init.normal_(dim.refinement.head.weight, std=0.05)
    trimap_net = build_trimap_net(**TINY)
    return {
        "dim": save_checkpoint(dim, folder / "dim.pth"),
        "unet-trimap": save_checkpoint(trimap_net, folder / "trimap.pth"),
    }


def test_dim_stage_in_a_pipeline(disc_scene, checkpoints):
    image, alpha, _, _ = disc_scene
    trimap = np.where(alpha > 0.99, 255, np.where(alpha < 0.01, 0, 128)).astype(np.uint8)
    given = STAGES.build("given")
    stage = STAGES.build("dim", weights=str(checkpoints["dim"]))
    result = Pipeline([given, stage])(image, trimap=trimap)
    assert result.alpha.shape == alpha.shape and result.alpha.dtype == np.float32
    assert (result.alpha[trimap == 255] == 1).all() and (result.alpha[trimap == 0] == 0).all()
    assert "alpha:dim" in result.timings
    coarse = deep.DIMAlpha(weights=str(checkpoints["dim"]), refine=False).run(
        MatteState(image=image, trimap=trimap)
    )
    assert np.abs(coarse.alpha - result.alpha).max() > 1e-4


def test_stage_config_round_trip(checkpoints):
    stage = deep.DIMAlpha(weights=str(checkpoints["dim"]), max_size=512, refine=False)
    config = stage.to_dict()
    assert config["name"] == "dim" and config["params"]["max_size"] == 512
    assert STAGES.build(config["name"], **config["params"]) == stage
    assert deep.UNetTrimap().to_dict() == {
        "name": "unet-trimap", "params": {"weights": "default", "max_size": 1024, "device": "cpu"}
    }


def test_unet_trimap_stage(checkpoints):
    image = np.random.default_rng(0).random((40, 50, 3)).astype(np.float32)
    stage = STAGES.build("unet-trimap", weights=str(checkpoints["unet-trimap"]))
    assert stage.role == "trimap"
    trimap = stage.run(MatteState(image=image)).trimap
    assert trimap.shape == (40, 50) and set(np.unique(trimap)) <= {0, 128, 255}


@pytest.mark.parametrize("name", ["dim", "unet-trimap"])
def test_default_weights_work_when_shipped_and_fail_clearly_otherwise(name):
    # 256 px: the shipped DIM network was trained on photos; on a 64-px toy disc it fails
    image, alpha, _, _ = make_disc_scene(size=256, radius=80, soft=4)
    trimap = trimap_from_alpha(alpha, band=6)
    state = MatteState(image=image, trimap=trimap if name == "dim" else None)
    stage = STAGES.build(name)
    try:
        weights.shipped_weights(name)
    except ModelUnavailableError:
        with pytest.raises(ModelUnavailableError, match="no default weights"):
            stage.run(state)
        return
    result = stage.run(state)
    if name == "dim":
        predicted = result.alpha
        assert predicted.shape == alpha.shape and predicted.dtype == np.float32
        assert np.all(predicted[trimap == 255] == 1) and np.all(predicted[trimap == 0] == 0)
        unknown = trimap == 128
        error = np.abs(predicted[unknown] - alpha[unknown]).mean()
        assert error < np.abs(0.5 - alpha[unknown]).mean()  # better than a flat guess
    else:
        predicted = result.trimap
        assert predicted.shape == alpha.shape and set(np.unique(predicted)) <= {0, 128, 255}
        assert (predicted == 255).any() and (predicted == 0).any()


def test_wrong_architecture_and_missing_file(checkpoints, disc_scene):
    image, alpha, _, _ = disc_scene
    state = MatteState(image=image, trimap=np.full(alpha.shape, 128, np.uint8))
    with pytest.raises(InputError, match="needs 'dim'"):
        deep.DIMAlpha(weights=str(checkpoints["unet-trimap"])).run(state)
    with pytest.raises(InputError, match="not found"):
        deep.DIMAlpha(weights="/nonexistent/dim.pth").run(state)


def test_dim_stage_needs_a_trimap(checkpoints, disc_scene):
    with pytest.raises(InputError, match="trimap"):
        deep.DIMAlpha(weights=str(checkpoints["dim"])).run(MatteState(image=disc_scene[0]))
