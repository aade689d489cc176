"""Matting quality on the fixed held-out split of ../shared/data, methods side by side.

Every method gets the same input: the held-out photo and a trimap made from its
ground-truth alpha (DIM protocol, ``--band`` pixels of erosion on each side). Metrics
are SAD, MSE, Grad and Conn on the unknown pixels (``trimatte.metrics``), reported
separately for the AM-2k images (real, human-made alpha) and for the portraits whose
"ground truth" was predicted by published networks (agreement, not accuracy).

    python benchmarks/heldout.py [--methods closed-form,dim] [--dim-weights FILE]
                                 [--band 10] [--max-side 0] [--json FILE]

The split is :func:`trimatte.data.splits.shared_split`: training never sees it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.data.splits import shared_split  # noqa: E402
from trimatte.evaluation import (  # noqa: E402
    EvalRecord,
    format_table,
    mean_record,
    quantize_8bit,
)
from trimatte.io import atomic_write_bytes, read_alpha, read_image  # noqa: E402
from trimatte.metrics import compute_metrics  # noqa: E402
from trimatte.pipeline import STAGES  # noqa: E402
from trimatte.trimap.morphology import trimap_from_alpha  # noqa: E402

SHARED = REPO.parent / "shared"


def shrink(image: np.ndarray, alpha: np.ndarray, max_side: int):
    scale = max_side / max(alpha.shape)
    if max_side <= 0 or scale >= 1:
        return image, alpha
    size = (round(alpha.shape[1] * scale), round(alpha.shape[0] * scale))
    return (cv2.resize(image, size, interpolation=cv2.INTER_AREA),
            np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), 0, 1))


def build(method: str, dim_weights: str | None):
    if method == "dim":
        return STAGES.build("dim", weights=dim_weights or "default")
    if method == "dim-coarse":
        return STAGES.build("dim", weights=dim_weights or "default", refine=False)
    return STAGES.build(method)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--methods", default="closed-form,dim")
    parser.add_argument("--dim-weights", help="DIM checkpoint (default: the shipped one)")
    parser.add_argument("--band", type=int, default=10, help="trimap band in pixels")
    parser.add_argument("--max-side", type=int, default=0, help="downscale (0: full size)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    if not (args.data / "am2k").is_dir():
        print(f"needs the developers' data folder {args.data} (absent)", file=sys.stderr)
        return 2

    from trimatte.pipeline import MatteState

    split = shared_split(args.data)
    methods = args.methods.split(",")
    stages = {m: build(m, args.dim_weights) for m in methods}
    results: dict[str, dict[str, list[EvalRecord]]] = {
        m: {"real": [], "pseudo": []} for m in methods
    }
    groups = [("real", p) for p in split.validation_real] + [
        ("pseudo", p) for p in split.validation_pseudo]
    for group, pair in tqdm(groups, desc="held-out", file=sys.stderr):
        image, gt = shrink(read_image(pair.image), read_alpha(pair.alpha), args.max_side)
        trimap = trimap_from_alpha(gt, band=args.band)
        for method, stage in stages.items():
            start = time.perf_counter()
            alpha = stage.run(MatteState(image=image, trimap=trimap)).alpha
            seconds = time.perf_counter() - start
            scores = compute_metrics(quantize_8bit(alpha), gt, trimap)
            results[method][group].append(EvalRecord(pair.name, seconds=seconds, **scores))

    summary = {}
    for group, title in (("real", "AM-2k held-out (real alpha)"),
                         ("pseudo", "portraits held-out (predicted alpha: agreement only)")):
        print(f"\n== {title}; trimap band {args.band} px, max side {args.max_side or 'full'}")
        print(f"{'method':14s} {'SAD':>9} {'MSE':>9} {'Grad':>9} {'Conn':>9} {'sec/img':>8}")
        for method in methods:
            m = mean_record(results[method][group])
            summary[f"{method}/{group}"] = m.__dict__
            print(f"{method:14s} {m.SAD:9.3f} {m.MSE:9.5f} {m.Grad:9.3f} {m.Conn:9.3f} "
                  f"{m.seconds:8.2f}")
    for method in methods:
        print()
        print(format_table(results[method]["real"] + results[method]["pseudo"],
                           title=f"per image: {method}"))
    if args.json:
        payload = {"band": args.band, "max_side": args.max_side, "mean": summary,
                   "per_image": {m: [r.__dict__ for g in results[m].values() for r in g]
                                 for m in methods}}
        atomic_write_bytes(args.json, json.dumps(payload, indent=2).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
