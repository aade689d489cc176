"""Apply a trained matting model to CelebA faces and save a contact-sheet grid.

Needs the CelebA dataset (``img_align_celeba/*.jpg``; not shipped: download it
yourself) and, optionally, a DIM checkpoint from ``trimatte train`` (default: the
weights shipped with trimatte)::

    python examples/apply_celeba.py /data/celeba --limit 12 [--weights runs/ft/model.pth]

Trimaps come from the salient-object U-Net (or, with ``--celebamask``, from
CelebAMask-HQ part masks).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

import trimatte
from trimatte.data.celeba import celeba_images
from trimatte.pipeline import STAGES
from trimatte.visualize import contact_sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("celeba", type=Path, help="CelebA folder (holding img_align_celeba/)")
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--weights", default="default", help="DIM checkpoint")
    parser.add_argument("--matting", default="dim", help="alpha stage: dim or closed-form")
    parser.add_argument("--out", type=Path, default=Path("out/celeba"))
    args = parser.parse_args()

    matting = (STAGES.build("dim", weights=args.weights) if args.matting == "dim"
               else STAGES.build(args.matting))
    pipeline = trimatte.Pipeline([
        STAGES.build("salient", band_fraction=0.03),
        matting,
        STAGES.build("multilevel-foreground"),
    ])
    rows, labels = [], []
    for path in tqdm(celeba_images(args.celeba, limit=args.limit), desc="CelebA"):
        image = trimatte.read_image(path)
        try:
            result = pipeline(image)
        except trimatte.TrimatteError as exc:
            print(f"{path.name}: skipped ({exc})")
            continue
        trimatte.write_rgba(args.out / f"{path.stem}_cutout.png", result.foreground, result.alpha)
        rows.append({"image": image, "trimap": result.trimap, "alpha": result.alpha,
                     "foreground": result.foreground})
        labels.append(path.stem)
    sheet = args.out / "celeba_sheet.png"
    trimatte.write_image(sheet, contact_sheet(rows, labels=labels, row_height=160) / 255.0)
    print(f"wrote {len(rows)} cutouts and {sheet}")


if __name__ == "__main__":
    main()
