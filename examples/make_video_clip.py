"""Generate a test clip with exact ground-truth alpha for ``trimatte video``.

A foreground moves (swing, bob, slight rotation) over a panning background, with
Gaussian sensor noise and a lighting change (the gain falls from 1.0 to 0.7), and a
sine tone as audio. The ground truth of every frame is the alpha it was composited
with, written as ``<OUT stem>_alpha/frame_000000.png``...

    python examples/make_video_clip.py OUT.mp4 [--source synthetic|am2k|examples]
        [--frames 40] [--size 320x240] [--absent 10-14]

Sources of the foreground:

* ``synthetic``: a procedural furry blob over a textured background (no files needed);
* ``am2k``: an AM-2k photo and its human-made alpha, over a background photo, both
  from the developers' ``../shared`` folder (not shipped; exits when absent);
* ``examples``: the procedural blob textured with ``examples/data/chelsea.jpg`` over
  a defocused ``examples/data/coffee.jpg`` (what ``examples/data/clip.mp4`` was made
  with: ``--source examples --frames 24 --size 256x192 --crf 20 --seed 0``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.io import read_alpha, read_image, write_alpha  # noqa: E402
from trimatte.video.synthetic import (  # noqa: E402
    ClipSpec,
    synthetic_clip,
    synthetic_foreground,
    write_clip,
)

SHARED = REPO.parent / "shared"
DATA = REPO / "examples" / "data"


def am2k_layers(shared: Path = SHARED, sample: str = "sample1", background: int = 5
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(foreground, alpha, background) from an AM-2k image/alpha pair and a photo.

    The AM-2k photo itself is used as the foreground colours, cropped to its alpha's
    bounding box (the composite is still exact: its alpha is the one used). The
    background is the ``background``-th photo of ``data/backgrounds`` (sorted by name):
    5 has a penguin (a second salient object), 20 is foliage without one.
    """
    image = read_image(shared / "data" / "am2k" / "image" / f"{sample}.jpg")
    alpha = read_alpha(shared / "data" / "am2k" / "alpha" / f"{sample}.png")
    rows, cols = np.nonzero(alpha > 0.01)
    top, bottom = rows.min(), rows.max() + 1
    left, right = cols.min(), cols.max() + 1
    pad = 8
    top, left = max(0, top - pad), max(0, left - pad)
    bottom, right = min(alpha.shape[0], bottom + pad), min(alpha.shape[1], right + pad)
    photos = sorted((shared / "data" / "backgrounds").glob("*.jpg"))
    return image[top:bottom, left:right], alpha[top:bottom, left:right], read_image(
        photos[background])


def example_layers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(foreground, alpha, background) from the images shipped in examples/data.

    The background is defocused (as behind a subject filmed with a shallow depth of
    field), so that the subject, not the cup, is the salient object.
    """
    import cv2

    fg, alpha = synthetic_foreground(256, seed=0, texture=read_image(DATA / "chelsea.jpg"))
    background = cv2.GaussianBlur(read_image(DATA / "coffee.jpg"), (0, 0), 8)
    return fg, alpha, background


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="clip to write (.mp4, .mkv, .webm, .mov)")
    parser.add_argument("--source", choices=("synthetic", "am2k", "examples"),
                        default="synthetic")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--size", default="320x240", help="WxH")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--absent", help="FIRST-LAST frames without the subject, e.g. 10-14")
    parser.add_argument("--crf", type=int, default=16, help="encoder quality (lower: better)")
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    absent = tuple(int(v) for v in args.absent.split("-")) if args.absent else None
    fg = alpha = bg = None
    if args.source == "am2k":
        if not (SHARED / "README.md").is_file():
            print(f"error: --source am2k needs the developers' data folder {SHARED}",
                  file=sys.stderr)
            return 2
        fg, alpha, bg = am2k_layers()
    elif args.source == "examples":
        fg, alpha, bg = example_layers()
    spec = ClipSpec(width=width, height=height, frames=args.frames, absent=absent,
                    seed=args.seed)
    gt_dir = args.output.with_name(f"{args.output.stem}_alpha")
    frames = []
    for frame in synthetic_clip(spec, fg, alpha, bg):
        write_alpha(gt_dir / f"frame_{frame.index:06d}.png", frame.alpha)
        frames.append(frame.image)
    write_clip(args.output, frames, fps=args.fps, tone_hz=None if args.no_audio else 440.0,
               crf=args.crf)
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KB, {len(frames)} "
          f"frames) and its ground truth in {gt_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
