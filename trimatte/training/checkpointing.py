"""Resumable training checkpoints: model, optimiser, scheduler, step and RNG states.

``checkpoints/last.pt`` is a :mod:`trimatte.models.checkpoint` file (so
:func:`trimatte.models.checkpoint.load_model` opens it) with an extra ``"training"``
entry. It is written atomically; temporary files a killed writer left behind are
removed before the next save.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.io import atomic_write_bytes
from trimatte.models.checkpoint import FORMAT, VERSION, load_checkpoint
from trimatte.training.config import TrainConfig

__all__ = ["check_resume_config", "load_training_state", "restore_rng_state",
           "save_training_state"]


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_state(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    step: int,
    config: TrainConfig,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Write a resumable checkpoint atomically (a :mod:`trimatte.models.checkpoint` file
    plus a ``"training"`` entry)."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": dict(model.config),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "metadata": {"stage": config.stage, "step": step, "metrics": dict(metrics or {}),
                     "train_config": config.to_dict()},
        "training": {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": _rng_state(),
        },
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_training_state(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_training_state`.

    Raises:
        InputError: Not a resumable checkpoint.
    """
    payload = load_checkpoint(path)
    if not isinstance(payload.get("training"), dict):
        raise InputError("checkpoint has no training state (a final model.pth?); "
                         "resume from checkpoints/last.pt", path)
    return payload


def check_resume_config(saved: dict[str, Any], config: TrainConfig, path: Path) -> None:
    ignore = {"steps"}
    now = config.to_dict()
    for section in ("stage", "seed", "model", "data", "optim"):
        a, b = saved.get(section), now.get(section)
        if isinstance(a, dict) and isinstance(b, dict):
            a = {k: v for k, v in a.items() if k not in ignore}
            b = {k: v for k, v in b.items() if k not in ignore}
        if a != b:
            raise InputError(
                f"cannot resume: the config's {section!r} differs from the run's "
                "(only optim.steps and the run section may change)",
                path,
            )
