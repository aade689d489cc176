"""Evaluate alpha mattes over a dataset and tabulate SAD / MSE / Grad / Conn.

The metric definitions live in :mod:`trimatte.metrics`; this module pairs files,
times the method under test, and formats the results.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from trimatte.errors import InputError
from trimatte.image import to_uint8
from trimatte.io import atomic_write_bytes, find_by_stem, find_trimap, list_images

METRIC_NAMES = ("SAD", "MSE", "Grad", "Conn")


@dataclass
class EvalSample:
    """One evaluation case: an image with its ground-truth alpha and trimap files."""

    name: str
    image: Path
    alpha: Path
    trimap: Path | None


@dataclass
class EvalRecord:
    """Metrics of one image (``seconds`` is NaN when predictions were read from disk)."""

    name: str
    SAD: float
    MSE: float
    Grad: float
    Conn: float
    seconds: float = math.nan


def pair_samples(
    images: str | Path,
    alphas: str | Path,
    trimaps: str | Path | None,
    *,
    skip: Callable[[Path], bool] | None = None,
) -> tuple[list[EvalSample], list[str]]:
    """Match ``images/X.*`` with ``alphas/X.*`` and a trimap by file stem.

    The trimap of ``X`` is ``trimaps/X_trimap.*`` (what ``trimatte matte --save
    trimap`` writes) or ``trimaps/X.*``. Files of ``images`` for which ``skip``
    is true are left out (e.g. trimaps kept beside their images).

    Returns:
        The matched samples, and one message per image that has no partner.

    Raises:
        InputError: A folder is missing, or no image has all its partners; the
            message blames the folder in which nothing matched.
    """
    for folder in (alphas, trimaps):
        if folder is not None:
            list_images(folder)  # "folder not found" before anything else
    samples, problems = [], []
    n_alpha = n_trimap = 0
    listed = [p for p in list_images(images) if skip is None or not skip(p)]
    if not listed:
        raise InputError("folder holds no images", images)
    for image in listed:
        alpha = find_by_stem(alphas, image.stem)
        trimap = find_trimap(trimaps, image.stem, exclude=image) if trimaps is not None else None
        n_alpha += alpha is not None
        n_trimap += trimap is not None
        if alpha is None:
            problems.append(f"{image}: no alpha named {image.stem}.* in {alphas}; skipped")
        elif trimaps is not None and trimap is None:
            problems.append(
                f"{image}: no trimap named {image.stem}_trimap.* or {image.stem}.* in {trimaps}; "
                "skipped"
            )
        else:
            samples.append(EvalSample(image.stem, image, alpha, trimap))
    if not samples:
        if n_alpha == 0 or trimaps is None:
            raise InputError(f"no image in {images} has a matching alpha in this folder", alphas)
        if n_trimap == 0:
            raise InputError(
                f"no image in {images} has a matching trimap (X_trimap.* or X.*) in this folder",
                trimaps,
            )
        raise InputError(
            f"no image in {images} has both its alpha in {alphas} and its trimap in {trimaps}",
            images,
        )
    return samples, problems


def find_prediction(folder: str | Path, stem: str) -> Path | None:
    """A prediction for ``stem``: ``X.png`` or ``X_alpha.png`` (what ``trimatte matte`` writes)."""
    return find_by_stem(folder, stem) or find_by_stem(folder, f"{stem}_alpha")


def quantize_8bit(alpha: np.ndarray) -> np.ndarray:
    """Round alpha to 8-bit levels, as a saved PNG would hold it."""
    return to_uint8(alpha).astype(np.float32) / np.float32(255.0)


def mean_record(records: Iterable[EvalRecord]) -> EvalRecord:
    """The per-metric mean of ``records`` (named ``"mean"``).

    NaN entries (MSE of an image whose trimap has no unknown pixel; seconds of
    predictions read from disk) are left out of their column's mean.
    """
    records = list(records)
    values = {}
    for key in (*METRIC_NAMES, "seconds"):
        column = np.array([getattr(r, key) for r in records], dtype=np.float64)
        finite = column[~np.isnan(column)]
        values[key] = float(finite.mean()) if finite.size else math.nan
    return EvalRecord(name="mean", **values)


def format_table(records: list[EvalRecord], title: str = "") -> str:
    """A fixed-width text table of ``records`` followed by their mean."""
    width = max([len(r.name) for r in records] + [5])
    header = f"{'image':<{width}}  {'SAD':>9} {'MSE':>9} {'Grad':>9} {'Conn':>9} {'sec':>7}"
    lines = [title] if title else []
    lines += [header, "-" * len(header)]
    rows = [*records, mean_record(records)]
    for i, r in enumerate(rows):
        if i == len(records):
            lines.append("-" * len(header))
        seconds = "-" if math.isnan(r.seconds) else f"{r.seconds:7.2f}"
        mse = "-" if math.isnan(r.MSE) else f"{r.MSE:9.5f}"
        lines.append(
            f"{r.name:<{width}}  {r.SAD:9.3f} {mse:>9} {r.Grad:9.3f} {r.Conn:9.3f} {seconds:>7}"
        )
    return "\n".join(lines)


def write_json(path: str | Path, records: list[EvalRecord], meta: dict) -> Path:
    """Write ``{"meta": ..., "images": [...], "mean": {...}}`` atomically."""
    payload = {
        "meta": meta,
        "images": [_finite(asdict(r)) for r in records],
        "mean": _finite(asdict(mean_record(records))),
    }
    return atomic_write_bytes(path, json.dumps(payload, indent=2).encode())


def _finite(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def evaluate(
    samples: list[EvalSample],
    predict: Callable[[EvalSample], tuple[np.ndarray, np.ndarray, np.ndarray, float]],
    *,
    on_error: Callable[[str], None] | None = None,
    progress: bool = True,
) -> list[EvalRecord]:
    """Score ``predict`` on every sample.

    Args:
        samples: Cases from :func:`pair_samples`.
        predict: ``sample -> (pred_alpha, gt_alpha, trimap, seconds)``.
        on_error: Called with a message when a sample fails (it is then skipped);
            if None, the error propagates.
        progress: Show a tqdm bar.
    """
    from tqdm import tqdm

    from trimatte.errors import TrimatteError
    from trimatte.metrics import compute_metrics

    records = []
    for sample in tqdm(samples, desc="evaluating", unit="img", disable=not progress):
        try:
            pred, gt, trimap, seconds = predict(sample)
            scores = compute_metrics(pred, gt, trimap)
        except TrimatteError as exc:
            if on_error is None:
                raise
            on_error(str(exc))
            continue
        records.append(EvalRecord(name=sample.name, seconds=seconds, **scores))
    return records
