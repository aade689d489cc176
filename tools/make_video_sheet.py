"""Picture for docs/video.md: the README clip matted with and without dropping still parts.

Runs ``trimatte.video.matte_video`` on ``examples/data/clip.mp4`` twice with the default
pipeline, once with ``TemporalOptions(drop_still=False)`` (what ``--keep-still-parts``
does) and once with the defaults, and writes a JPEG sheet: one row per chosen frame,
with the frame, the alpha with still parts kept, and the default alpha.

    python tools/make_video_sheet.py docs/images/video_still_parts.jpg [--frames 9,13,15,17]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.io import read_alpha, write_image  # noqa: E402
from trimatte.video import TemporalOptions, matte_video, open_source  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", type=Path, help="JPEG to write")
    parser.add_argument("--clip", type=Path, default=REPO / "examples" / "data" / "clip.mp4")
    parser.add_argument("--frames", default="9,13,15,17")
    args = parser.parse_args()
    chosen = [int(f) for f in args.frames.split(",")]
    warnings.simplefilter("ignore")
    with open_source(args.clip) as source:
        frames = {f.index: f.image for f in source if f.index in chosen}
    mattes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for drop in (False, True):
            folder = Path(tmp) / f"alpha_{drop}"
            matte_video(args.clip, [f"png-alpha:{folder}"], progress=False,
                        temporal_options=TemporalOptions(drop_still=drop))
            mattes[drop] = {t: read_alpha(folder / f"frame_{t:06d}.png") for t in chosen}
    rows = []
    for t in chosen:
        grey = [np.repeat(mattes[drop][t][..., None], 3, axis=2) for drop in (False, True)]
        rows.append(np.hstack([frames[t], *grey]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_image(args.output, np.vstack(rows))
    print(f"wrote {args.output}: frames {chosen}; columns: frame, --keep-still-parts, default")


if __name__ == "__main__":
    main()
