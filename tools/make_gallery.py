"""Make the README/docs before-after picture and the gallery page from shipped images.

Runs the default pipeline (:func:`trimatte.api.default_pipeline`, no trimap given) on
every image in ``examples/data`` and writes:

* ``docs/images/before_after.jpg`` -- the first image beside its cutout on a
  checkerboard (shown at the top of README.md and docs/index.md);
* ``docs/images/gallery/<name>.jpg`` -- one row per image: photo | trimap overlay |
  alpha | cutout on a checkerboard;
* ``docs/gallery.md`` -- the gallery page: each row with its trimap source, timing
  and confidence (score and flags).

Rerun it whenever the default pipeline changes:

    python tools/make_gallery.py [--images examples/data] [--out docs] [--max-side 0]
                                 [--limit N] [--trimap-method NAME]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.api import DEFAULT_MATTING, DEFAULT_TRIMAP_METHOD, build_pipeline  # noqa: E402
from trimatte.io import list_images, read_image, write_image  # noqa: E402
from trimatte.visualize import contact_sheet, cutout_on_checkerboard  # noqa: E402

BEFORE_AFTER = Path("images") / "before_after.jpg"
GALLERY = Path("images") / "gallery"


def shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    scale = max_side / max(image.shape[:2]) if max_side > 0 else 1.0
    if scale >= 1:
        return image
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return np.clip(cv2.resize(image, size, interpolation=cv2.INTER_AREA), 0, 1)


def before_after(image: np.ndarray, foreground: np.ndarray, alpha: np.ndarray,
                 height: int = 320) -> np.ndarray:
    """Photo | cutout on a checkerboard, side by side, uint8 ``(height, W, 3)``."""
    import cv2

    from trimatte.image import to_uint8

    width = max(1, round(image.shape[1] * height / image.shape[0]))
    panels = [cv2.resize(to_uint8(p), (width, height), interpolation=cv2.INTER_AREA)
              for p in (image, cutout_on_checkerboard(foreground, alpha))]
    return np.hstack([panels[0], np.full((height, 8, 3), 255, np.uint8), panels[1]])


def gallery_page(entries: list[dict], source: str) -> str:
    lines = [
        "# Gallery",
        "",
        "The default pipeline on the example images that ship in `examples/data`, with",
        "no trimap given: `trimatte matte examples/data/*.jpg -o out/`. Each row shows the",
        "photo, the automatic trimap (green: foreground, yellow: unknown, blue:",
        "background), the alpha matte and the cutout on a checkerboard.",
        "",
        f"Trimap source `{source}`, alpha `{DEFAULT_MATTING}`. Every result carries a",
        "confidence (0 to 1, with flags naming what looked wrong); the CLI warns below 0.5.",
        "The pictures are made by `python tools/make_gallery.py`, rerun whenever the",
        "default pipeline changes.",
        "",
    ]
    for entry in entries:
        lines += [
            f"## {entry['name']}",
            "",
            f"![{entry['name']}: photo, trimap, alpha, cutout]({entry['path']})",
            "",
            f"{entry['size']}; {entry['confidence']}.",
            "",
        ]
    return "\n".join(lines)


def make(images: list[Path], out: Path, max_side: int = 0,
         trimap_method: str = DEFAULT_TRIMAP_METHOD) -> list[dict]:
    """Run the default pipeline on ``images`` and write the pictures and page under ``out``.

    ``trimap_method`` other than the default previews a candidate default.
    """
    pipeline = build_pipeline(trimap_method=trimap_method)
    (out / GALLERY).mkdir(parents=True, exist_ok=True)
    entries = []
    for index, path in enumerate(tqdm(images, desc="gallery", file=sys.stderr)):
        image = shrink(read_image(path), max_side)
        start = time.perf_counter()
        state = pipeline(image)
        seconds = time.perf_counter() - start
        foreground = state.foreground if state.foreground is not None else image
        confidence = state.confidence.describe() if state.confidence else "confidence n/a"
        row = contact_sheet([{"image": image, "trimap": state.trimap, "alpha": state.alpha,
                              "foreground": foreground}], row_height=240)
        relative = GALLERY / f"{path.stem}.jpg"
        write_image(out / relative, row / 255.0)
        if index == 0:
            write_image(out / BEFORE_AFTER, before_after(image, foreground, state.alpha) / 255.0)
        entries.append({"name": path.stem, "path": relative.as_posix(), "seconds": seconds,
                        "size": f"{image.shape[1]}x{image.shape[0]} px",
                        "confidence": confidence})
    page = gallery_page(entries, trimap_method)
    (out / "gallery.md").write_text(page + "\n")
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=REPO / "examples" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "docs",
                        help="docs folder: writes gallery.md and images/ under it")
    parser.add_argument("--max-side", type=int, default=0, help="downscale first (0: no)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images")
    parser.add_argument("--trimap-method", default=DEFAULT_TRIMAP_METHOD,
                        help=f"trimap source (default: the pipeline's, {DEFAULT_TRIMAP_METHOD})")
    args = parser.parse_args()
    images = list_images(args.images)
    if args.limit:
        images = images[: args.limit]
    if not images:
        print(f"no images in {args.images}", file=sys.stderr)
        return 2
    for entry in make(images, args.out, args.max_side, args.trimap_method):
        print(f"{entry['name']}: {entry['seconds']:.1f} s, {entry['confidence']}")
    print(f"wrote {args.out / 'gallery.md'} and {args.out / 'images'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
