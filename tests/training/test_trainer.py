"""End-to-end tests of the trainer on a generated fixture (seconds each)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
import torch

from trimatte.data.folders import make_synthetic_folders
from trimatte.errors import InputError
from trimatte.models.checkpoint import load_model
from trimatte.training.checkpointing import load_training_state
from trimatte.training.config import TrainConfig
from trimatte.training.distributed import ResumableDistributedSampler
from trimatte.training.trainer import train


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixture")
    # odd size: validation images must be padded to the network stride and cropped back
    make_synthetic_folders(root, count=6, size=45, backgrounds=3, seed=1)
    return root


def tiny_config(data_root, stage="encoder-decoder", **sections) -> TrainConfig:
    config = {
        "stage": stage,
        "seed": 0,
        "model": {"encoder": "tu-resnet10t", "encoder_depth": 3,
                  "decoder_channels": [16, 8, 8], "refine_channels": 8, "freeze_bn": "all"},
        "data": {"kind": "folders", "root": str(data_root),
                 "background_dir": str(data_root / "backgrounds"), "val_count": 2,
                 "out_size": 32, "crop_sizes": [24, 32, 40], "trimap_radius": [1, 3],
                 "repeats": 2, "max_side": None, "val_max_side": None, "val_band": 3},
        "optim": {"batch_size": 4, "steps": 3, "lr": 1e-3, "schedule": "constant"},
        "run": {"checkpoint_every": 2, "val_every": 0, "threads": 1, "device": "cpu",
                "plot": False},
    }
    for name, values in sections.items():
        if isinstance(values, dict):
            config[name].update(values)
        else:
            config[name] = values
    return TrainConfig.from_dict(config)


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _weights(path):
    return load_model(path).state_dict()


def test_three_step_run_writes_logs_checkpoint_and_model(data_root, tmp_path):
    config = tiny_config(data_root, run={"plot": True})
    result = train(config, tmp_path / "run", progress=False)
    assert result.step == 3 and len(result.losses) == 3
    assert all(torch.isfinite(torch.tensor(result.losses)))
    assert [r["step"] for r in _rows(tmp_path / "run" / "log.csv")] == ["1", "2", "3"]
    val = _rows(tmp_path / "run" / "val.csv")
    assert [r["step"] for r in val] == ["0", "3"]
    assert all(float(r["SAD"]) >= 0 for r in val)
    assert (tmp_path / "run" / "curves.png").stat().st_size > 0
    assert TrainConfig.load(tmp_path / "run" / "config.yaml") == config
    payload = load_training_state(tmp_path / "run" / "checkpoints" / "last.pt")
    assert payload["training"]["step"] == 3
    model = load_model(tmp_path / "run" / "model.pth")
    assert model.config["encoder"] == "tu-resnet10t"
    # checkpoint round trip: last.pt and model.pth hold the same weights
    for key, value in load_model(tmp_path / "run" / "checkpoints" / "last.pt").state_dict().items():
        torch.testing.assert_close(value, model.state_dict()[key], rtol=0, atol=0)


def test_killed_run_resumes_exactly(data_root, tmp_path):
    config = tiny_config(data_root, optim={"steps": 6})
    reference = train(config, tmp_path / "whole", progress=False)

    def kill_at_5(step, loss):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "killed", progress=False, on_step=kill_at_5)
    # the last checkpoint is from step 4; step 5 is lost and redone
    assert load_training_state(tmp_path / "killed" / "checkpoints" / "last.pt")[
        "training"]["step"] == 4
    resumed = train(config, tmp_path / "killed", resume=True, progress=False)
    assert resumed.losses == reference.losses[4:]
    logged = [float(r["loss"]) for r in _rows(tmp_path / "killed" / "log.csv")]
    assert logged == [float(f"{x:.8g}") for x in reference.losses]
    whole, killed = _weights(tmp_path / "whole" / "model.pth"), _weights(
        tmp_path / "killed" / "model.pth")
    for key, value in whole.items():
        torch.testing.assert_close(killed[key], value, rtol=0, atol=0)


def test_run_killed_at_a_validation_step_logs_every_validation_once(
        data_root, tmp_path, monkeypatch):
    """Validation at step N comes before the step-N checkpoint, so a kill during it redoes
    both on resume; the other order would resume from step N without its validation row."""
    from trimatte.training import trainer

    config = tiny_config(data_root, stage="trimap", optim={"steps": 6},
                         run={"checkpoint_every": 2, "val_every": 2, "val_at_start": False})
    real_validate = trainer.validate
    calls = []

    def killed_at_second_validation(model, *args, **kwargs):
        calls.append(True)
        if len(calls) == 2:  # step 4
            raise KeyboardInterrupt
        return real_validate(model, *args, **kwargs)

    monkeypatch.setattr(trainer, "validate", killed_at_second_validation)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "run", progress=False)
    monkeypatch.setattr(trainer, "validate", real_validate)
    train(config, tmp_path / "run", resume=True, progress=False)
    assert [int(r["step"]) for r in _rows(tmp_path / "run" / "val.csv")] == [2, 4, 6]
    assert [int(r["step"]) for r in _rows(tmp_path / "run" / "log.csv")] == [1, 2, 3, 4, 5, 6]


def test_max_steps_then_resume_equals_one_run(data_root, tmp_path):
    config = tiny_config(data_root, optim={"steps": 4})
    reference = train(config, tmp_path / "whole", progress=False)
    first = train(config, tmp_path / "parts", max_steps=1, progress=False)
    rest = train(config, tmp_path / "parts", resume=True, progress=False)
    assert first.losses + rest.losses == reference.losses


def test_refuses_to_overwrite_or_resume_nothing(data_root, tmp_path):
    config = tiny_config(data_root, optim={"steps": 1})
    with pytest.raises(InputError, match="nothing to resume"):
        train(config, tmp_path / "run", resume=True, progress=False)
    train(config, tmp_path / "run", progress=False)
    with pytest.raises(InputError, match="already holds a run"):
        train(config, tmp_path / "run", progress=False)
    changed = tiny_config(data_root, optim={"steps": 1, "lr": 0.5})
    with pytest.raises(InputError, match="differs from the run"):
        train(changed, tmp_path / "run", resume=True, progress=False)


def test_stages_train_only_their_part(data_root, tmp_path):
    stage1 = train(tiny_config(data_root, optim={"steps": 2}), tmp_path / "ed", progress=False)
    first = load_model(stage1.model_path)
    # the untrained refinement CNN is skipped (zero residual): refined == coarse
    image, trimap = torch.rand(1, 3, 32, 32), torch.full((1, 1, 32, 32), 128 / 255)
    with torch.no_grad():
        out = first(image, trimap)
    torch.testing.assert_close(out["alpha"], out["alpha_coarse"], rtol=0, atol=0)
    assert all(float(p.detach().abs().sum()) == 0 for p in first.refinement.head.parameters())

    refine_config = tiny_config(data_root, stage="refinement", optim={"steps": 2},
                                model={"init_from": str(stage1.model_path)})
    stage2 = load_model(train(refine_config, tmp_path / "ref", progress=False).model_path)
    before, after = first.state_dict(), stage2.state_dict()
    for key in before:
        if key.startswith("matting."):
            torch.testing.assert_close(after[key], before[key], rtol=0, atol=0)
    assert any(not torch.equal(after[k], before[k]) for k in before if k.startswith("refinement."))

    finetune_config = tiny_config(data_root, stage="finetune", optim={"steps": 1},
                                  model={"init_from": str(tmp_path / "ref" / "model.pth")})
    stage3 = load_model(train(finetune_config, tmp_path / "ft", progress=False).model_path)
    changed = {k.split(".")[0] for k in after if not torch.equal(after[k], stage3.state_dict()[k])}
    assert {"matting", "refinement"} <= changed


def test_trimap_stage(data_root, tmp_path):
    result = train(tiny_config(data_root, stage="trimap", optim={"steps": 2}), tmp_path / "tri",
                   progress=False)
    val = _rows(tmp_path / "tri" / "val.csv")
    assert set(val[0]) == {"step", "CE", "accuracy", "unknown_iou", "known_error"}
    assert 0 <= float(val[-1]["accuracy"]) <= 1
    assert load_model(result.model_path).config["architecture"] == "unet-trimap"


def test_guided_stage_starts_at_its_guide_and_trains(data_root, tmp_path):
    from trimatte.data.engine import MattingEngine
    from trimatte.data.folders import list_backgrounds, match_by_stem
    from trimatte.data.guide_pool import build_pool

    pairs, _ = match_by_stem(data_root / "image", data_root / "alpha")
    engine = MattingEngine(pairs, list_backgrounds(data_root / "backgrounds"), size=32, seed=0)
    build_pool(engine, tmp_path / "pool", 8, shard_size=4, progress=False)
    config = tiny_config(data_root, stage="guided",
                         data={"kind": "pool", "pool": str(tmp_path / "pool"),
                               "val_pool": str(tmp_path / "pool")},
                         optim={"steps": 2}, run={"val_at_start": True})
    result = train(config, tmp_path / "guided", progress=False)
    val = _rows(tmp_path / "guided" / "val.csv")
    assert {"SAD", "SAD_guide", "Grad_guide"} <= set(val[0])
    # the untrained network returns closed-form's alpha exactly
    assert float(val[0]["SAD"]) == pytest.approx(float(val[0]["SAD_guide"]), abs=1e-4)
    assert load_model(result.model_path).config["architecture"] == "guided"


def test_init_from_a_mismatched_checkpoint_is_an_input_error(data_root, tmp_path):
    stage1 = train(tiny_config(data_root, optim={"steps": 1}), tmp_path / "ed", progress=False)
    config = tiny_config(data_root, stage="refinement", optim={"steps": 1},
                         model={"init_from": str(stage1.model_path), "refine_channels": 4})
    with pytest.raises(InputError, match="does not fit the configured model"):
        train(config, tmp_path / "ref", progress=False)


def test_sampler_shards_are_the_single_process_batches():
    dataset = list(range(12))
    single = ResumableDistributedSampler(dataset, 1, 0, seed=5)
    shards = [ResumableDistributedSampler(dataset, 2, r, seed=5) for r in range(2)]
    for sampler in (single, *shards):
        sampler.set_epoch(3)
    whole = list(single)
    parts = [list(s) for s in shards]
    assert all(epoch == 3 for epoch, _ in whole)
    for k in range(3):  # global batch 4 = 2 x 2
        assert sorted(whole[4 * k: 4 * k + 4]) == sorted(parts[0][2 * k: 2 * k + 2]
                                                         + parts[1][2 * k: 2 * k + 2])
    resumed = ResumableDistributedSampler(dataset, 1, 0, seed=5, start=8)
    resumed.set_epoch(3)
    assert list(resumed) == whole[8:] and len(single) == 12


@pytest.mark.slow
def test_two_process_gloo_run_equals_one_process(data_root, tmp_path):
    """torchrun with 2 CPU processes x batch 2 == 1 process x batch 4 (within float noise)."""
    config = tiny_config(data_root, optim={"steps": 3, "batch_size": 4})
    single = train(config, tmp_path / "one", progress=False)
    config.save(tmp_path / "config.yaml")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", "-m", "trimatte.cli.train", str(tmp_path / "config.yaml"),
               "--out", str(tmp_path / "two"), "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    two_losses = [float(r["loss"]) for r in _rows(tmp_path / "two" / "log.csv")]
    assert two_losses == pytest.approx(single.losses, rel=1e-4, abs=1e-6)
    one, two = _weights(tmp_path / "one" / "model.pth"), _weights(tmp_path / "two" / "model.pth")
    # Adam divides each step by the gradient's own running scale, so an element whose
    # gradient sits at float-noise level can take a different full-size step (at most
    # lr per step) in the two runs. Nearly every element must agree closely; none may
    # differ by more than Adam's largest possible steps.
    bound = 2 * config.optim.lr * config.optim.steps
    agree = total = 0
    for key, value in one.items():
        agree += int(torch.isclose(two[key], value, rtol=1e-3, atol=1e-5).sum())
        total += value.numel()
        assert (two[key] - value).abs().max() <= bound, key
    assert agree >= 0.95 * total  # measured: 96.8 %; a broken all-reduce gives far less


def test_resume_removes_a_killed_save_s_temporary_file(data_root, tmp_path):
    config = tiny_config(data_root, optim={"steps": 2})
    train(config, tmp_path / "run", progress=False, max_steps=1)
    litter = tmp_path / "run" / "checkpoints" / ".last.pt.999999999.abcdef.tmp"
    litter.write_bytes(b"half a checkpoint")
    train(config, tmp_path / "run", resume=True, progress=False)
    assert not litter.exists()
