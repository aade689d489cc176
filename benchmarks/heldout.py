"""Matting quality on the fixed held-out split of ../shared/data, methods side by side.

Every method gets the same input: the held-out photo and a trimap made from its
ground-truth alpha (DIM protocol, ``--band`` pixels of erosion on each side). Metrics
are SAD, MSE, Grad and Conn on the unknown pixels (``trimatte.metrics``), reported
separately for the AM-2k images (real, human-made alpha) and for the portraits whose
"ground truth" was predicted by published networks (agreement, not accuracy).

    python benchmarks/heldout.py [--methods closed-form,dim,guided] [--dim-weights FILE]
                                 [--dim-max-size N]
                                 [--guided-weights FILE] [--guided-max-size N]
                                 [--guided-smoothing S] [--band 10] [--trimaps band|wide]
                                 [--max-side 0] [--synthetic POOL] [--json FILE]

``--trimaps wide`` replaces the fixed band by wide, irregular unknown regions like
hand-drawn trimaps (:func:`trimatte.data.engine.irregular_trimap`, radius 1-4 % of the
long side, a fixed seed per image). ``--synthetic POOL`` also scores a held-out
guide pool (:mod:`trimatte.data.guide_pool`: composites of held-out foregrounds over
held-out backgrounds, exact alpha); there closed-form's alpha is the stored guide.

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
from trimatte.errors import TrimatteError  # noqa: E402
from trimatte.evaluation import (  # noqa: E402
    EvalRecord,
    format_table,
    mean_record,
    quantize_8bit,
)
from trimatte.io import atomic_write_bytes, read_alpha, read_image  # noqa: E402
from trimatte.metrics import compute_metrics  # noqa: E402
from trimatte.pipeline import STAGES, MatteState  # noqa: E402
from trimatte.trimap.morphology import trimap_from_alpha  # noqa: E402

SHARED = REPO.parent / "shared"


def shrink(image: np.ndarray, alpha: np.ndarray, max_side: int):
    scale = max_side / max(alpha.shape)
    if max_side <= 0 or scale >= 1:
        return image, alpha
    size = (round(alpha.shape[1] * scale), round(alpha.shape[0] * scale))
    return (cv2.resize(image, size, interpolation=cv2.INTER_AREA),
            np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), 0, 1))


def build(method: str, dim_weights: str | None, guided_weights: str | None = None,
          guided_max_size: int | None = None, guided_smoothing: float | None = None,
          dim_max_size: int | None = None):
    if method in ("guided", "guided-coarse"):
        options = {"max_size": guided_max_size or None} if guided_max_size is not None else {}
        if guided_smoothing is not None:
            options["smoothing"] = guided_smoothing
        return STAGES.build("guided", weights=guided_weights or "default",
                            refine=method == "guided", **options)
    if method in ("dim", "dim-coarse"):
        return STAGES.build("dim", weights=dim_weights or "default", refine=method == "dim",
                            max_size=dim_max_size or None)
    return STAGES.build(method)


def make_trimap(alpha: np.ndarray, kind: str, band: int, name: str) -> np.ndarray:
    """The evaluation trimap of one image: a fixed band, or a wide irregular one."""
    if kind == "band":
        return trimap_from_alpha(alpha, band=band)
    from trimatte.data.engine import irregular_trimap

    side = max(alpha.shape)
    rng = np.random.default_rng([sum(name.encode()), len(name)])
    return irregular_trimap(alpha, rng, 0.01 * side, 0.04 * side)


def score_pool(folder: Path, stages: dict) -> dict[str, list[EvalRecord]]:
    """Scores of each method on a held-out guide pool (closed-form = the stored guide)."""
    from trimatte.data.guide_pool import load_pool

    pool = load_pool(folder)
    results: dict[str, list[EvalRecord]] = {m: [] for m in stages}
    for index in tqdm(range(len(pool["alpha"])), desc="synthetic", file=sys.stderr):
        image = pool["image"][index].astype(np.float32)
        gt = pool["alpha"][index].astype(np.float32)
        trimap = pool["trimap"][index]
        guide = pool["guide"][index].astype(np.float32)
        for method, stage in stages.items():
            start = time.perf_counter()
            if method == "closed-form":
                alpha = guide
            elif method.startswith("guided"):
                from trimatte.models.guided import predict_guided_alpha
                from trimatte.stages.deep import load_cached_model

                model = load_cached_model(stage.weights, "guided", "cpu")
                alpha = predict_guided_alpha(model, image, trimap, guide, refine=stage.refine,
                                             smoothing=stage.smoothing,
                                             max_size=stage.max_size)
            else:
                try:
                    alpha = stage.run(MatteState(image=image, trimap=trimap)).alpha
                except TrimatteError:
                    alpha = guide
            scores = compute_metrics(quantize_8bit(alpha), gt, trimap)
            results[method].append(EvalRecord(f"synthetic/{index}",
                                              seconds=time.perf_counter() - start, **scores))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--methods", default="closed-form,dim")
    parser.add_argument("--dim-weights", help="DIM checkpoint (default: the shipped one)")
    parser.add_argument("--guided-weights", help="guided checkpoint (default: the shipped one)")
    parser.add_argument("--guided-max-size", type=int,
                        help="guided stage's max_size (0: full resolution; default: the stage's)")
    parser.add_argument("--dim-max-size", type=int,
                        help="dim stage's max_size (default: full resolution)")
    parser.add_argument("--guided-smoothing", type=float,
                        help="guided stage's correction smoothing (default: the stage's)")
    parser.add_argument("--band", type=int, default=10, help="trimap band in pixels")
    parser.add_argument("--trimaps", choices=("band", "wide"), default="band")
    parser.add_argument("--synthetic", type=Path, help="also score this held-out guide pool")
    parser.add_argument("--max-side", type=int, default=0, help="downscale (0: full size)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    if not (args.data / "am2k").is_dir():
        print(f"needs the developers' data folder {args.data} (absent)", file=sys.stderr)
        return 2

    split = shared_split(args.data)
    methods = args.methods.split(",")
    stages = {m: build(m, args.dim_weights, args.guided_weights, args.guided_max_size,
                       args.guided_smoothing, args.dim_max_size)
              for m in methods}
    results: dict[str, dict[str, list[EvalRecord]]] = {
        m: {"real": [], "pseudo": []} for m in methods
    }
    groups = [("real", p) for p in split.validation_real] + [
        ("pseudo", p) for p in split.validation_pseudo]
    for group, pair in tqdm(groups, desc="held-out", file=sys.stderr):
        image, gt = shrink(read_image(pair.image), read_alpha(pair.alpha), args.max_side)
        trimap = make_trimap(gt, args.trimaps, args.band, pair.name)
        for method, stage in stages.items():
            start = time.perf_counter()
            alpha = stage.run(MatteState(image=image, trimap=trimap)).alpha
            seconds = time.perf_counter() - start
            scores = compute_metrics(quantize_8bit(alpha), gt, trimap)
            results[method][group].append(EvalRecord(pair.name, seconds=seconds, **scores))

    summary = {}
    if args.synthetic:
        pool_scores = score_pool(args.synthetic, stages)
        for method in methods:
            results[method]["synthetic"] = pool_scores[method]
    titles = [("real", "AM-2k held-out (real alpha)"),
              ("pseudo", "portraits held-out (predicted alpha: agreement only)")]
    if args.synthetic:
        titles.append(("synthetic", f"synthetic held-out ({args.synthetic}, exact alpha, "
                                    "its own irregular trimaps)"))
    for group, title in titles:
        print(f"\n== {title}; trimaps {args.trimaps} (band {args.band} px), "
              f"max side {args.max_side or 'full'}")
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
