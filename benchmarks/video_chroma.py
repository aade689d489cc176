"""Matting frames of 4:2:0 video: the decoder's colour against colour rebuilt from the luma.

Each clip (``examples/make_video_clip.py``: a subject with exact alpha swinging over a
panning background, sensor noise, 320x240) is encoded with H.264 at crf 14 twice, in
4:4:4 and in 4:2:0 (what nearly every camera and web video uses), and decoded; the
4:2:0 frames are matted as the decoder gives them (the peer) and after
:func:`trimatte.video.chroma.restore_chroma`. Matting is closed-form with the ground
truth's trimap (3 px band), so only the frames' colour differs between rows.
Per clip: SAD (thousands, whole frame), mean over frames 0, 6, 12 and 18.

    python benchmarks/video_chroma.py [--frames 0,6,12,18] [--clips ...] [--picture PNG]

``--picture`` also saves a close-up of the first AM-2k clip's second frame (the first
clip without ../shared): the frame as decoded and rebuilt, each with its closed-form
alpha and cutout, and the frame before encoding with the exact alpha.

Clips: ``synthetic`` (procedural furry blob, always available) and AM-2k photos from
``../shared`` over foliage (background 20): samples 2, 9 and 10 from the training split,
on which the settings of ``restore_chroma`` were chosen, and 1, 6 and 11, the held-out
photos, reported apart and never tuned on.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "examples"))

from make_video_clip import am2k_layers  # noqa: E402

from trimatte.matting.closed_form import closed_form_alpha  # noqa: E402
from trimatte.trimap.morphology import trimap_from_alpha  # noqa: E402
from trimatte.video import ClipSpec, restore_chroma, synthetic_clip  # noqa: E402
from trimatte.video.writer import X264_REPRODUCIBLE  # noqa: E402

SHARED = REPO.parent / "shared"
TRAINING = ("sample2", "sample9", "sample10")
HELD_OUT = ("sample1", "sample6", "sample11")


def h264_roundtrip(frames: list[np.ndarray], pix_fmt: str, crf: int = 14) -> list[np.ndarray]:
    """Encode uint8 RGB frames with libx264 in ``pix_fmt`` and decode them (float32)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        stream.options = {"crf": str(crf), **X264_REPRODUCIBLE}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as container:
        return [f.to_ndarray(format="rgb24").astype(np.float32) / 255.0
                for f in container.decode(video=0)]


def band_alpha(frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Closed-form alpha of ``frame`` with the 3 px band trimap of the exact ``alpha``."""
    return closed_form_alpha(frame, trimap_from_alpha(alpha, 3))


def close_up(frames: dict[str, np.ndarray], alpha: np.ndarray, path: Path,
             size: tuple[int, int] = (96, 72)) -> None:
    """Save ``label → frame`` rows around the subject's leftmost edge, with their alpha."""
    from trimatte.io import write_image
    from trimatte.visualize import contact_sheet

    rows, cols = np.nonzero(np.abs(alpha - 0.5) < 0.45)
    x = int(cols.min())
    y = int(np.median(rows[cols <= x + 2]))
    h, w = alpha.shape
    left = int(np.clip(x - size[0] // 3, 0, w - size[0]))
    top = int(np.clip(y - size[1] // 2, 0, h - size[1]))
    crop = (slice(top, top + size[1]), slice(left, left + size[0]))
    sheet = []
    for label, frame in frames.items():
        solved = alpha if label.startswith("before") else band_alpha(frame, alpha)
        sheet.append({"image": frame[crop], "alpha": solved[crop]})
    write_image(path, contact_sheet(sheet, row_height=216, labels=list(frames)).astype(
        np.float32) / 255.0)


def picture(clip: tuple, index: int, path: Path) -> bool:
    """:func:`close_up` of frame ``index`` of ``(name, frames8, decoded, alphas)``."""
    name, frames8, decoded, alphas = clip
    close_up({"before encoding (exact alpha)": frames8[index].astype(np.float32) / 255.0,
              "4:2:0 as decoded": decoded[index],
              "4:2:0, colour rebuilt": restore_chroma(decoded[index])}, alphas[index], path)
    print(f"note: close-up of {name}, frame {index} in {path}", file=sys.stderr)
    return True


def score(frames: list[np.ndarray], alphas: list[np.ndarray], picks: list[int]) -> float:
    """Mean SAD (thousands) of closed-form with each frame's 3 px band trimap."""
    sads = []
    for i in picks:
        sads.append(float(np.abs(band_alpha(frames[i], alphas[i]) - alphas[i]).sum()) / 1000.0)
    return float(np.mean(sads))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", default="0,6,12,18", help="frames matted per clip")
    parser.add_argument("--clips", default=",".join(("synthetic", *TRAINING, *HELD_OUT)))
    parser.add_argument("--picture", type=Path, default=None,
                        help="save a close-up of one frame's edge as decoded and rebuilt")
    args = parser.parse_args(argv)
    pictured, fallback = args.picture is None, None
    picks = [int(v) for v in args.frames.split(",")]
    spec = ClipSpec(width=320, height=240, frames=max(picks) + 1, seed=3)
    print("| clip | split | 4:4:4 | 4:2:0 as decoded (peer) | 4:2:0, colour rebuilt | change |")
    print("|---|---|---|---|---|---|")
    for name in [c.strip() for c in args.clips.split(",")]:
        if name == "synthetic":
            layers, split = (None, None, None), "synthetic"
        elif (SHARED / "README.md").is_file():
            layers = am2k_layers(SHARED, sample=name, background=20)
            split = "training" if name in TRAINING else "held-out"
        else:
            print(f"note: {SHARED} is absent; {name} is skipped", file=sys.stderr)
            continue
        clip = list(synthetic_clip(spec, *layers))
        frames8 = [f.image for f in clip]
        alphas = [f.alpha for f in clip]
        full = score(h264_roundtrip(frames8, "yuv444p"), alphas, picks)
        decoded = h264_roundtrip(frames8, "yuv420p")
        plain = score(decoded, alphas, picks)
        sharp = score([restore_chroma(f) for f in decoded], alphas, picks)
        if not pictured and (split != "synthetic" or fallback is None):
            fallback = (name, frames8, decoded, alphas)
            if split != "synthetic":
                pictured = picture(fallback, picks[1 % len(picks)], args.picture)
        print(f"| {name} | {split} | {full:.3f} | {plain:.3f} | {sharp:.3f} | "
              f"{(sharp - plain) / plain * 100:+.0f} % |", flush=True)
    if not pictured and fallback is not None:
        picture(fallback, picks[1 % len(picks)], args.picture)
    print("\nSAD of closed-form with the ground truth's 3 px band trimap (thousands, whole "
          "frame, mean over the frames); only the frames' colour differs between columns.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
