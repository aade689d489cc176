"""Matting with a background plate: photo and plate in, RGBA cutout out.

    python examples/background_plate.py [PHOTO PLATE] [--out DIR]

Without arguments the script first *makes* a photo + plate pair from the images
shipped in ``examples/data`` (the astronaut's portrait pasted onto the coffee photo
with a soft edge and a cast shadow; the plate is the coffee photo shot again: moved
by 2 px, rotated 0.2 degrees, 15 % brighter, warmer, with its own noise), writes
them as ``photo.jpg`` and ``plate.jpg``, and then mattes those files as a user would
match a studio shot with its empty-set plate.

Outputs in ``--out``: ``<photo>_cutout.png`` (RGBA), ``<photo>_alpha.png`` and
``<photo>_sheet.png`` (photo | trimap | alpha | cutout on a checkerboard).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import cv2
import numpy as np

import trimatte
from trimatte.pipeline import STAGES, Pipeline
from trimatte.stages.plate import PlateUncertainWarning
from trimatte.visualize import contact_sheet

HERE = Path(__file__).resolve().parent


def make_pair(out: Path, long_side: int = 480) -> tuple[Path, Path]:
    """Write a synthetic ``photo.jpg`` and ``plate.jpg`` made from the shipped images."""
    rng = np.random.default_rng(0)
    scene = trimatte.read_image(HERE / "data" / "coffee.jpg")
    scale = long_side / max(scene.shape[:2])
    scene = cv2.resize(scene, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = scene.shape[:2]
    person = trimatte.read_image(HERE / "data" / "astronaut.jpg")
    person = cv2.resize(person, (w, h), interpolation=cv2.INTER_AREA)
    # A soft-edged blob around the astronaut's head and shoulders as the subject.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    head = ((xx - 0.45 * w) / (0.17 * w)) ** 2 + ((yy - 0.36 * h) / (0.3 * h)) ** 2
    body = ((xx - 0.45 * w) / (0.36 * w)) ** 2 + ((yy - 1.05 * h) / (0.45 * h)) ** 2
    alpha = np.clip((1.0 - np.minimum(head, body)) * 12.0, 0.0, 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.5)
    shadow = cv2.GaussianBlur(np.roll(alpha, (10, 18), axis=(0, 1)), (0, 0), 8.0)
    background = scene * (1.0 - 0.35 * shadow)[..., None]
    a = alpha[..., None]
    photo = a * person + (1 - a) * background + rng.normal(0, 0.008, scene.shape)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 0.2, 1.0)
    matrix[:, 2] += (2.0, -1.0)
    plate = cv2.warpAffine(scene, matrix, (w, h), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    plate = plate * np.float32([1.18, 1.15, 1.08]) + rng.normal(0, 0.008, scene.shape)
    photo_path = trimatte.write_image(out / "photo.jpg", np.clip(photo, 0, 1))
    plate_path = trimatte.write_image(out / "plate.jpg", np.clip(plate, 0, 1))
    return photo_path, plate_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", help="photo with the subject")
    parser.add_argument("plate", nargs="?", help="the same scene without the subject")
    parser.add_argument("--out", default="out/plate", help="output folder")
    args = parser.parse_args()
    out = Path(args.out)
    if (args.photo is None) != (args.plate is None):
        parser.error("give both PHOTO and PLATE, or neither (to use a generated pair)")
    if args.photo is None:
        photo_path, plate_path = make_pair(out)
        print(f"generated {photo_path} and {plate_path}")
    else:
        photo_path, plate_path = Path(args.photo), Path(args.plate)

    # Plate trimap -> alpha with the background known -> decontaminated colours -> RGBA.
    pipe = Pipeline([STAGES.build(name) for name in
                     ("plate", "plate-alpha", "plate-foreground", "cutout")])
    photo = trimatte.read_image(photo_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlateUncertainWarning)
        result = pipe(photo, plate=str(plate_path))
    for warning in caught:
        print(f"warning: {warning.message}")

    alignment = result.hints["plate_alignment"]
    dx, dy = alignment.shift
    print(f"plate registered by {alignment.method}: shift ({dx:+.2f}, {dy:+.2f}) px, "
          f"rotation {alignment.rotation_degrees:+.2f} deg; exposure gains "
          f"{np.round(result.hints['plate_exposure'].gains, 3).tolist()}")
    print(f"confidence {result.hints['confidence']:.2f}; unknown pixels "
          f"{np.mean(result.trimap == 128):.1%}")
    for stage, seconds in result.timings.items():
        print(f"  {stage:28s} {seconds:6.2f} s")

    stem = photo_path.stem
    cutout = trimatte.write_rgba(out / f"{stem}_cutout.png", result.foreground, result.alpha)
    trimatte.write_alpha(out / f"{stem}_alpha.png", result.alpha)
    sheet = contact_sheet([{"image": photo, "trimap": result.trimap, "alpha": result.alpha,
                            "foreground": result.foreground}], labels=[stem])
    trimatte.write_image(out / f"{stem}_sheet.png", sheet / 255.0)
    print(f"cutout written to {cutout}")


if __name__ == "__main__":
    main()
