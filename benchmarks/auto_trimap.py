"""Automatic trimaps, whole image: trimatte's trimap sources vs the raw saliency mask vs a peer.

Every method gets only the photo (no trimap) and is scored on the **whole image**,
as a user sees the result: SAD (sum of |alpha - truth| / 1000), the share of images
above a SAD of 100, IoU of ``alpha >= 0.5`` with ``truth >= 0.5``, and the mean wall
time per image. Methods:

* ``raw`` -- the U²-Net-p saliency map itself used as alpha (the baseline of issue 10);
* ``salient``, ``auto`` (or ``auto:complete=false,r_max=0.02``, ...) -- trimatte's
  pipelines with that trimap source, the default alpha stage (or ``@closed-form``,
  ``@guided``), the ``alpha-levels`` stage where the default pipeline adds it (or
  ``+levels`` / ``-levels``) and multi-level foreground
  (``trimatte.api.build_pipeline``); the saliency map is computed once per image and
  its time added to every method that uses it. Spelled
  ``SOURCE[:k=v,...][@MATTING][+levels|-levels]``; ``salient-s2`` is shorthand for the
  salient source before session 3 (``band_mode=threshold``, band 1.5 %, 0.05 / 0.95);
* ``peer`` -- the rembg "alpha matting" recipe: U²-Net-p in ONNX Runtime
  (``../shared/weights/u2netp.onnx``), threshold-and-erode trimap, pymatting's
  ``estimate_alpha_cf`` and ``estimate_foreground_ml`` (needs the dev extra).

Data (``../shared/data``): the 13 AM-2k photos with human-made alpha, reported for the
training split of :func:`trimatte.data.splits.shared_split` (the validation set on which
the defaults were chosen), for its held-out split, and for all 13; the
portraits with human person masks and the SOD object masks over BSDS500 photos,
every image whose sorted index % ``--every`` == 0 (binary masks: whole-image SAD
there measures "finds the whole subject", soft edges cost a little).

    python benchmarks/auto_trimap.py [--sets am2k,portraits,sod] [--every 5]
        [--methods raw,salient,auto,peer] [--max-side 0] [--skip N] [--limit N] [--json FILE]

Prints one table per set; tqdm progress on stderr; exit code 2 without ../shared.
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

from rembg_peer import rembg_trimap  # noqa: E402 (beside this script)

from trimatte.api import build_pipeline  # noqa: E402
from trimatte.data.splits import HELD_OUT_AM2K  # noqa: E402
from trimatte.errors import TrimatteError  # noqa: E402
from trimatte.evaluation import quantize_8bit  # noqa: E402
from trimatte.io import atomic_write_bytes, read_alpha, read_image  # noqa: E402
from trimatte.params import parse_params  # noqa: E402

SHARED = REPO.parent / "shared"


def am2k_items(data: Path) -> list[tuple[str, Path, Path]]:
    return [(f"am2k/{p.stem}", p, data / "am2k" / "alpha" / f"{p.stem}.png")
            for p in sorted((data / "am2k" / "image").glob("*.jpg"))]


def portrait_items(data: Path, every: int) -> list[tuple[str, Path, Path]]:
    images = sorted((data / "portrait_masks" / "image").glob("*.jpg"))
    return [(f"portraits/{p.stem}", p, data / "portrait_masks" / "mask" / f"{p.stem}.png")
            for i, p in enumerate(images) if i % every == 0]


def sod_items(data: Path, every: int) -> list[tuple[str, Path, Path]]:
    masks = sorted((data / "sod_masks").glob("*.png"))
    items = []
    for i, mask in enumerate(masks):
        if i % every:
            continue
        image = next(iter(sorted((data / "bsds500").glob(f"*/{mask.stem}.jpg"))), None)
        if image is not None:
            items.append((f"sod/{mask.stem}", image, mask))
    return items


def shrink(image: np.ndarray, truth: np.ndarray, max_side: int):
    scale = max_side / max(truth.shape) if max_side > 0 else 1.0
    if scale >= 1:
        return image, truth
    size = (round(truth.shape[1] * scale), round(truth.shape[0] * scale))
    return (np.clip(cv2.resize(image, size, interpolation=cv2.INTER_AREA), 0, 1),
            np.clip(cv2.resize(truth, size, interpolation=cv2.INTER_AREA), 0, 1))


class Peer:
    """rembg-style recipe: ONNX Runtime U²-Net-p, threshold + erosion, pymatting cf + ml."""

    def __init__(self, onnx_path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # ONNX Runtime's threads spin after each run by default: that CPU time would be
        # charged to whichever method runs next in this process, not to the peer
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_path), options,
                                            providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self(np.full((64, 64, 3), 0.5, np.float32))  # warm-up: numba compilation

    def __call__(self, image: np.ndarray) -> np.ndarray:
        from pymatting import estimate_alpha_cf, estimate_foreground_ml

        mask, trimap, has_both = rembg_trimap(self.session, self.input, image)
        if not has_both:
            return (mask >= 0.5).astype(np.float32)
        image64 = image.astype(np.float64)
        alpha = estimate_alpha_cf(image64, trimap)
        estimate_foreground_ml(image64, alpha)
        return alpha.astype(np.float32)


#: The salient source as it was before session 3 (threshold + 1.5 % band, 0.05 / 0.95).
OLD_SALIENT = "salient:band_mode=threshold,band_fraction=0.015,confident_bg=0.05,confident_fg=0.95"


def parse_method(name: str) -> tuple[str, dict, dict]:
    """``SOURCE[:k=v,...][@MATTING][+levels|-levels]`` -> (source, params, build kwargs)."""
    levels = None
    if name.endswith(("+levels", "-levels")):
        levels, name = name.endswith("+levels"), name[: -len("+levels")]
    name, _, matting = name.partition("@")
    if name == "salient-s2" or name.startswith("salient-s2:"):
        name = OLD_SALIENT + name[len("salient-s2"):].replace(":", ",", 1)
    source, _, params = name.partition(":")
    kwargs = {"alpha_levels": levels}
    if matting:
        kwargs["matting"] = matting
    return source, parse_params([p for p in params.split(",") if p], "--methods"), kwargs


def make_methods(names: list[str]):
    """``{label: (kind, runner)}``; pipelines take (image, saliency) and return a state."""
    methods = {}
    for name in names:
        if name in ("raw", "peer"):
            methods[name] = (name, None)
            continue
        source, params, kwargs = parse_method(name)
        pipeline = build_pipeline(trimap_method=source, composite=None,
                                  trimap_params=params, **kwargs)
        methods[name] = ("pipeline", pipeline)
    return methods


def run_set(title: str, items, methods, args, peer) -> dict:
    from trimatte.models.salient_net import load_u2netp, predict_saliency

    model = load_u2netp()
    predict_saliency(np.full((64, 64, 3), 0.5, np.float32), model=model)  # warm-up
    rows: dict[str, list[dict]] = {m: [] for m in methods}
    for name, image_path, truth_path in tqdm(items, desc=title, file=sys.stderr):
        image, truth = shrink(read_image(image_path), read_alpha(truth_path), args.max_side)
        start, cpu_start = time.perf_counter(), time.process_time()
        saliency = predict_saliency(image, model=model)
        saliency_time = time.perf_counter() - start
        saliency_cpu = time.process_time() - cpu_start
        for label, (kind, runner) in methods.items():
            confidence = None
            start, cpu_start = time.perf_counter(), time.process_time()
            if kind == "raw":
                alpha, seconds, cpu = saliency, saliency_time, saliency_cpu
            elif kind == "peer":
                if peer is None:
                    continue
                alpha = peer(image)
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu_start
            else:
                try:
                    state = runner(image, saliency=saliency)
                    alpha = state.alpha
                    confidence = state.confidence
                except TrimatteError as exc:  # e.g. no salient object: nothing cut out
                    tqdm.write(f"{name}: {label}: {exc}", file=sys.stderr)
                    alpha = np.zeros(truth.shape, np.float32)
                seconds = time.perf_counter() - start + saliency_time
                cpu = time.process_time() - cpu_start + saliency_cpu
            alpha = quantize_8bit(alpha)
            union = np.count_nonzero((alpha >= 0.5) | (truth >= 0.5))
            rows[label].append({
                "name": name,
                "SAD": float(np.abs(alpha - truth).sum() / 1000.0),
                "IoU": np.count_nonzero((alpha >= 0.5) & (truth >= 0.5)) / max(union, 1),
                "seconds": seconds,
                "cpu": cpu,
                "confidence": None if confidence is None else round(confidence.score, 3),
                "flags": [] if confidence is None else list(confidence.flags),
            })
    return rows


def print_table(title: str, rows: dict[str, list[dict]], subset: set[str] | None = None) -> None:
    print(f"\n== {title}")
    print(f"{'method':44s} {'n':>4} {'SAD':>8} {'x raw':>6} {'max SAD':>8} {'>100':>5} "
          f"{'IoU':>6} {'sec/img':>8} {'cpu/img':>8} {'low conf':>8}")
    raw = None
    for label, records in rows.items():
        records = [r for r in records if subset is None or r["name"] in subset]
        if not records:
            continue
        sad = np.array([r["SAD"] for r in records])
        if label == "raw":
            raw = sad.mean()
        ratio = f"{sad.mean() / raw:6.2f}" if raw else f"{'-':>6}"
        low = sum(1 for r in records if r["confidence"] is not None and r["confidence"] < 0.5)
        low_text = f"{low:8d}" if any(r["confidence"] is not None for r in records) else "       -"
        print(f"{label:44s} {len(records):4d} {sad.mean():8.2f} {ratio} {sad.max():8.2f} "
              f"{int((sad > 100).sum()):5d} {np.mean([r['IoU'] for r in records]):6.3f} "
              f"{np.mean([r['seconds'] for r in records]):8.2f} "
              f"{np.mean([r['cpu'] for r in records]):8.2f} {low_text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--sets", default="am2k,portraits,sod")
    parser.add_argument("--methods", default="raw,salient,auto,peer",
                        help="raw, peer, or trimap sources with params: auto:r_max=0.02,...")
    parser.add_argument("--every", type=int, default=5,
                        help="portraits/SOD: images whose sorted index %% N == 0 (held out)")
    parser.add_argument("--am2k-split", choices=("all", "train", "held-out"), default="all",
                        help="AM-2k photos to run: the training split (validation, for "
                             "choosing settings), the held-out split, or all 13")
    parser.add_argument("--limit", type=int, default=0, help="at most N images per set")
    parser.add_argument("--skip", type=int, default=0, help="skip the first N images of a set")
    parser.add_argument("--max-side", type=int, default=0, help="downscale (0: full size)")
    parser.add_argument("--per-image", action="store_true", help="print every image's SAD")
    parser.add_argument("--json", type=Path, help="also write every record as JSON")
    args = parser.parse_args()
    if not (args.data / "am2k").is_dir():
        print(f"needs the developers' data folder {args.data} (absent)", file=sys.stderr)
        return 2
    names = args.methods.split(",")
    peer = None
    if "peer" in names:
        onnx = SHARED / "weights" / "u2netp.onnx"
        try:
            peer = Peer(onnx) if onnx.is_file() else None
        except ImportError as exc:
            print(f"skipping the peer: {exc} (pip install -e '.[dev]')", file=sys.stderr)
        if peer is None:
            names.remove("peer")
    methods = make_methods(names)
    loaders = {"am2k": lambda: am2k_items(args.data),
               "portraits": lambda: portrait_items(args.data, args.every),
               "sod": lambda: sod_items(args.data, args.every)}
    everything = {}
    print(f"whole-image SAD (/1000) and IoU vs the truth; max side {args.max_side or 'full'}; "
          "sec/img includes the saliency network; low conf = confidence < 0.5")
    for set_name in args.sets.split(","):
        items = loaders[set_name]()
        if set_name == "am2k" and args.am2k_split != "all":
            held_names = {f"am2k/{n.split('/')[-1]}" for n in HELD_OUT_AM2K}
            keep_held = args.am2k_split == "held-out"
            items = [item for item in items if (item[0] in held_names) == keep_held]
        items = items[args.skip:]
        if args.limit:
            items = items[: args.limit]
        rows = run_set(set_name, items, methods, args, peer)
        everything[set_name] = rows
        if set_name == "am2k":
            held = {f"am2k/{n.split('/')[-1]}" for n in HELD_OUT_AM2K}
            train = {r["name"] for r in next(iter(rows.values()))} - held
            print_table("AM-2k training split = validation (real alpha; defaults chosen "
                        "here)", rows, train)
            print_table("AM-2k held-out split (real alpha)", rows, held)
            print_table("AM-2k all 13 (real alpha; none seen by the saliency net or the "
                        "classical code)", rows)
        else:
            print_table(f"{set_name}: every {args.every}th image (human binary masks)", rows)
        if args.per_image:
            for label, records in rows.items():
                print(f"  {label}: " + ", ".join(
                    f"{r['name'].split('/')[-1]} {r['SAD']:.1f}"
                    + (f" [{r['confidence']}: {'/'.join(r['flags'])}]" if r["flags"] else "")
                    for r in records))
    if args.json:
        atomic_write_bytes(args.json, json.dumps(everything, indent=1).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
