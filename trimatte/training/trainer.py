"""One training loop for the four stages of the DIM recipe, single- or multi-process.

Stages (``config.stage``)
-------------------------
=================== ============================================ ==============================
stage               trains                                       loss
=================== ============================================ ==============================
``encoder-decoder`` the U-Net (refinement CNN frozen, unused)    ``w*L_alpha + (1-w)*L_comp`` on
                                                                 the coarse alpha (DIM, w=0.5)
``refinement``      the refinement CNN; the U-Net frozen (eval)  ``L_alpha`` on the refined alpha
``finetune``        everything                                   ``L_alpha`` (refined) + the
                                                                 encoder-decoder loss (coarse)
``trimap``          the trimap U-Net                             cross-entropy (3 classes)
=================== ============================================ ==============================

Losses are over the trimap's unknown pixels (:mod:`trimatte.training.losses`).

Distributed training
--------------------
Launched with ``torchrun --nproc_per_node=K -m trimatte.cli.main train CONFIG``, each
process reads ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` from the environment and joins a
process group (``gloo`` on CPU, ``nccl`` on GPU); the model is wrapped in
:class:`~torch.nn.parallel.DistributedDataParallel`. ``optim.batch_size`` is the
*global* batch, split evenly over the processes, and a
:class:`ResumableDistributedSampler` hands process ``r`` the ``r``-th interleaved
share of the same global batch a single process would draw. Losses are
per-sample means, so K processes with batch ``B/K`` each compute the same update as
one process with batch ``B`` (up to float summation order), provided BatchNorm
statistics do not depend on the split: use ``model.freeze_bn: all`` on CPU (there is no
CPU SyncBatchNorm) or ``model.sync_bn`` on GPUs.

Checkpoints and resuming
------------------------
Every ``run.checkpoint_every`` steps, and at the end, rank 0 writes
``checkpoints/last.pt`` atomically: a :mod:`trimatte.models.checkpoint` file (so
:func:`trimatte.models.checkpoint.load_model` opens it) with an extra ``"training"``
entry holding the optimiser, scheduler, step and torch RNG states. Samples are a
pure function of ``(seed, epoch, index)`` (:mod:`trimatte.data.datasets`), so
``resume=True`` continues exactly where the checkpoint left off: the loss sequence
and the weights equal those of an uninterrupted run. A killed run loses at most
``checkpoint_every`` steps. Logs after the checkpoint's step are dropped on resume.

Outputs in ``out_dir``: ``config.yaml``, ``log.csv`` (step, epoch, lr, losses,
seconds), ``val.csv`` (step and metrics), ``checkpoints/last.pt``, ``model.pth`` (the
final model for inference) and ``curves.png`` (curves and sample predictions).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, DistributedSampler
from tqdm import tqdm

from trimatte.data.aisegment import aisegment_pairs
from trimatte.data.datasets import CompositionDataset, MatteEvalDataset
from trimatte.data.folders import MattePair, list_backgrounds, match_by_stem
from trimatte.data.splits import shared_split
from trimatte.errors import InputError
from trimatte.io import atomic_write_bytes
from trimatte.models.checkpoint import FORMAT, VERSION, load_checkpoint
from trimatte.models.inference import pad_to_multiple, unpad
from trimatte.training import losses
from trimatte.training.config import TrainConfig
from trimatte.training.trimap_data import TrimapPhotoDataset, train_band

log = logging.getLogger(__name__)

#: Columns of ``log.csv``.
LOG_COLUMNS = ("step", "epoch", "lr", "loss", "loss_alpha", "loss_composition", "seconds")
#: Metrics of ``val.csv`` for matting stages (see :func:`trimatte.metrics.compute_metrics`).
MATTING_METRICS = ("SAD", "MSE", "Grad", "Conn")
#: Validation metrics of the guided stage: its own and those of its guide (closed-form).
GUIDED_METRICS = ("SAD", "MSE", "Grad", "Conn", "SAD_guide", "Grad_guide")
#: Metrics of ``val.csv`` for the trimap stage.
TRIMAP_METRICS = ("CE", "accuracy", "unknown_iou", "known_error")
#: Validation items whose predictions are drawn in ``curves.png``.
SAMPLES_IN_FIGURE = 3


# ----------------------------------------------------------------------------- distributed


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in a (possibly single-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup_distributed(device: str = "auto") -> DistInfo:
    """Join the process group described by torchrun's environment, if any.

    Without ``WORLD_SIZE`` (or with ``WORLD_SIZE=1``) this is a single process. The
    backend is ``nccl`` when the device is CUDA, else ``gloo``.

    Raises:
        InputError: ``device="cuda"`` without a GPU.
    """
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if use_cuda and not torch.cuda.is_available():
        raise InputError("CUDA requested but no GPU is available", "run.device")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        torch_device = torch.device("cuda", local_rank)
    else:
        torch_device = torch.device("cpu")
    owns = False
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
        owns = True
    if dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank, world_size, local_rank, torch_device, owns)


def _barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def _mean_over_ranks(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.distributed:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= info.world_size
    return values


# ----------------------------------------------------------------------------- sampling


class ResumableDistributedSampler(DistributedSampler):
    """A shuffling :class:`~torch.utils.data.DistributedSampler` that yields
    ``(epoch, index)`` keys and can start part-way through an epoch.

    The permutation of an epoch is the one ``DistributedSampler`` draws from
    ``seed + epoch``; process ``r`` of ``K`` takes every ``K``-th index from ``r``
    (``drop_last`` so every process has as many). Its ``k``-th batch of ``B/K``
    indices together with the other processes' ``k``-th batches is exactly the
    ``k``-th batch of ``B`` indices of a single process.

    Args:
        dataset: The dataset (only its length is used).
        num_replicas, rank: The process count and this process's rank.
        seed: Shuffling seed.
        start: Number of this process's indices to skip in the current epoch (for
            resuming); reset to 0 after one pass.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, seed: int,
                 start: int = 0) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True,
                         seed=seed, drop_last=True)
        self.start = int(start)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        indices = list(super().__iter__())[self.start:]
        self.start = 0
        for index in indices:
            yield (self.epoch, int(index))

    def __len__(self) -> int:
        return self.num_samples - self.start


# ----------------------------------------------------------------------------- data


def _spread(pairs: list[MattePair], count: int) -> tuple[list[MattePair], list[MattePair]]:
    """Split off ``count`` pairs evenly spread over ``pairs`` (a fixed, documented choice)."""
    if count >= len(pairs):
        raise InputError(
            f"cannot hold out {count} of {len(pairs)} pairs for validation and still train",
            "data.val_count",
        )
    chosen = set(np.linspace(0, len(pairs) - 1, count).round().astype(int).tolist())
    held = [p for i, p in enumerate(pairs) if i in chosen]
    kept = [p for i, p in enumerate(pairs) if i not in chosen]
    return kept, held


def build_datasets(
    config: TrainConfig,
) -> tuple[CompositionDataset | TrimapPhotoDataset, MatteEvalDataset]:
    """The training and validation datasets described by ``config.data``.

    Matting stages train on DIM composites (:class:`CompositionDataset`); the trimap
    stage on crops of the photos themselves with fixed-band targets
    (:class:`~trimatte.training.trimap_data.TrimapPhotoDataset`; composites of photos
    over foreign backgrounds teach it to call every photo pixel "not background").

    Validation sets: ``shared`` uses :func:`trimatte.data.splits.shared_split`;
    ``folders`` uses ``val_image_dir``/``val_alpha_dir`` when given; otherwise
    ``val_count`` pairs spread evenly over the sorted names are held out.

    Raises:
        InputError: Missing folders or no usable pairs (unmatched files are logged).
    """
    d = config.data
    root = Path(d.root)
    if d.kind == "subjects":
        return _subject_datasets(config)
    if d.kind == "pool":
        from trimatte.data.guide_pool import GuidePoolDataset, load_pool

        return (GuidePoolDataset(load_pool(d.pool), seed=config.seed, repeats=d.repeats),
                GuidePoolDataset(load_pool(d.val_pool), augment=False))
    if d.kind == "shared":
        split = shared_split(root)
        train_pairs, val_pairs, backgrounds = split.train, split.validation, split.backgrounds
    else:
        if d.kind == "aisegment":
            pairs, problems = aisegment_pairs(root, verify=True)
        else:
            pairs, problems = match_by_stem(root / d.image_dir, root / d.alpha_dir,
                                            is_foreground=d.foreground)
        for problem in problems:
            log.warning("skipping %s", problem)
        if not pairs:
            raise InputError("no (image, alpha) pairs found", root)
        backgrounds = list_backgrounds(d.background_dir)
        if d.val_image_dir is not None and d.val_alpha_dir is not None:
            train_pairs = pairs
            val_pairs, val_problems = match_by_stem(root / d.val_image_dir,
                                                    root / d.val_alpha_dir)
            for problem in val_problems:
                log.warning("skipping validation file %s", problem)
        else:
            train_pairs, val_pairs = _spread(pairs, d.val_count)
    val = MatteEvalDataset(val_pairs, max_side=d.val_max_side, band=d.val_band)
    if config.stage == "trimap":
        band = d.trimap_band if d.trimap_band is not None else train_band(
            d.val_band, d.max_side, d.val_max_side)
        return TrimapPhotoDataset(
            train_pairs, seed=config.seed, out_size=d.out_size, crop_sizes=d.crop_sizes,
            band=band, unknown_fraction=d.trimap_unknown_fraction, repeats=d.repeats,
            max_side=d.max_side, jitter=d.jitter, backgrounds=backgrounds,
        ), val
    train = CompositionDataset(
        train_pairs, backgrounds, seed=config.seed, out_size=d.out_size,
        crop_sizes=d.crop_sizes, trimap_radius=(d.trimap_radius[0], d.trimap_radius[1]),
        repeats=d.repeats, max_side=d.max_side, jitter=d.jitter,
    )
    return train, val


def _subject_datasets(config: TrainConfig):
    """Training and validation sets of the ``subjects`` kind (:mod:`trimatte.data.subjects`).

    Training: the mask photos outside the fixed held-out fifth plus the training pairs
    of :func:`~trimatte.data.splits.shared_split` (soft alpha). Validation: the
    held-out mask photos (at most ``val_limit``) plus the held-out AM-2k photos. Banks
    are cached in ``root/../`` never: in the run folder's parent ``.cache`` next to
    the config copy, keyed by their content.
    """
    from trimatte.data import subjects
    from trimatte.models.saliency import predict_saliency

    d = config.data
    root = Path(d.root)
    split = shared_split(root)
    train_masks, held_masks = subjects.split_held_out(subjects.mask_photos(root))
    soft_train = [subjects.LabelledPhoto(p.name, p.image, p.alpha, soft=True)
                  for p in split.train if not p.is_foreground]
    soft_held = [subjects.LabelledPhoto(p.name, p.image, p.alpha, soft=True)
                 for p in split.validation_real]
    if d.val_limit is not None and d.val_limit < len(held_masks):
        keep = np.linspace(0, len(held_masks) - 1, d.val_limit).round().astype(int)
        held_masks = [held_masks[i] for i in sorted(set(keep.tolist()))]
    cache = Path(os.environ.get("TRIMATTE_CACHE", Path.home() / ".cache" / "trimatte"))
    cache.mkdir(parents=True, exist_ok=True)
    options = dict(bank_side=d.bank_side, core=d.mask_core, ring=d.mask_ring)
    train_bank = subjects.SubjectBank(train_masks + soft_train, predict_saliency,
                                      cache=cache / "subjects_train.npz", **options)
    val_bank = subjects.SubjectBank(held_masks + soft_held, predict_saliency,
                                    cache=cache / "subjects_val.npz", **options)
    train = subjects.SubjectDataset(train_bank, seed=config.seed, out_size=d.out_size,
                                    repeats=d.repeats, soft_weight=d.soft_weight)
    return train, subjects.SubjectEvalDataset(val_bank)


# ----------------------------------------------------------------------------- model


def _state_dict_from(path: str) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["state_dict"]


def build_model(config: TrainConfig) -> nn.Module:
    """The network of ``config.stage`` with its initial weights.

    ``refinement`` and ``finetune`` load ``model.init_from`` (a checkpoint whose
    architecture must match); the encoder-decoder stage may load ImageNet encoder
    weights from ``model.encoder_init``; ``init_from`` in those stages continues
    from a checkpoint instead.
    """
    m = config.model
    decoder = tuple(m.decoder_channels) if m.decoder_channels is not None else None
    encoder_init = m.encoder_init if not m.init_from else None
    if config.stage == "guided":
        from trimatte.models.guided import build_guided_net

        model = build_guided_net(m.encoder, encoder_init, encoder_depth=m.encoder_depth,
                                 decoder_channels=decoder, refine_channels=m.refine_channels)
    elif config.stage == "trimap":
        from trimatte.models.trimap_unet import build_trimap_net

        model = build_trimap_net(m.encoder, encoder_init, encoder_depth=m.encoder_depth,
                                 decoder_channels=decoder, prior_channels=m.prior_channels,
                                 input_size=m.input_size)
    else:
        from trimatte.models.dim import build_matting_net

        model = build_matting_net(m.encoder, 4, encoder_init, refine=True,
                                  encoder_depth=m.encoder_depth, decoder_channels=decoder,
                                  refine_channels=m.refine_channels)
    if m.init_from:
        state = _state_dict_from(m.init_from)
        own = model.state_dict()
        bad = sorted(k for k in own if k not in state or state[k].shape != own[k].shape)
        if bad:
            raise InputError(
                f"checkpoint does not fit the configured model ({len(bad)} missing or "
                f"mismatched weights, e.g. {', '.join(bad[:3])}); check model.encoder, "
                "encoder_depth and decoder_channels",
                m.init_from,
            )
        model.load_state_dict(state)
    return model


def _trainable(model: nn.Module, stage: str) -> None:
    """Set ``requires_grad`` for the parts the stage trains."""
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    if stage == "encoder-decoder" and model.refinement is not None:
        model.refinement.requires_grad_(False)
    elif stage == "refinement":
        model.matting.requires_grad_(False)


def _set_train_mode(model: nn.Module, config: TrainConfig) -> None:
    model.train()
    if config.stage == "refinement":
        model.matting.eval()
    if config.model.freeze_bn != "none":
        frozen = model if config.model.freeze_bn == "all" else (
            model.encoder if config.stage in ("trimap", "guided") else model.matting.encoder)
        for module in frozen.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()


def _schedule(config: TrainConfig) -> Callable[[int], float]:
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


# ----------------------------------------------------------------------------- losses


def compute_loss(
    model: nn.Module, batch: dict[str, torch.Tensor], config: TrainConfig
) -> dict[str, torch.Tensor]:
    """Forward ``batch`` and return ``{"loss", ...parts}`` for ``config.stage``."""
    if config.stage == "trimap":
        logits = model(batch["image"], batch.get("prior"))
        weights = torch.tensor(config.optim.trimap_class_weights, device=logits.device)
        ce = losses.trimap_cross_entropy(logits, batch["trimap_class"], weights)
        return {"loss": ce, "alpha": ce.detach() * 0, "composition": ce.detach() * 0}
    weight = losses.unknown_weight(batch["trimap"])
    if config.stage == "guided":
        out = model(batch["image"], batch["trimap"], batch["guide"])
        w = config.optim.alpha_loss_weight
        coarse = losses.dim_loss(out["alpha_coarse"], batch["alpha"], batch["fg"], batch["bg"],
                                 weight, alpha_weight=w)
        refined = losses.dim_loss(out["alpha"], batch["alpha"], batch["fg"], batch["bg"],
                                  weight, alpha_weight=w)
        return {"loss": refined["loss"] + coarse["loss"], "alpha": refined["alpha"].detach(),
                "composition": refined["composition"].detach()}
    refine = config.stage != "encoder-decoder"
    out = model(batch["image"], batch["trimap"], refine=refine)
    w = config.optim.alpha_loss_weight
    if config.stage == "encoder-decoder":
        return losses.dim_loss(out["alpha_coarse"], batch["alpha"], batch["fg"], batch["bg"],
                               weight, alpha_weight=w)
    refined = losses.alpha_prediction_loss(out["alpha"], batch["alpha"], weight)
    if config.stage == "refinement":
        return {"loss": refined, "alpha": refined.detach(), "composition": refined.detach() * 0}
    coarse = losses.dim_loss(out["alpha_coarse"], batch["alpha"], batch["fg"], batch["bg"],
                             weight, alpha_weight=w)
    return {"loss": refined + coarse["loss"], "alpha": refined.detach(),
            "composition": coarse["composition"].detach()}


# ----------------------------------------------------------------------------- validation


@torch.no_grad()
def validate(
    model: nn.Module, dataset: MatteEvalDataset, config: TrainConfig, device: torch.device
) -> tuple[dict[str, float], list[dict[str, np.ndarray]]]:
    """Mean validation metrics and the first :data:`SAMPLES_IN_FIGURE` predictions.

    Matting stages: SAD, MSE, Grad, Conn (:func:`trimatte.metrics.compute_metrics`)
    of the alpha with the trimap's known pixels kept. Trimap stage: cross-entropy,
    pixel accuracy and the IoU of the unknown class. Inputs are padded to the
    network's stride and the output cropped back.
    """
    from trimatte.metrics import compute_metrics
    from trimatte.models.dim import keep_known

    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    samples: list[dict[str, np.ndarray]] = []
    stride = int(getattr(model, "stride", 32))
    for index in range(len(dataset)):
        item = dataset[index]
        image = item["image"][None].to(device)
        trimap = item["trimap"][None].to(device)
        alpha_gt = item["alpha"][0].numpy()
        trimap_u8 = np.rint(item["trimap"][0].numpy() * 255).astype(np.uint8)
        padded_image, pads = pad_to_multiple(image, stride)
        if config.stage == "trimap":
            prior = item.get("prior")
            if prior is not None:
                prior, _ = pad_to_multiple(prior[None].to(device), stride)
            logits = unpad(model(padded_image, prior), pads)
            target = item["trimap_class"][None].to(device)
            predicted = logits.argmax(dim=1)
            valid = target != losses.IGNORE_CLASS
            unknown_pred, unknown_true = (predicted == 1) & valid, target == 1
            union = (unknown_pred | unknown_true).sum().item()
            wrong_known = valid & (((predicted == 2) & (target == 0))
                                   | ((predicted == 0) & (target == 2)))
            metrics = {
                "CE": float(torch.nn.functional.cross_entropy(
                    logits, target, ignore_index=losses.IGNORE_CLASS)),
                "accuracy": float((predicted == target)[valid].float().mean()),
                "unknown_iou": (unknown_pred & unknown_true).sum().item() / union if union else 1.0,
                "known_error": float(wrong_known.float().sum() / valid.float().sum()),
            }
            prediction = np.asarray([0, 128, 255], np.uint8)[predicted[0].cpu().numpy()]
            prediction = prediction.astype(np.float32) / 255.0
        elif config.stage == "guided":
            padded_trimap, _ = pad_to_multiple(trimap, stride)
            guide = item["guide"][None].to(device)
            padded_guide, _ = pad_to_multiple(guide, stride)
            out = model(padded_image, padded_trimap, padded_guide)
            alpha = keep_known(unpad(out["alpha"], pads), trimap)
            prediction = alpha[0, 0].cpu().numpy()
            metrics = compute_metrics(prediction, alpha_gt, trimap_u8)
            guide_metrics = compute_metrics(item["guide"][0].numpy(), alpha_gt, trimap_u8)
            metrics["SAD_guide"] = guide_metrics["SAD"]
            metrics["Grad_guide"] = guide_metrics["Grad"]
        else:
            padded_trimap, _ = pad_to_multiple(trimap, stride)
            out = model(padded_image, padded_trimap, refine=config.stage != "encoder-decoder")
            alpha = keep_known(unpad(out["alpha"], pads), trimap)
            prediction = alpha[0, 0].cpu().numpy()
            metrics = compute_metrics(prediction, alpha_gt, trimap_u8)
        for key, value in metrics.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        if len(samples) < SAMPLES_IN_FIGURE:
            samples.append({
                "image": item["image"].permute(1, 2, 0).numpy(),
                "trimap": trimap_u8,
                "alpha": alpha_gt,
                "prediction": prediction,
            })
    model.train(was_training)
    return {k: v / len(dataset) for k, v in totals.items()}, samples


# ----------------------------------------------------------------------------- checkpoints


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
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


# ----------------------------------------------------------------------------- CSV logs


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _rewrite_rows(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode())


def _append_row(path: Path, columns: tuple[str, ...], row: dict[str, Any]) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


# ----------------------------------------------------------------------------- the loop


@dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    out_dir: Path
    step: int
    losses: list[float] = field(default_factory=list)
    validation: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    model_path: Path | None = None


def _check_resume_config(saved: dict[str, Any], config: TrainConfig, path: Path) -> None:
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
    train_set, val_set = build_datasets(config)
    model = build_model(config)
    if config.stage not in ("trimap", "guided"):
        _trainable(model, config.stage)
    model.to(info.device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=config.optim.lr,
                                 weight_decay=config.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config))

    step = 0
    if resume:
        payload = load_training_state(checkpoint_path)
        _check_resume_config(payload["metadata"].get("train_config", {}), config,
                             checkpoint_path)
        model.load_state_dict(payload["state_dict"])
        optimizer.load_state_dict(payload["training"]["optimizer"])
        scheduler.load_state_dict(payload["training"]["scheduler"])
        _set_rng_state(payload["training"]["rng"])
        step = int(payload["training"]["step"])

    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        config.save(out_dir / "config.yaml")
        for name, columns in (("log.csv", LOG_COLUMNS), ("val.csv", None)):
            rows = [r for r in _read_rows(out_dir / name) if int(r["step"]) <= step]
            if resume and rows:
                _rewrite_rows(out_dir / name, columns or tuple(rows[0]), rows)
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
    history = _read_rows(out_dir / "val.csv") if info.is_main else []
    metric_names = {"trimap": TRIMAP_METRICS, "guided": GUIDED_METRICS}.get(
        config.stage, MATTING_METRICS)
    samples: list[dict[str, np.ndarray]] = []

    def run_validation() -> None:
        nonlocal samples
        if info.is_main:
            metrics, samples = validate(model, val_set, config, info.device)
            row = {"step": step, **metrics}
            _append_row(out_dir / "val.csv", ("step", *metric_names), row)
            history.append({k: str(v) for k, v in row.items()})
            result.validation.append(row)
            shown = ", ".join(f"{k} {metrics[k]:.4g}" for k in metric_names)
            log.info("step %d validation: %s", step, shown)
            if progress:
                tqdm.write(f"step {step} validation: {shown}")
            if config.run.plot:
                from trimatte.training.plots import write_training_figure

                write_training_figure(out_dir / "curves.png", _read_rows(out_dir / "log.csv"),
                                      history, samples, metric_names[0])
        _barrier(info)

    def checkpoint() -> None:
        if info.is_main:
            save_training_state(checkpoint_path, model, optimizer, scheduler, step, config,
                                result.validation[-1] if result.validation else None)
            if config.run.keep_checkpoints:
                save_training_state(out_dir / "checkpoints" / f"step_{step:07d}.pt", model,
                                    optimizer, scheduler, step, config)
        _barrier(info)

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
            _set_train_mode(model, config)
            parts = compute_loss(network, batch, config)
            optimizer.zero_grad(set_to_none=True)
            parts["loss"].backward()
            if config.optim.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(parameters, config.optim.grad_clip)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            step += 1
            logged = _mean_over_ranks(torch.stack([
                parts["loss"].detach(), parts["alpha"].detach(), parts["composition"].detach()
            ]).cpu().double(), info)
            loss = float(logged[0])
            result.losses.append(loss)
            if info.is_main and step % config.run.log_every == 0:
                _append_row(out_dir / "log.csv", LOG_COLUMNS, {
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
    _barrier(info)
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
