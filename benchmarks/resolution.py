"""Matting at 1 to 24 megapixels: exact full-resolution solve vs base plus refinement.

One AM-2k photo and its human-made alpha (``../shared/data/am2k``) are upscaled
(bicubic image, bilinear alpha) to each size; the trimap is the upscaled alpha's
unknown band, its radius scaled with the image so that it covers about
``--unknown`` (10 %) of the pixels. For closed-form matting and for the shipped DIM
network, each size runs

* ``exact``: the alpha stage at full resolution (closed-form: one complete sparse
  factor, nested-dissection ordered above 200 k free pixels, as long as it is planned
  to fit in the available memory; ``guided``: its closed-form guide solved that way);
* ``refined``: the ``refined`` stage (base solve at ``--base-mp`` megapixels, then the
  uncertain 256-px patches re-solved at full resolution), which the default pipeline
  uses above 6 MP; for ``guided``, as in the default pipeline, only its closed-form
  guide goes through ``refined`` (the network always works at 640 px),

each in a fresh child process that reads the image and trimap files, runs the whole
default pipeline after the trimap (alpha stage -> multi-level foreground -> RGBA
cutout) and reports per stage the wall time and the peak RSS reached by its end.
Columns: alpha-stage wall time, whole-pipeline wall time, first-call latency (process
start to matte, imports and model loading included), peak RSS (``ru_maxrss``), SAD
against the exact solve of the same method and size, and SAD against the upscaled
ground truth (both on the trimap's unknown pixels, /1000).

    python benchmarks/resolution.py [--sizes 1,4,12,24] [--methods closed-form,guided]
        [--modes exact,refined] [--image sample1] [--data DIR] [--case-timeout 1800]

The deep stage is ``guided`` (the best shipped one); a method that cannot run (e.g. no
weights) is reported as a failed row, pass ``--methods closed-form,dim`` then. A case
that runs longer than ``--case-timeout`` seconds is stopped and reported as timed out
(none did in the 2026-12-01 session 4 run, see benchmarks/README.md).

The table goes to stdout (per-stage details below it), progress to stderr. Exit code
2 when the data folder is missing. Run heavy sizes with ``OMP_NUM_THREADS=1`` on a
shared machine; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "am2k"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- child


def child_main(config_path: Path) -> None:
    """Run the pipeline after the trimap on one case; print a JSON line."""
    sys.path.insert(0, str(REPO))
    import numpy as np

    from trimatte.io import read_image, read_trimap
    from trimatte.pipeline import STAGES, MatteState

    config = json.loads(config_path.read_text())
    alpha_stage = STAGES.build(config["alpha"]["name"], **config["alpha"]["params"])
    if "refine_guide" in config["alpha"]:  # as build_pipeline does for the guided default
        guide = STAGES.build("refined", inner=alpha_stage.guide_stage(), above_megapixels=0.0,
                             base_megapixels=config["alpha"]["refine_guide"])
        alpha_stage = STAGES.build(config["alpha"]["name"], **config["alpha"]["params"],
                                   guide=guide)
    stages = [alpha_stage, STAGES.build("multilevel-foreground"), STAGES.build("cutout")]
    steps = []
    started, cpu = time.perf_counter(), _cpu_seconds()
    state = MatteState(image=read_image(config["image"]), trimap=read_trimap(config["trimap"]))
    steps.append({"stage": "read", "seconds": time.perf_counter() - started,
                  "cpu": _cpu_seconds() - cpu, "peak_mb": _peak_mb()})
    first_call = None
    for stage in stages:
        started, cpu = time.perf_counter(), _cpu_seconds()
        state = stage.run(state)
        steps.append({"stage": stage.label, "seconds": time.perf_counter() - started,
                      "cpu": _cpu_seconds() - cpu, "peak_mb": _peak_mb()})
        if stage.role == "alpha":
            first_call = time.perf_counter() - STARTED
            np.save(config["alpha_out"], state.alpha)
    print(json.dumps({"steps": steps, "first_call": first_call, "peak_mb": _peak_mb(),
                      "refine": state.hints.get("refine")}))


# -------------------------------------------------------------------------- parent


def make_case(data: Path, stem: str, megapixels: float, unknown: float, folder: Path):
    """Write the upscaled image (PNG) and trimap; return (gt alpha, trimap, paths)."""
    import cv2
    import numpy as np

    from trimatte.io import read_alpha, read_image, write_image, write_trimap
    from trimatte.trimap.morphology import trimap_from_alpha

    image = read_image(data / "image" / f"{stem}.jpg")
    alpha = read_alpha(data / "alpha" / f"{stem}.png")
    band = band_for(alpha, unknown)
    scale = math.sqrt(megapixels * 1e6 / alpha.size)
    size = (round(alpha.shape[1] * scale), round(alpha.shape[0] * scale))
    big = np.clip(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), 0, 1)
    del image
    gt = np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR), 0, 1)
    trimap = trimap_from_alpha(gt, max(1, round(band * scale)))
    paths = {"image": folder / f"{stem}_{megapixels:g}mp.png",
             "trimap": folder / f"{stem}_{megapixels:g}mp_trimap.png"}
    write_image(paths["image"], big)
    write_trimap(paths["trimap"], trimap)
    return gt, trimap, paths


def band_for(alpha, unknown: float) -> int:
    """Smallest band radius whose trimap's unknown share reaches ``unknown``."""
    from trimatte.image import UNKNOWN
    from trimatte.trimap.morphology import trimap_from_alpha

    for band in range(1, 200):
        if (trimap_from_alpha(alpha, band) == UNKNOWN).mean() >= unknown:
            return band
    return 200


def alpha_config(method: str, mode: str, base_mp: float) -> dict:
    """The alpha stage of a case: ``exact`` is the stage itself; ``refined`` wraps it in
    the ``refined`` stage, except ``guided``, whose network always works at 640 px:
    only its closed-form guide is refined (what ``build_pipeline`` does above 6 MP)."""
    inner = {"name": method, "params": {}}
    if mode == "exact":
        return inner
    if method == "guided":
        return {**inner, "refine_guide": base_mp}
    return {"name": "refined", "params": {"inner": inner, "above_megapixels": 0.0,
                                          "base_megapixels": base_mp}}


def run_child(config: dict, folder: Path, timeout: float | None = None) -> dict:
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    try:
        done = subprocess.run([sys.executable, __file__, "--child", str(path)],
                              capture_output=True, text=True, env=env, check=False,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return {"error": tail[0][:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--image", default="sample1", help="AM-2k sample (default: %(default)s)")
    parser.add_argument("--sizes", default="1,4,12,24", help="megapixels (default: %(default)s)")
    parser.add_argument("--with-24", action="store_true",
                        help="add 24 MP to --sizes (kept for older command lines)")
    parser.add_argument("--methods", default="closed-form,guided")
    parser.add_argument("--case-timeout", type=float, default=1800.0,
                        help="seconds before a case is stopped (default: %(default)s)")
    parser.add_argument("--modes", default="exact,refined")
    parser.add_argument("--base-mp", type=float, default=2.0, help="base solve size")
    parser.add_argument("--unknown", type=float, default=0.10, help="unknown share of pixels")
    args = parser.parse_args(argv)
    if not (args.data / "image" / f"{args.image}.jpg").is_file():
        print(f"error: {args.data}/image/{args.image}.jpg not found (the AM-2k samples live "
              "in the developers' ../shared; pass --data DIR)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    import numpy as np
    from tqdm import tqdm

    from trimatte.image import UNKNOWN

    sizes = [float(s) for s in args.sizes.split(",")]
    if args.with_24 and 24.0 not in sizes:
        sizes.append(24.0)
    methods, modes = args.methods.split(","), args.modes.split(",")
    rows = []
    cases = [(mp, method, mode) for mp in sizes for method in methods for mode in modes]
    with tempfile.TemporaryDirectory(prefix="resolution-bench-") as tmp:
        folder = Path(tmp)
        current = None
        exact: dict[str, np.ndarray] = {}
        for mp, method, mode in tqdm(cases, desc="cases", file=sys.stderr):
            if current != mp:
                gt, trimap, paths = make_case(args.data, args.image, mp, args.unknown, folder)
                unknown = trimap == UNKNOWN
                current, exact = mp, {}
            out = folder / "alpha.npy"
            out.unlink(missing_ok=True)
            result = run_child({"alpha": alpha_config(method, mode, args.base_mp),
                                "image": str(paths["image"]), "trimap": str(paths["trimap"]),
                                "alpha_out": str(out)}, folder, args.case_timeout)
            row = {"mp": mp, "size": f"{trimap.shape[1]}x{trimap.shape[0]}",
                   "unknown": float(unknown.mean()), "method": method, "mode": mode, **result}
            if out.is_file():
                alpha = np.load(out)
                row["sad_gt"] = float(np.abs(alpha - gt)[unknown].sum() / 1000)
                if mode == "exact":
                    exact[method] = alpha
                if method in exact:
                    row["sad_exact"] = float(np.abs(alpha - exact[method])[unknown].sum() / 1000)
            rows.append(row)
    print_table(rows)
    return 0


def print_table(rows: list[dict]) -> None:
    header = (f"{'MP':>4} {'size':>10} {'unk %':>5} {'method':<12} {'mode':<8} {'alpha s':>8} "
              f"{'alpha cpu':>9} "
              f"{'total s':>8} {'total cpu':>9} {'first s':>8} {'peak MB':>8} {'SAD/exact':>9} "
              f"{'SAD/GT':>8} {'dSAD/GT %':>9}")
    print(header)
    print("-" * len(header))
    for row in rows:
        lead = (f"{row['mp']:>4g} {row['size']:>10} {100 * row['unknown']:>5.1f} "
                f"{row['method']:<12} {row['mode']:<8}")
        if "error" in row:
            print(f"{lead} failed: {row['error']}")
            continue
        alpha = next(s for s in row["steps"] if s["stage"].startswith("alpha"))
        total = sum(s["seconds"] for s in row["steps"])
        total_cpu = sum(s["cpu"] for s in row["steps"])
        exact = [r for r in rows if r["mp"] == row["mp"] and r["method"] == row["method"]
                 and r["mode"] == "exact" and "sad_gt" in r]
        delta = (f"{100 * (row['sad_gt'] / exact[0]['sad_gt'] - 1):>+9.2f}"
                 if exact and row["mode"] != "exact" else f"{'':>9}")
        sad_exact = f"{row['sad_exact']:>9.2f}" if "sad_exact" in row else f"{'n/a':>9}"
        print(f"{lead} {alpha['seconds']:>8.1f} {alpha['cpu']:>9.1f} {total:>8.1f} "
              f"{total_cpu:>9.1f} "
              f"{row['first_call']:>8.1f} "
              f"{row['peak_mb']:>8.0f} {sad_exact} {row['sad_gt']:>8.2f} {delta}")
    print()
    print("per stage (wall seconds (CPU seconds) / peak RSS MB reached by the end of the stage):")
    for row in rows:
        if "steps" in row:
            stages = ", ".join(f"{s['stage']} {s['seconds']:.1f}s (cpu {s['cpu']:.1f}s)/"
                               f"{s['peak_mb']:.0f}" for s in row["steps"])
            extra = ""
            if row.get("refine"):
                r = row["refine"]
                extra = (f" [base {r['base_shape'][1]}x{r['base_shape'][0]}, refined "
                         f"{r['refined_patches']}/{r['candidate_patches']} patches]")
            print(f"  {row['mp']:g} MP {row['method']} {row['mode']}: {stages}{extra}")
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child_main(Path(sys.argv[2]))
    else:
        sys.exit(main())
