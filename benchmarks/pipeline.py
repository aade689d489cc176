"""Per-stage wall time of trimatte pipelines at ~800 px and ~2000 px, beside a peer.

The peer is the "rembg + alpha matting" recipe many users know: U²-Net-p run by
ONNX Runtime for the mask, a trimap by thresholding and erosion, then pymatting's
``estimate_alpha_cf`` and ``estimate_foreground_ml``. It runs only where onnxruntime,
pymatting and the ONNX file (``../shared/weights/u2netp.onnx``) are available.

    python benchmarks/pipeline.py [--images DIR] [--sizes 800,2000] [--repeat 2] [--quick]

Images default to the AM-2k samples in ../shared/data/am2k/image, or to the examples
shipped in examples/data when that folder is absent. The first run of every pipeline
(model loading, numba compilation for the peer) is timed separately as warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rembg_peer import rembg_trimap  # noqa: E402 (beside this script)

import trimatte  # noqa: E402
from trimatte.api import build_pipeline  # noqa: E402
from trimatte.io import list_images  # noqa: E402

SHARED = REPO.parent / "shared"


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    scale = long_side / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    mode = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return np.clip(cv2.resize(image, size, interpolation=mode), 0.0, 1.0)


class Peer:
    """rembg-style pipeline: ONNX Runtime U²-Net-p → trimap → pymatting cf + ml."""

    name = "peer: onnxruntime u2netp + pymatting"

    def __init__(self, onnx_path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # threads that spin after a run would be counted as the peer's CPU time
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_path), options, ["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def __call__(self, image: np.ndarray) -> dict[str, float]:
        from pymatting import estimate_alpha_cf, estimate_foreground_ml

        timings = {}
        start = time.perf_counter()
        _, trimap, _ = rembg_trimap(self.session, self.input, image)
        timings["trimap"] = time.perf_counter() - start
        start = time.perf_counter()
        image64 = image.astype(np.float64)
        alpha = estimate_alpha_cf(image64, trimap)
        timings["alpha"] = time.perf_counter() - start
        start = time.perf_counter()
        estimate_foreground_ml(image64, alpha)
        timings["foreground"] = time.perf_counter() - start
        return timings


def trimatte_runner(matting: str):
    pipeline = build_pipeline(matting=matting, composite="cutout")

    def run(image: np.ndarray) -> dict[str, float]:
        state = pipeline(image)
        return {key.split(":")[0]: value for key, value in state.timings.items()}

    run.name = f"trimatte: salient + {matting}"
    return run


def make_runner(name: str):
    """A runner by name: ``peer`` or a trimatte alpha stage (``closed-form``, ``dim``)."""
    if name == "peer":
        return Peer(SHARED / "weights" / "u2netp.onnx")
    return trimatte_runner(name)


def child(args) -> int:
    """Time one runner on every image at one size; print per-stage means as JSON."""
    runner = make_runner(args.child)
    paths = [Path(p) for p in args.paths.split(os.pathsep)]
    start = time.perf_counter()
    runner(resize_long_side(trimatte.read_image(paths[0]), 400))
    warmup = time.perf_counter() - start
    per_stage: dict[str, list[float]] = {}
    cpu = 0.0
    for path in paths:
        image = resize_long_side(trimatte.read_image(path), args.size)
        cpu_start = time.process_time()
        runs = [runner(image) for _ in range(args.repeat)]
        cpu += (time.process_time() - cpu_start) / args.repeat
        for key in runs[0]:
            per_stage.setdefault(key, []).append(statistics.median(r[key] for r in runs))
    means = {k: float(np.mean(v)) for k, v in per_stage.items()}
    print(json.dumps({"name": runner.name, "means": means, "warmup": warmup,
                      "cpu": cpu / len(paths)}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="folder of images")
    parser.add_argument("--sizes", default="800,2000", help="long-side sizes in pixels")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per image (median)")
    parser.add_argument("--limit", type=int, default=4, help="images per size")
    parser.add_argument("--matting", default="guided,closed-form",
                        help="trimatte alpha stages to time (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="2 images, 800 px only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    folder = args.images or (SHARED / "data" / "am2k" / "image")
    if not folder.is_dir():
        folder = REPO / "examples" / "data"
    paths = list_images(folder)[: (2 if args.quick else args.limit)]
    sizes = [800] if args.quick else [int(s) for s in args.sizes.split(",")]
    runners = args.matting.split(",")
    try:
        import onnxruntime  # noqa: F401
        import pymatting  # noqa: F401

        if (SHARED / "weights" / "u2netp.onnx").is_file():
            runners.append("peer")
        else:
            print("skipping the peer: ../shared/weights/u2netp.onnx is absent", file=sys.stderr)
    except ImportError as exc:
        print(f"skipping the peer: {exc}", file=sys.stderr)

    # Each runner times its images in a fresh process, so thread pools of one
    # library (ONNX Runtime, numba, torch) never spin against another's.
    rows, warmups = [], {}
    jobs = [(size, name) for size in sizes for name in runners]
    for size, name in tqdm(jobs, desc="benchmark", file=sys.stderr):
        result = subprocess.run(
            [sys.executable, __file__, "--child", name, "--size", str(size),
             "--repeat", str(args.repeat), "--paths", os.pathsep.join(map(str, paths))],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            print(f"{name} at {size} px failed:\n{result.stderr[-2000:]}", file=sys.stderr)
            continue
        report = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append((size, report["name"], report["means"], report["cpu"]))
        warmups[report["name"]] = report["warmup"]

    print(f"images: {len(paths)} from {folder}; seconds per image (mean), median of "
          f"{args.repeat} run(s); each pipeline in its own process; {_cores()} cores")
    stages = ["trimap", "alpha", "alpha_refine", "foreground", "composite"]
    columns = "".join(f"{s:>13}" for s in stages)
    header = f"{'size':>5}  {'pipeline':44s}{columns}{'total':>9}{'CPU s':>9}"
    print(header)
    print("-" * len(header))
    for size, name, means, cpu in rows:
        cells = "".join(f"{means[s]:13.3f}" if s in means else f"{'-':>13}" for s in stages)
        print(f"{size:5d}  {name:44s}{cells}{sum(means.values()):9.3f}{cpu:9.2f}")
    print("stage columns and total: wall seconds; CPU s: process CPU seconds (all threads)")
    warm = ", ".join(f"{k} {v:.2f} s" for k, v in warmups.items())
    print(f"warm-up (first call in a fresh process, 400 px): {warm}")
    return 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
