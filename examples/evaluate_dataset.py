"""Score matting methods on a dataset of images with ground-truth alphas.

    python examples/evaluate_dataset.py [--images DIR --alphas DIR] [--band 10]
                                        [--methods closed-form,grabcut-hard] [--max-side 800]

Trimaps are made from the ground-truth alpha (DIM protocol) unless ``--trimaps DIR``
is given. Defaults to the AM-2k samples in ../shared/data/am2k when present (the
developers' data folder; a user's clone does not have it: pass your own folders).
The same table is available from the shell as ``trimatte eval``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from trimatte.evaluation import EvalRecord, format_table, pair_samples
from trimatte.io import read_alpha, read_image, read_trimap
from trimatte.metrics import compute_metrics
from trimatte.pipeline import STAGES, MatteState
from trimatte.trimap.morphology import trimap_from_alpha

AM2K = Path(__file__).resolve().parents[2] / "shared" / "data" / "am2k"


def shrink(array: np.ndarray, max_side: int, nearest: bool = False) -> np.ndarray:
    scale = max_side / max(array.shape[:2])
    if max_side <= 0 or scale >= 1:
        return array
    size = (round(array.shape[1] * scale), round(array.shape[0] * scale))
    return cv2.resize(array, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=AM2K / "image")
    parser.add_argument("--alphas", type=Path, default=AM2K / "alpha")
    parser.add_argument("--trimaps", type=Path, help="trimaps (default: made from the alpha)")
    parser.add_argument("--band", type=int, default=10)
    parser.add_argument("--methods", default="closed-form,grabcut-hard")
    parser.add_argument("--max-side", type=int, default=800, help="0 keeps full size")
    args = parser.parse_args()
    if not args.images.is_dir():
        print(f"no dataset at {args.images}: pass --images and --alphas", file=sys.stderr)
        return 2

    samples, problems = pair_samples(args.images, args.alphas, args.trimaps)
    for problem in problems:
        print(problem, file=sys.stderr)
    for method in args.methods.split(","):
        stage = STAGES.build(method)
        records = []
        for sample in samples:
            image = shrink(read_image(sample.image), args.max_side)
            gt = np.clip(shrink(read_alpha(sample.alpha), args.max_side), 0, 1)
            trimap = (shrink(read_trimap(sample.trimap), args.max_side, nearest=True)
                      if sample.trimap else trimap_from_alpha(gt, band=args.band))
            start = time.perf_counter()
            alpha = stage.run(MatteState(image=image, trimap=trimap)).alpha
            seconds = time.perf_counter() - start
            scores = compute_metrics(alpha, gt, trimap, quantize=True)
            records.append(EvalRecord(sample.name, seconds=seconds, **scores))
        print(format_table(records, title=f"\nmethod: {method}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
