"""Foreground estimation: trimatte's NumPy solver beside pymatting's numba one, per image.

Both implement the multi-level method of Germer et al. (2020) with the same defaults.
For every AM-2k sample (image + human-made alpha) at full resolution and downscaled to
an 800 px long side, the two run back to back, ``--repeat`` times each (best time
kept), and the table reports seconds, the speed ratio pymatting / trimatte and the mean
``|F_trimatte - F_pymatting|`` over pixels with ``alpha > 0.05``.

    python benchmarks/foreground_vs_pymatting.py [--data DIR] [--repeat 3] [--quick]
                                                 [--numba-threads N]

pymatting's first call (numba compilation or loading its on-disk cache) is timed on a
small image and reported separately, not counted in the table. Exit code 2 when the
data folder or pymatting is missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.foreground.estimation import estimate_foreground  # noqa: E402
from trimatte.io import read_alpha, read_image  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "am2k"
QUICK_IMAGES = 3
SMALL_SIDE = 800
REGION_ALPHA = 0.05


@dataclass
class Row:
    """One image at one size."""

    name: str
    size: str
    shape: tuple[int, int]
    ours: float
    theirs: float
    difference: float


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Area-downscale so that the longer side is ``long_side`` pixels."""
    scale = long_side / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def find_pairs(data: Path) -> list[tuple[str, Path, Path]]:
    """``(name, image path, alpha path)`` for every image with an alpha of the same stem."""
    pairs = []
    for image_path in sorted((data / "image").glob("*.jpg"), key=lambda p: (len(p.stem), p.stem)):
        alpha_path = data / "alpha" / f"{image_path.stem}.png"
        if alpha_path.is_file():
            pairs.append((image_path.stem, image_path, alpha_path))
    return pairs


def best_time(function, repeat: int) -> tuple[float, np.ndarray]:
    """Shortest wall time of ``repeat`` calls and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def format_table(rows: list[Row]) -> str:
    """Per-image lines and one total line per size."""
    header = (f"{'image':<10} {'size':<5} {'H x W':>11} {'trimatte s':>11} "
              f"{'pymatting s':>12} {'speed-up':>9} {'mean|dF|':>9}")
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.name:<10} {row.size:<5} {row.shape[0]:>5}x{row.shape[1]:<5} {row.ours:>11.3f} "
            f"{row.theirs:>12.3f} {row.theirs / row.ours:>8.2f}x {row.difference:>9.5f}"
        )
    lines.append("-" * len(header))
    for size in dict.fromkeys(row.size for row in rows):
        group = [row for row in rows if row.size == size]
        ours = sum(row.ours for row in group)
        theirs = sum(row.theirs for row in group)
        difference = statistics.fmean(row.difference for row in group)
        lines.append(
            f"{'TOTAL':<10} {size:<5} {len(group):>5} images {ours:>11.3f} {theirs:>12.3f} "
            f"{theirs / ours:>8.2f}x {difference:>9.5f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder with image/*.jpg and alpha/*.png (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per image, best kept")
    parser.add_argument("--quick", action="store_true", help=f"first {QUICK_IMAGES} images only")
    parser.add_argument("--numba-threads", type=int, default=None,
                        help="threads for pymatting's parallel numba loops (default: numba's)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    pairs = find_pairs(args.data) if args.data.is_dir() else []
    if not pairs:
        print(f"error: no image/*.jpg with alpha/*.png found in {args.data}; this benchmark "
              "needs the developers' AM-2k samples (../shared/data/am2k) or --data DIR",
              file=sys.stderr)
        return 2
    try:
        from pymatting import estimate_foreground_ml
    except ImportError:
        print("error: pymatting is not installed (pip install pymatting)", file=sys.stderr)
        return 2
    if args.quick:
        pairs = pairs[:QUICK_IMAGES]
    import numba

    if args.numba_threads is not None:
        numba.set_num_threads(max(1, min(args.numba_threads, numba.config.NUMBA_NUM_THREADS)))

    rng = np.random.default_rng(0)
    small_image = rng.random((64, 64, 3), dtype=np.float32)
    small_alpha = rng.random((64, 64), dtype=np.float32)
    start = time.perf_counter()
    estimate_foreground_ml(small_image, small_alpha)
    warm_up_theirs = time.perf_counter() - start
    start = time.perf_counter()
    estimate_foreground(small_image, small_alpha)
    warm_up_ours = time.perf_counter() - start

    rows: list[Row] = []
    jobs = [(name, size, image_path, alpha_path) for name, image_path, alpha_path in pairs
            for size in ("full", str(SMALL_SIDE))]
    for name, size, image_path, alpha_path in tqdm(jobs, desc="foreground", unit="run",
                                                   file=sys.stderr):
        image, alpha = read_image(image_path), read_alpha(alpha_path)
        if size != "full":
            image = np.clip(resize_long_side(image, SMALL_SIDE), 0.0, 1.0)
            alpha = np.clip(resize_long_side(alpha, SMALL_SIDE), 0.0, 1.0)
        ours_s, ours = best_time(
            lambda image=image, alpha=alpha: estimate_foreground(image, alpha), args.repeat)
        theirs_s, theirs = best_time(
            lambda image=image, alpha=alpha: estimate_foreground_ml(image, alpha), args.repeat)
        region = alpha > REGION_ALPHA
        difference = float(np.abs(ours - theirs)[region].mean())
        rows.append(Row(name, size, alpha.shape, ours_s, theirs_s, difference))

    print(f"Foreground estimation, best of {args.repeat} runs; mean|dF| over alpha > "
          f"{REGION_ALPHA}; speed-up = pymatting s / trimatte s; {os.cpu_count()} CPUs, "
          f"numba threads {numba.get_num_threads()}, load average {os.getloadavg()[0]:.1f} "
          "at the end")
    print(f"first call (not in the table): pymatting {warm_up_theirs:.3f} s "
          f"(numba compile or cache load), trimatte {warm_up_ours:.3f} s")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
