"""Run the default (deep) pipeline on every image of a folder and save a contact sheet.

    python examples/deep_pipeline_folder.py [FOLDER] [--out DIR] [--matting NAME]

The default pipeline is: salient-object U²-Net-p trimap → matting → multi-level
foreground → RGBA cutout. Weights ship inside the package; nothing is downloaded.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

import trimatte
from trimatte.api import DEFAULT_MATTING, build_pipeline
from trimatte.io import list_images
from trimatte.visualize import contact_sheet

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=HERE / "data")
    parser.add_argument("--out", default="out/deep", help="output folder")
    parser.add_argument("--matting", default=DEFAULT_MATTING, help="alpha stage")
    parser.add_argument("--max-side", type=int, default=800, help="downscale larger images")
    args = parser.parse_args()

    pipeline = build_pipeline(matting=args.matting)
    out = Path(args.out)
    rows, labels = [], []
    for path in tqdm(list_images(args.folder), desc="matting", unit="img"):
        image = trimatte.read_image(path)
        scale = args.max_side / max(image.shape[:2])
        if scale < 1:
            import cv2

            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        result = pipeline(image)
        trimatte.write_rgba(out / f"{path.stem}_cutout.png", result.foreground, result.alpha)
        rows.append({"image": image, "trimap": result.trimap, "alpha": result.alpha,
                     "foreground": result.foreground})
        total = sum(result.timings.values())
        labels.append(f"{path.stem} ({total:.1f} s)")
    sheet = out / "contact_sheet.png"
    trimatte.write_image(sheet, contact_sheet(rows, labels=labels) / 255.0)
    print(f"wrote {len(rows)} cutouts and {sheet}")


if __name__ == "__main__":
    main()
