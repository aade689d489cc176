"""Automatic trimap sources on held-out photos, side by side, whole image.

    python benchmarks/trimap_predictor.py [--sources salient,unet-trimap] [--weights FILE]
                                          [--limit N] [--max-side 800] [--json FILE]
                                          [--masks-only]

A source is ``NAME[:k=v,...]`` (stage parameters); ``salient-s2`` is the salient source
as it was before session 3 (band around the 0.5 contour, 1.5 %, 0.05 / 0.95).

Two held-out sets, both never trained on by the shipped trimap predictor:

* **real alpha** -- the held-out AM-2k photos of :func:`trimatte.data.splits.shared_split`:
  each source's trimap goes through closed-form matting, and the *whole-image* SAD of
  the resulting alpha against the human-made alpha is what a user sees. The peer is
  U²-Net-p's raw saliency used directly as the alpha.
* **masks** -- the held-out fifth of the portraits (person masks with clothes) and of the
  SOD objects (:func:`trimatte.data.subjects.split_held_out`). Binary masks have no soft
  edges, so alpha is not scored; instead each trimap is scored for what it decides:
  ``wrong %`` = pixels marked definite foreground/background on the wrong side of the
  mask (a dropped jacket, a kept second object), ``unknown %`` = share of the image left
  unknown, and ``IoU`` of (foreground + unknown) with the mask.

Needs ``../shared``. Images are shrunk to ``--max-side`` first (default 800) for speed.
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
SHARED = REPO.parent / "shared"

from trimatte.data.splits import shared_split  # noqa: E402
from trimatte.data.subjects import mask_photos, split_held_out  # noqa: E402
from trimatte.errors import TrimatteError  # noqa: E402
from trimatte.io import atomic_write_bytes, read_alpha, read_image  # noqa: E402
from trimatte.params import parse_params  # noqa: E402
from trimatte.pipeline import STAGES, MatteState  # noqa: E402


def shrink(array: np.ndarray, max_side: int) -> np.ndarray:
    scale = max_side / max(array.shape[:2])
    if max_side <= 0 or scale >= 1:
        return array
    size = (round(array.shape[1] * scale), round(array.shape[0] * scale))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


#: Shorthand for the salient source as it was before session 3.
ALIASES = {"salient-s2": "salient:band_mode=threshold,band_fraction=0.015,"
                         "confident_bg=0.05,confident_fg=0.95"}


def make_source(name: str, weights: str | None):
    """A trimap stage from ``NAME[:k=v,...]`` (or an alias of :data:`ALIASES`)."""
    source, _, params = ALIASES.get(name, name).partition(":")
    kwargs = parse_params([p for p in params.split(",") if p], "--sources")
    if source == "unet-trimap":
        kwargs.setdefault("weights", weights or "default")
    return STAGES.build(source, **kwargs)


def trimap_scores(trimap: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """What a trimap decides against a binary mask (see the module docstring)."""
    fg, bg = trimap == 255, trimap == 0
    wrong = (fg & ~mask) | (bg & mask)
    keep = ~bg
    union = (keep | mask).sum()
    return {"wrong %": 100 * wrong.mean(), "unknown %": 100 * (trimap == 128).mean(),
            "IoU": float((keep & mask).sum() / union) if union else 1.0}


def run_alpha(sources, pairs, max_side):
    from trimatte.matting.closed_form import closed_form_alpha
    from trimatte.models.salient_net import predict_saliency

    rows = {name: [] for name in [*sources, "raw saliency"]}
    for pair in tqdm(pairs, desc="real alpha", file=sys.stderr):
        image = shrink(read_image(pair.image), max_side)
        gt = np.clip(shrink(read_alpha(pair.alpha), max_side), 0, 1)
        start = time.perf_counter()
        raw = predict_saliency(image)
        rows["raw saliency"].append((pair.name, np.abs(raw - gt).sum() / 1000,
                                     time.perf_counter() - start))
        for name, stage in sources.items():
            start = time.perf_counter()
            try:
                trimap = stage.run(MatteState(image=image)).trimap
                alpha = closed_form_alpha(image, trimap)
            except TrimatteError as exc:
                print(f"{pair.name}: {name}: {exc}", file=sys.stderr)
                alpha = np.zeros_like(gt)
            rows[name].append((pair.name, np.abs(alpha - gt).sum() / 1000,
                               time.perf_counter() - start))
    return rows


def run_masks(sources, photos, max_side):
    rows = {name: [] for name in sources}
    for photo in tqdm(photos, desc="masks", file=sys.stderr):
        image = shrink(read_image(photo.image), max_side)
        mask = shrink(read_alpha(photo.label), max_side) >= 0.5
        for name, stage in sources.items():
            try:
                trimap = stage.run(MatteState(image=image)).trimap
            except TrimatteError:
                trimap = np.zeros(mask.shape, np.uint8)
            rows[name].append((photo.name, trimap_scores(trimap, mask)))
    return rows


def print_alpha(alpha_rows, count: int, max_side: int, summary: dict) -> None:
    print(f"\n== real alpha, AM-2k held-out ({count} photos, "
          f"max side {max_side}): whole-image SAD of closed-form after each trimap")
    names = [r[0] for r in next(iter(alpha_rows.values()))]
    print(f"{'source':16s} " + " ".join(f"{n.split('/')[-1]:>9s}" for n in names)
          + f" {'mean':>9s} {'s/img':>7s}")
    for name, rows in alpha_rows.items():
        sads = [r[1] for r in rows]
        summary[f"alpha/{name}"] = {"SAD": float(np.mean(sads)),
                                    "seconds": float(np.mean([r[2] for r in rows]))}
        print(f"{name:16s} " + " ".join(f"{s:9.2f}" for s in sads)
              + f" {np.mean(sads):9.2f} {np.mean([r[2] for r in rows]):7.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--sources", default="salient,unet-trimap")
    parser.add_argument("--weights", help="trimap predictor checkpoint (default: shipped)")
    parser.add_argument("--limit", type=int, default=0, help="mask photos per set (0: all)")
    parser.add_argument("--max-side", type=int, default=800)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--masks-only", action="store_true",
                        help="skip the AM-2k alpha part (closed-form on every photo)")
    args = parser.parse_args()
    if not (args.data / "am2k").is_dir():
        print(f"needs the developers' data folder {args.data} (absent)", file=sys.stderr)
        return 2
    sources = {name: make_source(name, args.weights) for name in args.sources.split(",")}
    split = shared_split(args.data)
    alpha_rows = ({} if args.masks_only
                  else run_alpha(sources, split.validation_real, args.max_side))
    _, held = split_held_out(mask_photos(args.data))
    if args.limit:
        held = [p for kind in ("portrait", "sod")
                for p in [q for q in held if q.name.startswith(kind)][: args.limit]]
    mask_rows = run_masks(sources, held, args.max_side)

    summary: dict[str, dict[str, float]] = {}
    if alpha_rows:
        print_alpha(alpha_rows, len(split.validation_real), args.max_side, summary)
    for kind in ("portrait", "sod"):
        count = sum(r[0].startswith(kind) for r in next(iter(mask_rows.values())))
        print(f"\n== {kind} masks, held-out ({count} photos)")
        print(f"{'source':16s} {'wrong %':>8s} {'unknown %':>9s} {'IoU':>6s} "
              f"{'worst wrong %':>13s}")
        for name, rows in mask_rows.items():
            scores = [r[1] for r in rows if r[0].startswith(kind)]
            mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
            worst = max(scores, key=lambda s: s["wrong %"])["wrong %"]
            summary[f"{kind}/{name}"] = {**mean, "worst wrong %": worst}
            print(f"{name:16s} {mean['wrong %']:8.2f} {mean['unknown %']:9.2f} "
                  f"{mean['IoU']:6.3f} {worst:13.2f}")
    if args.json:
        atomic_write_bytes(args.json, json.dumps(summary, indent=2).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
