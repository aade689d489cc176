"""Data-engine throughput: samples per second per core, and a contact sheet of samples.

    python benchmarks/data_engine.py [--count 200] [--size 192] [--sheet engine.png]

Measures :class:`trimatte.data.engine.MattingEngine` on one core (torch, OpenCV and
BLAS limited to one thread) against the DIM composition loader it replaces
(:class:`trimatte.data.datasets.CompositionDataset`) on the same sources, after a
warm-up that loads every photo once (both cache decoded photos). Also times the
closed-form solve each guide-pool sample needs (:func:`trimatte.data.guide_pool.guide_alpha`),
which is what actually bounds the classical-guided stage's data rate.
Needs ``../shared``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"


def rate(make, count: int) -> float:
    start = time.perf_counter()
    for index in range(count):
        make(index)
    return count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--guides", type=int, default=10, help="closed-form solves to time")
    parser.add_argument("--sheet", type=Path, help="write a contact sheet of 12 samples")
    args = parser.parse_args()
    if not (args.data / "am2k").is_dir():
        print(f"needs the developers' data folder {args.data} (absent)", file=sys.stderr)
        return 2
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    from trimatte.data.datasets import CompositionDataset
    from trimatte.data.engine import MattingEngine, engine_contact_sheet, engine_split
    from trimatte.data.guide_pool import guide_alpha

    split = engine_split(args.data)
    engine = MattingEngine(split.train_foregrounds, split.train_backgrounds, size=args.size)
    dim = CompositionDataset(split.train_foregrounds, split.train_backgrounds,
                             out_size=args.size, crop_sizes=(args.size, args.size * 3 // 2,
                                                             args.size * 2), max_side=640,
                             repeats=100)
    for make in (engine.sample, dim.__getitem__):  # warm-up: decode every photo once
        for index in range(max(len(split.train_backgrounds), 60)):
            make(index)
    rows = [("engine (real + synthetic)", rate(engine.sample, args.count))]
    synthetic = MattingEngine(split.train_foregrounds, split.train_backgrounds, size=args.size,
                              synthetic_fraction=1.0)
    rows.append(("engine, synthetic only", rate(synthetic.sample, args.count)))
    real = MattingEngine(split.train_foregrounds, split.train_backgrounds, size=args.size,
                         synthetic_fraction=0.0)
    rows.append(("engine, real foregrounds only", rate(real.sample, args.count)))
    rows.append(("peer: DIM CompositionDataset", rate(dim.__getitem__, args.count)))
    samples = [engine.sample(i) for i in range(args.guides)]
    start = time.perf_counter()
    for s in samples:
        guide_alpha(s["image"], s["trimap"])
    rows.append(("guide pool (+ closed-form)",
                 args.guides / (time.perf_counter() - start + args.guides / rows[0][1])))
    print(f"\nsamples of {args.size}x{args.size}, one core, {args.count} samples each")
    print(f"{'loader':34s} {'samples/s':>10}")
    for name, value in rows:
        print(f"{name:34s} {value:10.1f}")
    if args.sheet:
        print(f"contact sheet: {engine_contact_sheet(engine, range(12), args.sheet)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
