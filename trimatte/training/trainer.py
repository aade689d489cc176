"""The training loop: one loop for every phase, single- or multi-process, resumable.

What a phase trains, its loss and its validation come from its recipe
(:mod:`trimatte.training.recipes`); the data from :mod:`trimatte.training.sources`;
process groups and sampling from :mod:`trimatte.training.distributed`; checkpoints from
:mod:`trimatte.training.checkpointing`; logs from :mod:`trimatte.training.csvlog`.

Checkpoints and resuming
------------------------
Every ``run.checkpoint_every`` steps, and at the end, rank 0 writes
``checkpoints/last.pt`` atomically (with the optimiser, scheduler, step and RNG
states). Samples are a pure function of ``(seed, epoch, index)``, so ``resume=True``
continues exactly where the checkpoint left off: the loss sequence and the weights
equal those of an uninterrupted run. A killed run loses at most ``checkpoint_every``
steps. Logs after the checkpoint's step are dropped on resume.

Outputs in ``out_dir``: ``config.yaml``, ``log.csv`` (step, epoch, lr, losses,
seconds), ``val.csv`` (step and metrics), ``checkpoints/last.pt``, ``model.pth`` (the
final model for inference) and ``curves.png`` (curves and sample predictions).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import BatchSampler, DataLoader
from tqdm import tqdm

from trimatte.errors import InputError
from trimatte.io import remove_stale_temp_files
from trimatte.training.checkpointing import (
    check_resume_config,
    load_training_state,
    restore_rng_state,
    save_training_state,
)
from trimatte.training.config import TrainConfig
from trimatte.training.csvlog import LOG_COLUMNS, append_row, read_rows, rewrite_rows
from trimatte.training.distributed import (
    DistInfo,
    ResumableDistributedSampler,
    barrier,
    mean_over_ranks,
    setup_distributed,
)
from trimatte.training.recipes import Recipe, recipe_for
from trimatte.training.sources import build_datasets

__all__ = ["TrainResult", "config_with", "train", "validate"]

log = logging.getLogger(__name__)

#: Validation items whose predictions are drawn in ``curves.png``.
SAMPLES_IN_FIGURE = 3


def schedule(config: TrainConfig) -> Callable[[int], float]:
    """Learning-rate factor of each step: linear warm-up, then constant, cosine or step."""
    o = config.optim

    def factor(step: int) -> float:
        if o.warmup_steps and step < o.warmup_steps:
            return (step + 1) / o.warmup_steps
        if o.schedule == "cosine":
            progress = min(1.0, step / max(1, o.steps))
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        if o.schedule == "step":
            return 0.1 ** ((step >= 0.6 * o.steps) + (step >= 0.85 * o.steps))
        return 1.0

    return factor


@torch.no_grad()
def validate(model: nn.Module, dataset: Any, recipe: Recipe, device: torch.device
             ) -> tuple[dict[str, float], list[dict[str, np.ndarray]]]:
    """Mean validation metrics of ``recipe`` over ``dataset`` and the first
    :data:`SAMPLES_IN_FIGURE` predictions (for ``curves.png``)."""
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    samples: list[dict[str, np.ndarray]] = []
    for index in range(len(dataset)):
        item = dataset[index]
        prediction, metrics = recipe.predict(model, item, device)
        for key, value in metrics.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        if len(samples) < SAMPLES_IN_FIGURE:
            samples.append({
                "image": item["image"].permute(1, 2, 0).numpy(),
                "trimap": np.rint(item["trimap"][0].numpy() * 255).astype(np.uint8),
                "alpha": item["alpha"][0].numpy(),
                "prediction": prediction,
            })
    model.train(was_training)
    return {k: v / len(dataset) for k, v in totals.items()}, samples

@dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    out_dir: Path
    step: int
    losses: list[float] = field(default_factory=list)
    validation: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    model_path: Path | None = None




def train(
    config: TrainConfig,
    out_dir: str | Path,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Run (or resume) one training stage.

    Args:
        config: The run's config.
        out_dir: Folder for the config copy, logs, checkpoints and figure.
        resume: Continue from ``out_dir/checkpoints/last.pt`` (an error if absent).
        max_steps: Stop (with a checkpoint) after this global step even if
            ``optim.steps`` is larger; the schedule still follows ``optim.steps``.
        progress: Show a tqdm progress bar on rank 0.
        on_step: Called on every process after each step with ``(step, loss)``.

    Returns:
        A :class:`TrainResult` (on every rank; only rank 0 writes files).

    Raises:
        InputError: Bad config, data or checkpoint; a non-empty ``out_dir`` without
            ``resume`` (so a finished run is never overwritten).
    """
    out_dir = Path(out_dir)
    info = setup_distributed(config.run.device)
    try:
        return _train(config, out_dir, resume, max_steps, progress, on_step, info)
    finally:
        if info.owns_group:
            dist.destroy_process_group()


def _train(config, out_dir, resume, max_steps, progress, on_step, info: DistInfo) -> TrainResult:
    if config.run.threads:
        torch.set_num_threads(config.run.threads)
    checkpoint_path = out_dir / "checkpoints" / "last.pt"
    if config.optim.batch_size % info.world_size:
        raise InputError(f"global batch {config.optim.batch_size} does not split evenly over "
                         f"{info.world_size} processes", "optim.batch_size")
    if resume and not checkpoint_path.is_file():
        raise InputError("nothing to resume: no checkpoints/last.pt", out_dir)
    if not resume and checkpoint_path.exists():
        raise InputError("already holds a run; pass --resume to continue it or choose "
                         "another output folder", out_dir)
    per_rank_batch = config.optim.batch_size // info.world_size

    torch.manual_seed(config.seed)
    recipe = recipe_for(config)
    train_set, val_set = build_datasets(config)
    model = recipe.build_model()
    model.to(info.device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=config.optim.lr,
                                 weight_decay=config.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule(config))

    step = 0
    if resume:
        payload = load_training_state(checkpoint_path)
        check_resume_config(payload["metadata"].get("train_config", {}), config,
                             checkpoint_path)
        model.load_state_dict(payload["state_dict"])
        optimizer.load_state_dict(payload["training"]["optimizer"])
        scheduler.load_state_dict(payload["training"]["scheduler"])
        restore_rng_state(payload["training"]["rng"])
        step = int(payload["training"]["step"])

    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        for folder in (out_dir, checkpoint_path.parent):  # litter of a killed run
            if folder.is_dir():
                remove_stale_temp_files(folder)
        config.save(out_dir / "config.yaml")
        for name, columns in (("log.csv", LOG_COLUMNS), ("val.csv", None)):
            rows = [r for r in read_rows(out_dir / name) if int(r["step"]) <= step]
            if resume and rows:
                rewrite_rows(out_dir / name, columns or tuple(rows[0]), rows)
            elif not resume and (out_dir / name).exists():
                (out_dir / name).unlink()

    network: nn.Module = model
    if info.distributed:
        if config.model.sync_bn and info.device.type == "cuda":
            network = nn.SyncBatchNorm.convert_sync_batchnorm(network)
        network = nn.parallel.DistributedDataParallel(
            network, device_ids=[info.local_rank] if info.device.type == "cuda" else None
        )

    sampler = ResumableDistributedSampler(train_set, info.world_size, info.rank, config.seed)
    steps_per_epoch = sampler.num_samples // per_rank_batch
    if steps_per_epoch == 0:
        raise InputError(
            f"{len(train_set)} samples per epoch are fewer than the global batch "
            f"{config.optim.batch_size}; raise data.repeats", "data.repeats"
        )
    batches = BatchSampler(sampler, per_rank_batch, drop_last=True)
    loader = DataLoader(train_set, batch_sampler=batches, num_workers=config.data.num_workers,
                        persistent_workers=False)

    last_step = min(config.optim.steps, max_steps) if max_steps is not None else config.optim.steps
    result = TrainResult(out_dir=out_dir, step=step)
    history = read_rows(out_dir / "val.csv") if info.is_main else []
    metric_names = recipe.metrics
    samples: list[dict[str, np.ndarray]] = []

    def run_validation() -> None:
        nonlocal samples
        if info.is_main:
            metrics, samples = validate(model, val_set, recipe, info.device)
            row = {"step": step, **metrics}
            append_row(out_dir / "val.csv", ("step", *metric_names), row)
            history.append({k: str(v) for k, v in row.items()})
            result.validation.append(row)
            shown = ", ".join(f"{k} {metrics[k]:.4g}" for k in metric_names)
            log.info("step %d validation: %s", step, shown)
            if progress:
                tqdm.write(f"step {step} validation: {shown}")
            if config.run.plot:
                from trimatte.training.plots import write_training_figure

                write_training_figure(out_dir / "curves.png", read_rows(out_dir / "log.csv"),
                                      history, samples, metric_names[0])
        barrier(info)

    def checkpoint() -> None:
        if info.is_main:
            save_training_state(checkpoint_path, model, optimizer, scheduler, step, config,
                                result.validation[-1] if result.validation else None)
            if config.run.keep_checkpoints:
                save_training_state(out_dir / "checkpoints" / f"step_{step:07d}.pt", model,
                                    optimizer, scheduler, step, config)
        barrier(info)

    if step == 0 and config.run.val_at_start and not resume:
        run_validation()

    bar = tqdm(total=last_step, initial=step, desc=f"train {config.stage}", unit="step",
               disable=not (progress and info.is_main), dynamic_ncols=True)
    while step < last_step:
        epoch, offset = divmod(step, steps_per_epoch)
        sampler.set_epoch(epoch)
        sampler.start = offset * per_rank_batch
        for batch in loader:
            started = time.perf_counter()
            batch = {k: v.to(info.device) for k, v in batch.items()}
            recipe.set_train_mode(model)
            parts = recipe.loss(network, batch)
            optimizer.zero_grad(set_to_none=True)
            parts["loss"].backward()
            if config.optim.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(parameters, config.optim.grad_clip)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            step += 1
            logged = mean_over_ranks(torch.stack([
                parts["loss"].detach(), parts["alpha"].detach(), parts["composition"].detach()
            ]).cpu().double(), info)
            loss = float(logged[0])
            result.losses.append(loss)
            if info.is_main and step % config.run.log_every == 0:
                append_row(out_dir / "log.csv", LOG_COLUMNS, {
                    "step": step, "epoch": epoch, "lr": f"{lr:.6g}", "loss": f"{loss:.8g}",
                    "loss_alpha": f"{float(logged[1]):.8g}",
                    "loss_composition": f"{float(logged[2]):.8g}",
                    "seconds": f"{time.perf_counter() - started:.3f}",
                })
            bar.set_postfix(loss=f"{loss:.4f}", epoch=epoch)
            bar.update(1)
            if on_step is not None:
                on_step(step, loss)
            # Validate before checkpointing: a run killed in between resumes from the
            # previous checkpoint and redoes this validation (the other order would skip it).
            if config.run.val_every and step % config.run.val_every == 0 and step < last_step:
                run_validation()
            if step % config.run.checkpoint_every == 0 and step < last_step:
                checkpoint()
            if step >= last_step:
                break
    bar.close()

    run_validation()
    checkpoint()
    result.step = step
    result.checkpoint = checkpoint_path
    if info.is_main:
        from trimatte.models.checkpoint import save_checkpoint

        result.model_path = save_checkpoint(
            model, out_dir / "model.pth",
            metadata={"stage": config.stage, "step": step,
                      "metrics": result.validation[-1] if result.validation else {},
                      "train_config": config.to_dict()},
        )
    barrier(info)
    return result


def config_with(config: TrainConfig, **sections: dict[str, Any]) -> TrainConfig:
    """A copy of ``config`` with some fields of some sections replaced (for tests/CLI).

    Example:
        >>> config_with(cfg, optim={"steps": 10}, run={"val_every": 0})  # doctest: +SKIP
    """
    changes: dict[str, Any] = {}
    for name, values in sections.items():
        current = getattr(config, name)
        changes[name] = dataclasses.replace(current, **values) if isinstance(values, dict) \
            else values
    updated = dataclasses.replace(config, **changes)
    updated.validate()
    return updated
