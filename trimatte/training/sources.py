"""The training and validation datasets a config describes (``config.data``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from trimatte.data.aisegment import aisegment_pairs
from trimatte.data.datasets import CompositionDataset, MatteEvalDataset
from trimatte.data.folders import MattePair, list_backgrounds, match_by_stem
from trimatte.data.splits import shared_split
from trimatte.data.trimap_photos import TrimapPhotoDataset, train_band
from trimatte.errors import InputError
from trimatte.training.config import TrainConfig

__all__ = ["build_datasets"]

log = logging.getLogger(__name__)


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
    (:class:`~trimatte.data.trimap_photos.TrimapPhotoDataset`; composites of photos
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
    (photos, U²-Net-p priors, class maps) are cached in ``$TRIMATTE_CACHE`` (default
    ``~/.cache/trimatte``), keyed by their content, so resumed runs skip the priors.
    """
    from trimatte.data import subjects
    from trimatte.models.salient_net import predict_saliency

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
