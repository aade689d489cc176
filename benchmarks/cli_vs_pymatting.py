"""Closed-form matting of a batch through the CLI against a pymatting script, whole process.

Builds a folder of ``--images`` photos of about ``--megapixels`` (default 0.5 MP) from
the AM-2k samples in ``../shared/data/am2k`` (area-downscaled, with their human-made
alpha as ground truth) and trimaps with a ``--band`` px unknown band (default 10) built
from that alpha, then times, each as one fresh process over the whole folder, as a
user would run them:

* ``pymatting``: a script that, per photo, calls pymatting's ``load_image`` (image and
  trimap), ``estimate_alpha_cf`` and ``save_image``;
* ``trimatte w1`` / ``trimatte dflt``: ``trimatte matte IMAGES --trimap TRIMAPS -o OUT
  --matting closed-form --save alpha --workers N`` (default N: 1, and ``default``, which
  leaves ``--workers`` out: one worker per core).

Columns: wall seconds, CPU seconds (user + system of the process and its workers),
speed-up over the pymatting script in both, peak RSS (largest process), mean SAD
against the ground truth on the unknown pixels (/1000) and the largest per-photo
relative SAD difference from pymatting's. The 1-minute load average is printed; wall
times on a shared machine follow the load, CPU seconds much less.

    python benchmarks/cli_vs_pymatting.py [--images 10] [--megapixels 0.5] [--band 10]
        [--workers 1,default] [--data DIR]

pymatting is a development (benchmark) dependency only. Exit code 2 when the data
folder or pymatting is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "am2k"

PYMATTING_SCRIPT = """
import sys
from pathlib import Path
from pymatting import estimate_alpha_cf, load_image, save_image
images, trimaps, out = (Path(p) for p in sys.argv[1:4])
for path in sorted(images.iterdir()):
    image = load_image(str(path), "RGB")
    trimap = load_image(str(trimaps / path.name), "GRAY")
    alpha = estimate_alpha_cf(image, trimap)
    save_image(str(out / f"{path.stem}_alpha.png"), alpha)
"""


def make_batch(data: Path, root: Path, count: int, megapixels: float, band: int):
    """Write ``root/images``, ``root/trimaps`` (same names); return ground truths by stem."""
    import cv2
    import numpy as np

    sys.path.insert(0, str(REPO))
    from trimatte.io import read_alpha, read_image, write_alpha, write_image
    from trimatte.trimap.morphology import trimap_from_alpha

    images, trimaps = root / "images", root / "trimaps"
    images.mkdir()
    trimaps.mkdir()
    truths = {}
    stems = sorted(p.stem for p in (data / "image").glob("*.jpg"))
    for i in range(count):
        stem = stems[i % len(stems)]
        image = read_image(data / "image" / f"{stem}.jpg")
        alpha = read_alpha(data / "alpha" / f"{stem}.png")
        if i >= len(stems):  # second round: mirrored, so no two photos are the same
            image, alpha = image[:, ::-1], alpha[:, ::-1]
        scale = (megapixels * 1e6 / alpha.size) ** 0.5
        size = (round(alpha.shape[1] * scale), round(alpha.shape[0] * scale))
        image = np.clip(cv2.resize(np.ascontiguousarray(image), size,
                                   interpolation=cv2.INTER_AREA), 0, 1)
        alpha = np.clip(cv2.resize(np.ascontiguousarray(alpha), size,
                                   interpolation=cv2.INTER_AREA), 0, 1)
        name = f"p{i:02d}"
        write_image(images / f"{name}.png", image)
        trimap = trimap_from_alpha(alpha, band)
        cv2.imwrite(str(trimaps / f"{name}.png"), trimap)
        write_alpha(root / f"{name}_gt.png", alpha)
        truths[name] = root / f"{name}_gt.png"
    return images, trimaps, truths


def run_timed(command: list[str]) -> dict:
    """Run ``command`` (through a small wrapper process that reads its resource usage);
    wall seconds, CPU seconds and peak RSS of its processes."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--measure", report.name, *command],
                              capture_output=True, text=True, check=False,
                              env=dict(os.environ, PYTHONWARNINGS="ignore"))
        wall = time.perf_counter() - started
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
            raise RuntimeError(f"{command[0]} failed: {tail}")
        usage = json.loads(Path(report.name).read_text())
    return {"wall": wall, **usage}


def measure(report: str, command: list[str]) -> int:
    """Wrapper process: run ``command``, write its CPU seconds and peak RSS to ``report``."""
    code = subprocess.run(command, check=False).returncode
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(report).write_text(json.dumps({"cpu": usage.ru_utime + usage.ru_stime,
                                        "peak_mb": usage.ru_maxrss / 1024}))
    return code


def sads(out: Path, trimaps: Path, truths: dict) -> dict[str, float]:
    """SAD (/1000) against the ground truth on the unknown pixels, per photo."""
    import numpy as np

    from trimatte.io import read_alpha, read_trimap

    result = {}
    for name, truth in truths.items():
        unknown = read_trimap(trimaps / f"{name}.png") == 128
        alpha = read_alpha(out / f"{name}_alpha.png")
        result[name] = float(np.abs(alpha - read_alpha(truth))[unknown].sum() / 1000)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--megapixels", type=float, default=0.5)
    parser.add_argument("--band", type=int, default=10)
    parser.add_argument("--workers", default="1,default",
                        help="comma-separated worker counts; 'default' runs without "
                             "--workers (one per core) (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.data / "image").is_dir():
        print(f"error: {args.data}/image not found (the AM-2k samples live in the "
              "developers' ../shared; pass --data DIR)", file=sys.stderr)
        return 2
    if importlib.util.find_spec("pymatting") is None:
        print("error: pymatting is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    trimatte = Path(sys.executable).with_name("trimatte")
    cli = [str(trimatte)] if trimatte.is_file() else [sys.executable, "-m", "trimatte.cli.main"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="cli-vs-pymatting-") as tmp:
        root = Path(tmp)
        images, trimaps, truths = make_batch(args.data, root, args.images, args.megapixels,
                                             args.band)
        runs = [("pymatting", [sys.executable, "-c", PYMATTING_SCRIPT])]
        runs += [(f"trimatte w{n}" if n != "default" else "trimatte dflt",
                  [*cli, "matte", "--matting", "closed-form", "--save", "alpha",
                   *(["--workers", n] if n != "default" else []), "--trimap"])
                 for n in args.workers.split(",")]
        for label, command in runs:
            out = root / label.replace(" ", "_")
            out.mkdir()
            print(f"running {label} ...", file=sys.stderr, flush=True)
            if label == "pymatting":
                result = run_timed([*command, str(images), str(trimaps), str(out)])
            else:
                result = run_timed([*command, str(trimaps), str(images), "-o", str(out)])
            rows.append({"label": label, **result, "sad": sads(out, trimaps, truths)})
    print_table(rows, args)
    return 0


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    peer = rows[0]
    print(f"{args.images} photos of {args.megapixels:g} MP, band {args.band} px, "
          "closed-form, whole process")
    header = (f"{'run':<14} {'wall s':>8} {'CPU s':>8} {'x wall':>7} {'x CPU':>7} "
              f"{'peak MB':>8} {'mean SAD':>9} {'max |dSAD| %':>13}")
    print(header)
    print("-" * len(header))
    for row in rows:
        mean = sum(row["sad"].values()) / len(row["sad"])
        diff = max(abs(row["sad"][k] / peer["sad"][k] - 1) * 100 for k in row["sad"])
        print(f"{row['label']:<14} {row['wall']:>8.1f} {row['cpu']:>8.1f} "
              f"{peer['wall'] / row['wall']:>6.2f}x {peer['cpu'] / row['cpu']:>6.2f}x "
              f"{row['peak_mb']:>8.0f} {mean:>9.3f} {diff:>13.2f}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average at the end: {load} on {os.cpu_count()} CPUs; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}")


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--measure":
        sys.exit(measure(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
