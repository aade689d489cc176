"""Closed-form matting: trimatte's solver against pymatting's ``estimate_alpha_cf``.

On the AM-2k samples (image + human-made alpha), trimaps are built from the alpha
with fixed unknown bands (default 10 and 25 px) at full and half resolution.  For
every case both methods run side by side, each in a fresh child process so their
memory peaks do not contaminate each other, on byte-identical inputs:

* wall time of the matting call itself (the child first runs one warm-up call on a
  tiny synthetic image -- numba compilation / cache loading for pymatting, imports
  and first-call overhead for trimatte -- which is timed and reported separately);
* peak resident memory of the child (``ru_maxrss``) and its growth during the call
  (peak minus the resident size just before the call);
* SAD against the ground truth on the trimap's unknown pixels, and the relative SAD
  difference of trimatte vs pymatting.

    python benchmarks/closed_form_vs_pymatting.py [--data DIR] [--quick]
        [--bands 10,25] [--scales 1,0.5] [--images N]

The table goes to stdout, progress (tqdm) to stderr.  Exit code 2 when the data
folder is missing.  pymatting is a development dependency only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.image import UNKNOWN  # noqa: E402
from trimatte.io import read_alpha, read_image  # noqa: E402
from trimatte.metrics import sad  # noqa: E402
from trimatte.trimap.morphology import trimap_from_alpha  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "am2k"
METHODS = ("pymatting", "trimatte")


# --------------------------------------------------------------------------- child


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _warm_up_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.random((32, 32, 3)).astype(np.float32)
    trimap = np.full((32, 32), UNKNOWN, np.uint8)
    trimap[:, :8] = 0
    trimap[:, 24:] = 255
    return image, trimap


def _matting_function(method: str):
    if method == "pymatting":
        from pymatting import estimate_alpha_cf

        def run(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
            return estimate_alpha_cf(image.astype(np.float64), trimap.astype(np.float64) / 255.0)

        return run
    from trimatte.matting.closed_form import closed_form_alpha

    return closed_form_alpha


def child_main(method: str, inputs: Path, output: Path) -> None:
    """Run one method on one case; print a JSON line with its measurements."""
    started = time.perf_counter()
    run = _matting_function(method)
    run(*_warm_up_inputs())
    warm_up = time.perf_counter() - started
    with np.load(inputs) as data:
        image, trimap = data["image"], data["trimap"]
    before = _current_rss_mb()
    started = time.perf_counter()
    alpha = run(image, trimap)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(output, np.asarray(alpha, dtype=np.float32))
    print(json.dumps({"seconds": seconds, "warm_up": warm_up, "peak_mb": peak,
                      "growth_mb": peak - before}))


# -------------------------------------------------------------------------- parent


@dataclass
class Case:
    name: str
    scale: float
    band: int
    image: np.ndarray
    alpha: np.ndarray
    trimap: np.ndarray


def load_cases(data: Path, bands: list[int], scales: list[float], limit: int | None):
    stems = sorted(p.stem for p in (data / "image").glob("*.jpg"))
    stems = sorted(stems, key=lambda s: (len(s), s))[:limit]
    for stem in stems:
        image = read_image(data / "image" / f"{stem}.jpg")
        alpha = read_alpha(data / "alpha" / f"{stem}.png")
        for scale in scales:
            if scale != 1:
                size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                img = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
                alp = np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), 0, 1)
            else:
                img, alp = image, alpha
            for band in bands:
                yield Case(stem, scale, band, img, alp, trimap_from_alpha(alp, band))


def run_child(method: str, inputs: Path, workdir: Path) -> tuple[dict, np.ndarray]:
    output = workdir / f"{method}.npy"
    command = [sys.executable, __file__, "--child", method, str(inputs), str(output)]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed on {inputs}:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result, np.load(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder with image/*.jpg and alpha/*.png (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 images at half resolution, band 10")
    parser.add_argument("--bands", default="10,25", help="unknown band radii in px")
    parser.add_argument("--scales", default="1,0.5", help="resolution scales")
    parser.add_argument("--images", type=int, default=None, help="use only the first N images")
    args = parser.parse_args(argv)

    if not (args.data / "image").is_dir() or not (args.data / "alpha").is_dir():
        print(f"error: data folder {args.data} with image/ and alpha/ not found "
              "(it lives in the developers' ../shared; pass --data DIR)", file=sys.stderr)
        return 2
    bands = [int(b) for b in args.bands.split(",")]
    scales = [float(s) for s in args.scales.split(",")]
    limit = args.images
    if args.quick:
        bands, scales, limit = [10], [0.5], 3
    n_images = len(list((args.data / "image").glob("*.jpg")))
    n_cases = min(n_images, limit or n_images) * len(bands) * len(scales)

    rows = []
    with tempfile.TemporaryDirectory(prefix="cf-bench-") as tmp:
        workdir = Path(tmp)
        cases = load_cases(args.data, bands, scales, limit)
        for index, case in enumerate(tqdm(cases, total=n_cases, desc="cases", file=sys.stderr)):
            inputs = workdir / "inputs.npz"
            np.savez(inputs, image=case.image, trimap=case.trimap)
            # Alternate the order so that drifting machine load favours neither.
            order = METHODS if index % 2 == 0 else METHODS[::-1]
            measured = {}
            for method in order:
                result, alpha = run_child(method, inputs, workdir)
                result["sad"] = sad(np.clip(alpha, 0, 1), case.alpha, case.trimap)
                measured[method] = result
            pm, ours = measured["pymatting"], measured["trimatte"]
            rows.append({
                "image": case.name, "scale": case.scale, "band": case.band,
                "size": f"{case.image.shape[1]}x{case.image.shape[0]}",
                "unknown": int((case.trimap == UNKNOWN).sum()),
                "pm": pm, "ours": ours,
                "rel_sad": (ours["sad"] - pm["sad"]) / pm["sad"] if pm["sad"] else 0.0,
            })
    print_report(rows)
    return 0


def print_report(rows: list[dict]) -> None:
    header = (f"{'image':<9} {'scale':>5} {'band':>4} {'size':>9} {'unknown':>8} "
              f"{'t_pm s':>7} {'t_ours s':>8} {'speedup':>7} {'SAD_pm':>8} {'SAD_ours':>8} "
              f"{'dSAD %':>7} {'RSS_pm':>7} {'RSS_ours':>8} {'dRSS_pm':>7} {'dRSS_ours':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        pm, ours = r["pm"], r["ours"]
        print(f"{r['image']:<9} {r['scale']:>5g} {r['band']:>4} {r['size']:>9} {r['unknown']:>8} "
              f"{pm['seconds']:>7.2f} {ours['seconds']:>8.2f} "
              f"{pm['seconds'] / ours['seconds']:>6.2f}x {pm['sad']:>8.3f} {ours['sad']:>8.3f} "
              f"{100 * r['rel_sad']:>+7.2f} {pm['peak_mb']:>7.0f} {ours['peak_mb']:>8.0f} "
              f"{pm['growth_mb']:>7.0f} {ours['growth_mb']:>9.0f}")
    print()
    groups = sorted({(r["scale"], r["band"]) for r in rows}, reverse=True)
    print(f"{'subset':<18} {'cases':>5} {'t_pm s':>8} {'t_ours s':>8} {'speedup':>7} "
          f"{'meanSAD_pm':>10} {'meanSAD_ours':>12} {'mean dSAD %':>11}")
    for key in [*groups, None]:
        subset = [r for r in rows if key is None or (r["scale"], r["band"]) == key]
        label = "ALL" if key is None else f"scale {key[0]:g} band {key[1]}"
        t_pm = sum(r["pm"]["seconds"] for r in subset)
        t_ours = sum(r["ours"]["seconds"] for r in subset)
        sad_pm = statistics.fmean(r["pm"]["sad"] for r in subset)
        sad_ours = statistics.fmean(r["ours"]["sad"] for r in subset)
        print(f"{label:<18} {len(subset):>5} {t_pm:>8.2f} {t_ours:>8.2f} {t_pm / t_ours:>6.2f}x "
              f"{sad_pm:>10.3f} {sad_ours:>12.3f} {100 * (sad_ours - sad_pm) / sad_pm:>+11.2f}")
    print()
    t_pm = sum(r["pm"]["seconds"] for r in rows)
    t_ours = sum(r["ours"]["seconds"] for r in rows)
    worst = max(rows, key=lambda r: abs(r["rel_sad"]))
    mem_ok = sum(r["ours"]["peak_mb"] <= r["pm"]["peak_mb"] for r in rows)
    print(f"total wall time: pymatting {t_pm:.2f} s, trimatte {t_ours:.2f} s, "
          f"ratio {t_pm / t_ours:.2f}x")
    print(f"warm-up per fresh process (median): pymatting "
          f"{statistics.median(r['pm']['warm_up'] for r in rows):.2f} s, trimatte "
          f"{statistics.median(r['ours']['warm_up'] for r in rows):.2f} s (excluded above)")
    print(f"largest per-image SAD difference: {100 * worst['rel_sad']:+.2f} % "
          f"({worst['image']} scale {worst['scale']:g} band {worst['band']})")
    print(f"peak RSS: pymatting max {max(r['pm']['peak_mb'] for r in rows):.0f} MB, "
          f"trimatte max {max(r['ours']['peak_mb'] for r in rows):.0f} MB; trimatte's peak "
          f"<= pymatting's in {mem_ok}/{len(rows)} cases")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child_main(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit(main())
