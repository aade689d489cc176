"""Single- and multi-process training: the process group and a resumable sampler.

Launched with ``torchrun --nproc_per_node=K -m trimatte.cli.main train CONFIG``, each
process reads ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` from the environment and joins a
process group (``gloo`` on CPU, ``nccl`` on GPU). ``optim.batch_size`` is the *global*
batch, split evenly over the processes, and :class:`ResumableDistributedSampler` hands
process ``r`` the ``r``-th interleaved share of the same global batch a single process
would draw, so K processes compute the same update as one (up to float summation
order), provided BatchNorm statistics do not depend on the split.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler

from trimatte.errors import InputError

__all__ = ["DistInfo", "ResumableDistributedSampler", "barrier", "mean_over_ranks",
           "setup_distributed"]


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


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def mean_over_ranks(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.distributed:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= info.world_size
    return values



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
