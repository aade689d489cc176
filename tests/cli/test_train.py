"""Tests of the ``train`` sub-command."""

from __future__ import annotations

import argparse

from trimatte.cli import train as train_cli
from trimatte.data.folders import make_synthetic_folders
from trimatte.training.config import TrainConfig


def _parse(argv):
    parser = argparse.ArgumentParser()
    train_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", *argv])


def test_train_command_runs_and_resumes(tmp_path, capsys):
    make_synthetic_folders(tmp_path / "data", count=5, size=40, backgrounds=2)
    config = TrainConfig.from_dict({
        "model": {"encoder": "tu-resnet10t", "encoder_depth": 3, "decoder_channels": [8, 8, 8],
                  "refine_channels": 4, "freeze_bn": "all"},
        "data": {"kind": "folders", "root": str(tmp_path / "data"),
                 "background_dir": str(tmp_path / "data" / "backgrounds"), "val_count": 1,
                 "out_size": 32, "crop_sizes": [32], "max_side": None, "val_max_side": None,
                 "val_band": 2},
        "optim": {"batch_size": 2, "steps": 2},
        "run": {"plot": False, "threads": 1, "device": "cpu", "val_at_start": False},
    })
    config.save(tmp_path / "c.yaml")
    args = _parse([str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run"), "--max-steps", "1",
                   "--no-progress"])
    assert args.run(args) == 0
    assert "run folder" in capsys.readouterr().out
    args = _parse([str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run"), "--resume",
                   "--no-progress"])
    assert args.run(args) == 0
    assert (tmp_path / "run" / "model.pth").is_file()


def test_bad_config_exits_with_2_and_a_clear_message(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("stage: nope\n")
    args = _parse([str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run")])
    assert args.run(args) == 2
    assert "stage: must be one of" in capsys.readouterr().err
