"""Tests of the YAML run config: round trip, path resolution, clear errors."""

from __future__ import annotations

import pytest

from trimatte.errors import InputError
from trimatte.training.config import TrainConfig

REPO_CONFIGS = __import__("pathlib").Path(__file__).resolve().parents[2] / "configs"


def test_yaml_round_trip(tmp_path):
    config = TrainConfig.from_dict({"stage": "trimap", "optim": {"lr": "1e-4", "steps": 7}})
    assert config.optim.lr == pytest.approx(1e-4) and config.optim.steps == 7
    config.save(tmp_path / "c.yaml")
    assert TrainConfig.load(tmp_path / "c.yaml") == config.resolve_paths(tmp_path)


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text(
        "stage: encoder-decoder\ndata: {kind: shared, root: ../data}\n"
        "model: {encoder_init: w.pth}\n"
    )
    config = TrainConfig.load(tmp_path / "sub" / "c.yaml")
    assert config.data.root == str((tmp_path / "data").resolve())
    assert config.model.encoder_init == str((tmp_path / "sub" / "w.pth").resolve())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stage": "warmup"}, "stage: must be one of"),
        ({"optim": {"batch": 3}}, "optim.batch: unknown key \\(did you mean 'batch_size'"),
        ({"optim": {"steps": "many"}}, "optim.steps: expected an integer"),
        ({"optim": {"steps": 0}}, "optim.steps: must be >= 1"),
        ({"data": {"crop_sizes": 320}}, "data.crop_sizes: expected a list"),
        ({"data": {"kind": "folders"}}, "data.background_dir: kind 'folders' needs"),
        ({"data": {"trimap_radius": [5, 2]}}, "data.trimap_radius"),
        ({"model": {"freeze_bn": "yes"}}, "model.freeze_bn: must be one of"),
        ({"stage": "refinement"}, "model.init_from: stage 'refinement' starts from"),
        ({"model": "big"}, "model: expected a mapping"),
        ({"run": {"device": "tpu"}}, "run.device"),
        ({"data": {"trimap_unknown_fraction": 1.5}}, "data.trimap_unknown_fraction"),
        ({"data": {"trimap_band": -1}}, "data.trimap_band"),
        ({"stage": "guided"}, "data.kind: the 'guided' stage trains on 'pool' data"),
        ({"stage": "trimap", "data": {"kind": "pool", "pool": "p", "val_pool": "v"}},
         "data.kind: 'pool' data trains the matting stages"),
        ({"data": {"kind": "pool"}}, "data.pool: kind 'pool' needs"),
    ],
)
def test_invalid_configs_name_the_key(data, message):
    with pytest.raises(InputError, match=message):
        TrainConfig.from_dict(data, source="c.yaml")


def test_load_errors(tmp_path):
    with pytest.raises(InputError, match="config file not found"):
        TrainConfig.load(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("stage: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        TrainConfig.load(tmp_path / "bad.yaml")


@pytest.mark.parametrize("name", sorted(p.name for p in REPO_CONFIGS.glob("*.yaml")))
def test_shipped_configs_are_valid(name):
    config = TrainConfig.load(REPO_CONFIGS / name)
    assert config.stage in ("encoder-decoder", "refinement", "finetune", "trimap", "guided")


def test_dim_may_train_on_the_guide_pool():
    config = TrainConfig.from_dict({"stage": "encoder-decoder",
                                    "data": {"kind": "pool", "pool": "p", "val_pool": "v"}})
    assert config.data.kind == "pool"


def test_shipped_dim_pool_configs_load():
    for name in ("dim_pool.yaml", "dim_pool_finetune.yaml"):
        config = TrainConfig.load(REPO_CONFIGS / name)
        assert config.data.kind == "pool" and config.optim.steps > 0
