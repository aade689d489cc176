"""Matting with a background plate vs the automatic pipeline vs closed-form with the true trimap.

Composites with exact ground truth: foregrounds (colours from multi-level estimation
on the photo, and its alpha) from ``../shared/data`` are laid over BSDS500 test
photos. The photo gets sensor noise and a shadow the subject casts (the background
darkened under a blurred, offset copy of the alpha); the plate is the same
background photo as a second shot: shifted by 1-3 px, rotated by up to 0.3 degrees,
with another exposure and white balance (applied in linear light) and its own noise.

Rows (mean over the composites):

* ``plate -> plate-alpha``: ``plate`` trimap, ``plate-alpha``, ``plate-foreground``, cutout.
* ``plate -> closed-form``: the plate trimap with plain closed-form matting.
* ``automatic``: :func:`trimatte.api.default_pipeline` (no plate, no trimap).
* ``closed-form, true trimap``: the DIM-protocol trimap of the true alpha.
* stress rows: the plate pipeline with the plate shifted by exactly 3 px, and with its
  exposure 20 % off.

Columns: whole-image SAD, SAD inside the true trimap's unknown band (both in
thousands, as the DIM papers), and seconds per image (whole pipeline, foreground
and cutout included).

    python benchmarks/plate.py [--split heldout|train] [--size 640] [--quick]

``heldout`` (default) uses the seven examples of :func:`trimatte.data.splits.shared_split`
that training never sees; the plate stages were tuned on ``train`` examples only.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.api import default_pipeline  # noqa: E402
from trimatte.foreground.estimation import estimate_foreground  # noqa: E402
from trimatte.io import read_alpha, read_image  # noqa: E402
from trimatte.pipeline import STAGES, Pipeline  # noqa: E402
from trimatte.trimap.morphology import trimap_from_alpha  # noqa: E402

SHARED = REPO.parent / "shared"


@dataclass
class Case:
    name: str
    photo: np.ndarray
    plate: np.ndarray
    alpha: np.ndarray
    trimap: np.ndarray


def resize_long(image: np.ndarray, long_side: int) -> np.ndarray:
    scale = long_side / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    mode = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return np.clip(cv2.resize(image, size, interpolation=mode), 0.0, 1.0)


def cover(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to cover ``height x width`` and crop the centre."""
    scale = max(height / image.shape[0], width / image.shape[1])
    size = (max(width, round(image.shape[1] * scale)), max(height, round(image.shape[0] * scale)))
    big = np.clip(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), 0, 1)
    y, x = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return big[y:y + height, x:x + width]


def capture(background: np.ndarray, rng: np.random.Generator, *, shift: float | None,
            exposure: float | None, margin: int) -> np.ndarray:
    """The plate: ``background`` (with ``margin`` px around the frame) shot again."""
    h, w = background.shape[0] - 2 * margin, background.shape[1] - 2 * margin
    distance = shift if shift is not None else rng.uniform(1.0, 3.0)
    angle = rng.uniform(0, 2 * np.pi)
    rotation = rng.uniform(-0.3, 0.3)
    matrix = cv2.getRotationMatrix2D((background.shape[1] / 2, background.shape[0] / 2),
                                     rotation, 1.0)
    matrix[:, 2] += (distance * np.cos(angle), distance * np.sin(angle))
    moved = cv2.warpAffine(background, matrix, background.shape[1::-1], flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)[margin:margin + h, margin:margin + w]
    gain = exposure if exposure is not None else rng.uniform(0.9, 1.1)
    white = rng.uniform(0.95, 1.05, 3)
    linear = np.clip(moved, 0, 1) ** 2.2 * gain * white
    plate = np.clip(linear, 0, 1) ** (1 / 2.2)
    return np.clip(plate + rng.normal(0, 0.01, plate.shape), 0, 1).astype(np.float32)


def make_case(name: str, image_path: Path, alpha_path: Path, background_path: Path,
              size: int, seed: int, shift: float | None = None,
              exposure: float | None = None) -> Case:
    rng = np.random.default_rng(seed)
    image = resize_long(read_image(image_path), size)
    alpha = np.clip(cv2.resize(read_alpha(alpha_path), image.shape[1::-1],
                               interpolation=cv2.INTER_AREA), 0, 1).astype(np.float32)
    fg = estimate_foreground(image, alpha)
    h, w = alpha.shape
    margin = 8
    background = cover(read_image(background_path), h + 2 * margin, w + 2 * margin)
    scene = background[margin:margin + h, margin:margin + w]
    long_side = max(h, w)
    offset = np.float32([[1, 0, 0.04 * long_side], [0, 1, 0.03 * long_side]])
    cast = cv2.warpAffine(alpha, offset, (w, h))
    cast = cv2.GaussianBlur(cast, (0, 0), 0.02 * long_side)
    shaded = scene * (1.0 - 0.35 * cast)[..., None]
    a = alpha[..., None]
    photo = a * fg + (1 - a) * shaded + rng.normal(0, 0.01, fg.shape)
    plate = capture(background, rng, shift=shift, exposure=exposure, margin=margin)
    band = max(1, round(0.015 * long_side))
    return Case(name, np.clip(photo, 0, 1).astype(np.float32), plate, alpha,
                trimap_from_alpha(alpha, band))


def pipelines() -> dict[str, tuple[Pipeline, bool, bool]]:
    """name -> (pipeline, needs the plate, needs the true trimap)."""
    def build(*names: str) -> Pipeline:
        return Pipeline([STAGES.build(n) for n in names])

    return {
        "plate -> plate-alpha": (build("plate", "plate-alpha", "plate-foreground", "cutout"),
                                 True, False),
        "plate -> closed-form": (build("plate", "closed-form", "multilevel-foreground", "cutout"),
                                 True, False),
        "automatic (default_pipeline)": (default_pipeline(), False, False),
        "closed-form, true trimap": (build("given", "closed-form", "multilevel-foreground",
                                           "cutout"), False, True),
    }


def score(alpha: np.ndarray, case: Case) -> tuple[float, float]:
    error = np.abs(alpha - case.alpha)
    return float(error.sum() / 1000), float(error[case.trimap == 128].sum() / 1000)


def run_one(pipeline: Pipeline, case: Case, plate: bool, true_trimap: bool):
    kwargs = {"plate": case.plate} if plate else {}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = pipeline(case.photo, case.trimap if true_trimap else None, **kwargs)
    seconds = time.perf_counter() - start
    warned = any("plate" in str(w.message) for w in caught)
    return (*score(state.alpha, case), seconds, warned)


def select(split: str, quick: bool):
    from trimatte.data.splits import shared_split

    data = shared_split(SHARED / "data")
    pairs = data.validation if split == "heldout" else [
        p for p in data.train if p.name.startswith("am2k/")]
    if quick:
        pairs = pairs[:3]
    backgrounds = sorted((SHARED / "data" / "bsds500" / "test").glob("*.jpg"))
    return pairs, backgrounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("heldout", "train"), default="heldout")
    parser.add_argument("--size", type=int, default=640, help="long side of the composites")
    parser.add_argument("--quick", action="store_true", help="three composites only")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    if not (SHARED / "data").is_dir():
        print(f"needs the developers' data folder {SHARED / 'data'}", file=sys.stderr)
        return 2
    pairs, backgrounds = select(args.split, args.quick)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(backgrounds), size=len(pairs), replace=False)
    methods = pipelines()
    stress = {"plate -> plate-alpha, 3 px shift": {"shift": 3.0},
              "plate -> plate-alpha, exposure -20 %": {"exposure": 0.8}}
    rows: dict[str, list[tuple[float, float, float, bool]]] = {
        name: [] for name in [*methods, *stress]}
    for index, (pair, pick) in enumerate(tqdm(list(zip(pairs, picks, strict=True)),
                                              desc="composites", unit="img")):
        seed = args.seed * 1000 + index
        case = make_case(pair.name, pair.image, pair.alpha, backgrounds[pick], args.size, seed)
        for name, (pipeline, plate, true_trimap) in methods.items():
            rows[name].append(run_one(pipeline, case, plate, true_trimap))
        plate_pipeline = methods["plate -> plate-alpha"][0]
        for name, change in stress.items():
            varied = make_case(pair.name, pair.image, pair.alpha, backgrounds[pick], args.size,
                               seed, **change)
            rows[name].append(run_one(plate_pipeline, varied, True, False))
        line = ", ".join(f"{n.split(' (')[0]}: {rows[n][-1][0]:.1f}/{rows[n][-1][1]:.1f}"
                         for n in rows)
        tqdm.write(f"{pair.name} over {backgrounds[pick].name}: {line}")
    print(f"\n{len(pairs)} composites ({args.split} split), long side {args.size} px; "
          "SAD in thousands; band = true trimap's unknown region\n")
    print(f"| {'method':38s} | whole-image SAD | SAD in band | s / image | warned |")
    print(f"|{'-' * 40}|-----------------|-------------|-----------|--------|")
    for name, values in rows.items():
        whole, band, seconds, warned = (np.mean([v[i] for v in values]) for i in range(4))
        print(f"| {name:38s} | {whole:15.2f} | {band:11.2f} | {seconds:9.2f} | "
              f"{round(warned * len(values)):>3d}/{len(values):<2d} |")
    auto = np.mean([v[0] for v in rows["automatic (default_pipeline)"]])
    plate = np.mean([v[0] for v in rows["plate -> plate-alpha"]])
    band_plate = np.mean([v[1] for v in rows["plate -> plate-alpha"]])
    band_cf = np.mean([v[1] for v in rows["closed-form, true trimap"]])
    print(f"\nplate / automatic whole-image SAD: {plate / auto:.2f} (target <= 0.5); "
          f"plate band SAD {band_plate:.2f} vs closed-form true trimap {band_cf:.2f} "
          "(target: no worse)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
