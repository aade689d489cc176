"""The editor's live preview beside the full-resolution matte, and the cost of an edit.

For each image (a synthetic 800x600 disc and the example photos with a GrabCut
trimap) the editor's alpha pipeline runs twice through
:func:`trimatte.editor.pipelines.preview_alpha_of`: on the downscaled copy the live
preview uses (``--preview-size``, default 320) and at full resolution (what
:kbd:`P` and saving compute). The table gives both times, the speed-up and the
mean / max difference of the two mattes over the unknown band.

A second table times the interactive actions on a big synthetic image
(``--big-side``, default 4000 x 3000): starting a drag, one brush segment while
dragging, closing the drag (one undo step), undo and redo, and the history bytes
one stroke costs.

    python benchmarks/editor.py [--preview-size 320] [--big-side 4000] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.editor.pipelines import (  # noqa: E402
    editor_pipeline,
    grabcut_with_strokes,
    preview_alpha_of,
)
from trimatte.editor.state import EditorState  # noqa: E402
from trimatte.image import UNKNOWN  # noqa: E402
from trimatte.io import read_image  # noqa: E402
from trimatte.trimap.morphology import trimap_from_alpha  # noqa: E402


def disc_scene(width: int, height: int, radius: float, soft: float = 6.0):
    """float32 (H, W, 3) image of a soft-edged disc and its uint8 (H, W) trimap."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    alpha = np.clip((radius - np.hypot(yy - height / 2, xx - width / 2)) / soft + 0.5, 0, 1)
    fg, bg = np.array([0.9, 0.3, 0.1], np.float32), np.array([0.1, 0.4, 0.8], np.float32)
    noise = np.random.default_rng(0).normal(0, 0.01, (height, width, 3)).astype(np.float32)
    image = np.clip(alpha[..., None] * fg + (1 - alpha[..., None]) * bg + noise, 0, 1)
    return image.astype(np.float32), trimap_from_alpha(alpha.astype(np.float32), 8)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def preview_table(preview_side: int, quick: bool) -> None:
    scenes = [("disc (synthetic)", *disc_scene(800, 600, 250))]
    names = ["chelsea"] if quick else ["chelsea", "coffee", "astronaut"]
    for name in names:
        image = read_image(REPO / "examples" / "data" / f"{name}.jpg")
        height, width = image.shape[:2]
        strokes = np.zeros((height, width), np.uint8)
        rect = (width // 10, height // 10, width * 8 // 10, height * 8 // 10)
        trimap = grabcut_with_strokes(image, np.zeros_like(strokes), strokes, 8, rect=rect)
        scenes.append((f"{name}.jpg (GrabCut trimap)", image, trimap))
    pipeline = editor_pipeline()
    warm_image, warm_trimap = disc_scene(64, 48, 15)
    preview_alpha_of(warm_image, warm_trimap, None, pipeline=pipeline)  # imports, first calls
    print(f"\nLive preview (long side {preview_side} px) vs full resolution, closed-form")
    print("| image | size | unknown | preview s | full-res s | speed-up | mean / max |d alpha| |")
    print("|---|---|---|---|---|---|---|")
    for label, image, trimap in scenes:
        preview, t_preview = timed(preview_alpha_of, image, trimap, preview_side,
                                   pipeline=pipeline)
        full, t_full = timed(preview_alpha_of, image, trimap, None, pipeline=pipeline)
        band = trimap == UNKNOWN
        diff = np.abs(preview - full)[band]
        print(f"| {label} | {image.shape[1]}x{image.shape[0]} | {band.mean():.1%} | "
              f"{t_preview:.2f} | {t_full:.2f} | {t_full / t_preview:.1f}x | "
              f"{diff.mean():.3f} / {diff.max():.3f} |")


def actions_table(side: int) -> None:
    width, height = side, side * 3 // 4
    image, trimap = disc_scene(width, height, height * 0.35)
    state = EditorState(image, trimap, brush_radius=20)
    rng = np.random.default_rng(0)
    centre = np.array([width / 2, height / 2])
    path = np.cumsum(rng.normal(0, 15, (40, 2)), axis=0) + centre
    _, t_begin = timed(state.begin_stroke)
    segment_times = []
    for p, q in itertools.pairwise(path):
        segment_times.append(timed(state.paint, [p, q])[1])
    _, t_end = timed(state.end_stroke)
    bytes_one = state.history_nbytes
    _, t_undo = timed(state.undo)
    _, t_redo = timed(state.redo)
    print(f"\nInteractive actions on a {width}x{height} image (brush radius 20 px, "
          f"a drag of {len(segment_times)} segments)")
    print("| action | time |")
    print("|---|---|")
    segment = np.median(segment_times)
    print(f"| start of a drag (snapshot for undo) | {t_begin * 1e3:.0f} ms |")
    print(f"| one brush segment while dragging (median) | {segment * 1e3:.1f} ms |")
    print(f"| end of the drag (one undo step) | {t_end * 1e3:.0f} ms |")
    print(f"| undo | {t_undo * 1e3:.0f} ms |")
    print(f"| redo | {t_redo * 1e3:.0f} ms |")
    print(f"| history held by that stroke | {bytes_one / 1024:.1f} KiB |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preview-size", type=int, default=320)
    parser.add_argument("--big-side", type=int, default=4000)
    parser.add_argument("--quick", action="store_true", help="one photo, a 2000 px big image")
    args = parser.parse_args()
    preview_table(args.preview_size, args.quick)
    actions_table(2000 if args.quick else args.big_side)
    return 0


if __name__ == "__main__":
    sys.exit(main())
