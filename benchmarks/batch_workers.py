"""``trimatte matte --workers N`` on a folder: whole-process wall time for each N, side by side.

Builds a folder of ``--images`` photos of about ``--megapixels`` each from the three
photos in ``examples/data`` (crops, flips and rescales, so no two are the same) with
a trimap per photo (GrabCut on the source photo, unknown band of 10 px at the source
size, transformed with its photo), then runs, each in a fresh process as a user
would::

    trimatte matte IMAGES -o OUT_N --trimap TRIMAPS --matting closed-form \\
        --save alpha,cutout --workers N

for every N of ``--workers`` (default ``1,2``), ``--repeat`` times in alternating
order, and prints one row per N: best and mean wall time, speed-up over the first N,
the CPU time the run used (user + system, worker processes included), whether every
output file is byte-identical to the first N's, and the 1-minute load average of the
machine around the runs. On a machine shared with other jobs, read the speed-up with
the load: each busy process gets a share of the cores, so N processes may get more
than 1/N of a loaded machine each.

    .venv/bin/python benchmarks/batch_workers.py [--images 20] [--megapixels 0.5]
        [--workers 1,2] [--repeat 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.io import read_image  # noqa: E402
from trimatte.trimap.grabcut import grabcut_trimap  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee")


def make_folder(root: Path, n_images: int, megapixels: float, seed: int = 0) -> tuple[Path, Path]:
    """Write ``root/images/pNN.png`` and ``root/trimaps/pNN.png``; returns the two folders."""
    rng = np.random.default_rng(seed)
    images, trimaps = root / "images", root / "trimaps"
    images.mkdir(parents=True)
    trimaps.mkdir()
    sources = []
    for name in PHOTOS:
        image = read_image(REPO / "examples" / "data" / f"{name}.jpg")
        _, trimap = grabcut_trimap(image, band=10, margin=0.08)
        sources.append((cv2.imread(str(REPO / "examples" / "data" / f"{name}.jpg")), trimap))
    for i in range(n_images):
        bgr, trimap = sources[i % len(sources)]
        h, w = trimap.shape
        keep = rng.uniform(0.8, 1.0, size=2)
        ch, cw = int(h * keep[0]), int(w * keep[1])
        top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        window = (slice(top, top + ch), slice(left, left + cw))
        bgr, trimap = bgr[window], trimap[window]
        if i % 2:
            bgr, trimap = bgr[:, ::-1], trimap[:, ::-1]
        scale = np.sqrt(megapixels * 1e6 / (ch * cw))
        size = (round(cw * scale), round(ch * scale))
        bgr = cv2.resize(np.ascontiguousarray(bgr), size, interpolation=cv2.INTER_CUBIC)
        trimap = cv2.resize(np.ascontiguousarray(trimap), size, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(images / f"p{i:02d}.png"), bgr)
        cv2.imwrite(str(trimaps / f"p{i:02d}.png"), trimap)
    return images, trimaps


def run_cli(images: Path, trimaps: Path, out: Path, workers: int) -> tuple[float, float]:
    """Wall time and CPU time (user + system, workers included) of one whole
    ``trimatte matte`` process."""
    command = [
        sys.executable, "-m", "trimatte.cli.main", "matte", str(images), "-o", str(out),
        "--trimap", str(trimaps), "--matting", "closed-form", "--save", "alpha,cutout",
        "--workers", str(workers),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"trimatte matte --workers {workers} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--megapixels", type=float, default=0.5)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build the folder here and keep it")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        images, trimaps = make_folder(root, args.images, args.megapixels)
        pixels = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED).shape[:2] for p in images.iterdir()]
        mp = statistics.mean(h * w for h, w in pixels) / 1e6
        times: dict[int, list[float]] = {n: [] for n in counts}
        cpu: dict[int, list[float]] = {n: [] for n in counts}
        loads = [os.getloadavg()[0]]
        for r in range(args.repeat):
            for n in counts if r % 2 == 0 else counts[::-1]:
                print(f"run {r + 1}/{args.repeat}: --workers {n} ...", file=sys.stderr, flush=True)
                wall, used = run_cli(images, trimaps, root / f"out{n}", n)
                times[n].append(wall)
                cpu[n].append(used)
                loads.append(os.getloadavg()[0])
        reference = outputs(root / f"out{counts[0]}")
        base = min(times[counts[0]])
        print(f"{args.images} photos of {mp:.2f} MP with trimaps, closed-form, "
              f"--save alpha,cutout; {os.cpu_count()} cores; "
              f"1-min load average {min(loads):.1f}-{max(loads):.1f} during the runs")
        print(f"{'workers':>7} {'best s':>8} {'mean s':>8} {'speed-up':>9} {'img/s':>7} "
              f"{'CPU s':>7} {'identical outputs':>18}")
        for n in counts:
            same = outputs(root / f"out{n}") == reference and len(reference) == 2 * args.images
            print(f"{n:>7} {min(times[n]):8.1f} {statistics.mean(times[n]):8.1f} "
                  f"{base / min(times[n]):8.2f}x {args.images / min(times[n]):7.2f} "
                  f"{statistics.mean(cpu[n]):7.1f} {'yes' if same else 'NO':>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
