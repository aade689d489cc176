"""GrabCut from a rectangle, then closed-form matting, shown as a contact sheet.

    python examples/grabcut_closed_form.py [IMAGE] [--rect X,Y,W,H] [--band PX] [--out DIR]

Without --rect the subject is assumed to fill the middle of the frame.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import trimatte
from trimatte.foreground.estimation import estimate_foreground
from trimatte.matting.closed_form import closed_form_alpha
from trimatte.trimap.grabcut import grabcut_trimap
from trimatte.visualize import contact_sheet

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", default=HERE / "data" / "coffee.jpg")
    parser.add_argument("--rect", help="X,Y,W,H around the subject")
    parser.add_argument("--band", type=int, default=8, help="unknown band in pixels")
    parser.add_argument("--out", default="out/grabcut", help="output folder")
    args = parser.parse_args()

    image = trimatte.read_image(args.image)
    h, w = image.shape[:2]
    if args.rect:
        rect = tuple(int(v) for v in args.rect.split(","))
    else:
        rect = (int(0.1 * w), int(0.05 * h), int(0.8 * w), int(0.9 * h))

    # The functional core: plain functions on arrays.
    mask, trimap = grabcut_trimap(image, rect=rect, band=args.band)
    alpha = closed_form_alpha(image, trimap)
    foreground = estimate_foreground(image, alpha)

    out = Path(args.out)
    stem = Path(args.image).stem
    trimatte.write_rgba(out / f"{stem}_cutout.png", foreground, alpha)
    sheet = contact_sheet(
        [{"image": image, "trimap": trimap, "alpha": alpha, "foreground": foreground}],
        labels=[stem],
    )
    trimatte.write_image(out / f"{stem}_sheet.png", sheet / 255.0)
    print(f"mask covers {mask.mean():.1%} of the image; unknown band {(trimap == 128).mean():.1%}")
    print(f"wrote {out / (stem + '_cutout.png')} and {out / (stem + '_sheet.png')}")


if __name__ == "__main__":
    main()
