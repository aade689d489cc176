"""Engine samples with their closed-form alpha, precomputed, for the classical-guided stage.

The guided network (:mod:`trimatte.models.guided`) learns corrections to closed-form
matting, so each training sample needs closed-form's alpha for its trimap. Solving it
costs far more than making the sample (about a second at 160 px against 0.05 s), so
samples are solved once and stored in shards of ``shard_size`` samples
(``<folder>/shard_<first index>.npz``), written atomically; building more shards later
resumes where the folder stops. :class:`GuidePoolDataset` serves them with random
flips and 90-degree rotations (exact for every array, so the compositing equation
still holds).

A trimap with no definite foreground cannot be solved by closed-form matting; its
guide is the trimap's own value (0.5 on unknown pixels), which the network learns
to replace.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trimatte.data.engine import MattingEngine
from trimatte.errors import TrimatteError
from trimatte.params import check_choice

__all__ = ["TRIMAP_KINDS", "GuidePoolDataset", "build_pool", "guide_alpha", "load_pool",
           "salient_trimap"]

log = logging.getLogger(__name__)

KEYS = ("image", "foreground", "background", "alpha", "trimap", "guide")


def guide_alpha(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Closed-form alpha of ``image`` (float32 HxWx3) for ``trimap`` (uint8 HxW), or the
    trimap's value (0, 0.5, 1) where closed-form cannot run (no definite foreground
    or background). Returns float32 ``(H, W)``."""
    from trimatte.matting.closed_form import closed_form_alpha

    if (trimap == 255).any() and (trimap == 0).any():
        try:
            return closed_form_alpha(image, trimap).astype(np.float32)
        except (TrimatteError, ValueError, RuntimeError) as exc:
            log.warning("closed-form failed on a pool sample (%s); using the trimap", exc)
    return (trimap.astype(np.float32) / 255.0).astype(np.float32)


TRIMAP_KINDS = ("engine", "salient")


def salient_trimap(image: np.ndarray, min_unknown: float = 0.02) -> np.ndarray | None:
    """The default pipeline's automatic trimap of ``image`` (the ``salient`` stage), or
    None where that source fails or leaves less than ``min_unknown`` of the pixels unknown.

    Its unknown region is what the guided network meets in use: wide where U²-Net-p is
    unsure, sometimes over whole background areas or a second object, and its known
    pixels can be wrong.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        min_unknown: Smallest share of unknown pixels worth a sample.

    Returns:
        uint8 ``(H, W)`` 0/128/255, or None.
    """
    import trimatte.stages  # noqa: F401  (registers the stages)
    from trimatte.pipeline import STAGES, MatteState

    try:
        trimap = STAGES.build("salient").run(MatteState(image=image)).trimap
    except TrimatteError:
        return None
    return trimap if np.mean(trimap == 128) >= min_unknown else None


def build_pool(engine: MattingEngine, folder: str | Path, count: int, *,
               shard_size: int = 50, progress: bool = True, trimaps: str = "engine",
               ) -> list[Path]:
    """Solve and store engine samples ``0 .. count-1`` in ``folder`` (resumable).

    Args:
        engine: The sample source.
        folder: Where the shards go.
        count: Number of samples.
        shard_size: Samples per shard file.
        progress: Show a progress bar.
        trimaps: ``"engine"``: the engine's irregular band trimaps; ``"salient"``: the
            ``salient`` source's trimap of each composite (:func:`salient_trimap`), or
            the engine's where that source gives none.

    Returns:
        The shard files, in index order.
    """
    check_choice(trimaps, TRIMAP_KINDS, "trimaps", "build_pool")
    from tqdm import tqdm

    from trimatte.io import atomic_write_bytes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    starts = range(0, count, shard_size)
    bar = tqdm(total=count, desc="guide pool", unit="sample", disable=not progress)
    for start in starts:
        path = folder / f"shard_{start:06d}.npz"
        stop = min(start + shard_size, count)
        if not path.is_file():
            arrays: dict[str, list[np.ndarray]] = {k: [] for k in KEYS}
            for index in range(start, stop):
                sample = engine.sample(index)
                if trimaps == "salient":
                    automatic = salient_trimap(sample["image"])
                    if automatic is not None:
                        sample["trimap"] = automatic
                sample["guide"] = guide_alpha(sample["image"], sample["trimap"])
                for key in KEYS:
                    value = sample[key]
                    arrays[key].append(value if key == "trimap" else value.astype(np.float16))
                bar.update(1)
            buffer = io.BytesIO()
            np.savez(buffer, **{k: np.stack(v) for k, v in arrays.items()})
            atomic_write_bytes(path, buffer.getvalue())
        else:
            bar.update(stop - start)
        shards.append(path)
    bar.close()
    return shards


def load_pool(folder: str | Path | Sequence[str | Path]) -> dict[str, np.ndarray]:
    """All shards of ``folder`` (or of each folder of a list, in order) concatenated:
    arrays ``(N, S, S[, 3])`` (float16, trimap uint8). Every folder must hold shards of
    the same sample size."""
    folders = [folder] if isinstance(folder, (str, Path)) else list(folder)
    paths = []
    for one in folders:
        found = sorted(Path(one).glob("shard_*.npz"))
        if not found:
            raise TrimatteError(f"{one}: no guide-pool shards; build them with build_pool")
        paths += found
    parts: dict[str, list[np.ndarray]] = {k: [] for k in KEYS}
    for path in paths:
        with np.load(path) as data:
            for key in KEYS:
                parts[key].append(data[key])
        if parts["image"][-1].shape[1:] != parts["image"][0].shape[1:]:
            raise TrimatteError(
                f"{path}: samples of {parts['image'][-1].shape[1:3]} px, but the pool's first "
                f"shard has {parts['image'][0].shape[1:3]}; one pool needs one sample size")
    return {k: np.concatenate(v) for k, v in parts.items()}


class GuidePoolDataset:
    """Pool samples with random dihedral transforms, as tensors.

    Items: ``image``, ``fg``, ``bg`` float32 ``(3, S, S)``; ``alpha``, ``guide`` float32
    ``(1, S, S)``; ``trimap`` float32 ``(1, S, S)`` (trimap / 255). A sample is a pure
    function of ``(seed, epoch, index)``.
    """

    def __init__(self, pool: dict[str, np.ndarray], *, seed: int = 0, repeats: int = 1,
                 augment: bool = True) -> None:
        self.pool = pool
        self.seed = int(seed)
        self.repeats = int(repeats)
        self.augment = augment

    def __len__(self) -> int:
        return len(self.pool["alpha"]) * self.repeats

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        import torch

        epoch, index = key if isinstance(key, tuple) else (0, key)
        number = index % len(self.pool["alpha"])
        rng = np.random.default_rng([self.seed, epoch, index])
        turns = int(rng.integers(4)) if self.augment else 0
        flip = bool(rng.random() < 0.5) if self.augment else False

        def arrange(array: np.ndarray) -> torch.Tensor:
            array = np.rot90(array, turns, axes=(0, 1))
            if flip:
                array = array[:, ::-1]
            array = np.asarray(array, dtype=np.float32)
            array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
            return torch.from_numpy(np.ascontiguousarray(array))

        p = self.pool
        return {
            "image": arrange(p["image"][number]),
            "fg": arrange(p["foreground"][number]),
            "bg": arrange(p["background"][number]),
            "alpha": arrange(p["alpha"][number]),
            "guide": arrange(p["guide"][number]),
            "trimap": arrange(p["trimap"][number].astype(np.float32) / 255.0),
        }
