"""Ceiling of multi-frame triangulation matting on generated clips (a negative result).

A matte whose error moves with the subject cannot be improved by smoothing alpha along
the motion (``benchmarks/video.py``'s ``oracle`` row). The one thing other frames add
is the background: behind a fixed point of a moving subject it changes from frame to
frame, and with the background known (a clean plate) the compositing equation
``C_k = g_k P + (1 - alpha) B_k`` (``P = alpha F``, ``g_k`` the lighting gain) over
frames ``k`` is over-determined, so alpha can be solved point by point (triangulation
matting, Smith and Blinn 1996, with the subject's motion instead of a second shot).

This script measures the *best case* of that idea: the subject's **exact** motion, the
**exact** noise-free plate and gain of every frame, and the **exact** alpha outside the
band where the ground truth is partial (dilated by 3 px); only the band is solved, from
frames ``t - R .. t + R`` carried into frame ``t`` along the exact motion. Eliminating
``P`` leaves one unknown per pixel::

    alpha = -sum_c <D'_c, B'_c> / sum_c |B'_c|^2

with ``D = C - B`` and ``'`` the component orthogonal to the gains over the frames. It
is run on the frames before noise (``clean``), with sensor noise (``noisy``) and as
decoded from H.264 crf 14 (``decoded``, what a method gets), against the default
pipeline's independent frames on the decoded clip.

    OMP_NUM_THREADS=1 python benchmarks/video_triangulation.py [--clips sample9:20,synthetic]
        [--frames 16] [--radii 1,2,4] [--self-check]

``--self-check`` only solves exact float composites of the synthetic subject (no noise,
no rounding, no codec): with its alpha blurred the mean error in the band is under
0.01, so the solver is right and what the table shows comes from the frames.

Clips are made like ``benchmarks/video.py``'s (320x240, seed 3): ``sampleN:B`` is AM-2k
photo N over background photo B of ``../shared`` (use training-split photos: 2, 9, 10;
20 is foliage), ``synthetic`` the procedural furry blob.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "examples"))

from make_video_clip import am2k_layers  # noqa: E402

from trimatte.api import build_pipeline, video_trimap_params  # noqa: E402
from trimatte.io import read_alpha  # noqa: E402
from trimatte.metrics import video_metrics  # noqa: E402
from trimatte.video import (  # noqa: E402
    ClipSpec,
    TemporalOptions,
    matte_video,
    open_source,
    restore_chroma,
    synthetic_clip,
)
from trimatte.video.synthetic import subject_warp, write_clip  # noqa: E402

SHARED = REPO.parent / "shared"


def triangulate(frames: np.ndarray, plates: np.ndarray, gains: np.ndarray, gts: np.ndarray,
                spec: ClipSpec, layer: int, radius: int) -> list[np.ndarray]:
    """Alpha of each frame solved in the band from ``2 radius + 1`` frames (exact motion).

    Args:
        frames: float32 ``(T, H, W, 3)`` observed frames.
        plates: float32 ``(T, H, W, 3)`` exact background of each frame (lit).
        gains: float32 ``(T,)`` lighting gain of each frame.
        gts: float32 ``(T, H, W)`` exact alpha (used outside the band only).
        spec, layer: The clip's spec and subject layer size (for the exact motion).
        radius: Frames on each side.

    Returns:
        float32 ``(H, W)`` alphas, one per frame.
    """
    count, height, width = gts.shape
    ones = np.ones((height, width), np.float32)
    out = []
    for t in range(count):
        ks = [k for k in range(t - radius, t + radius + 1) if 0 <= k < count]
        seen = np.stack([subject_warp(spec, layer, ones, k, t) for k in ks]) > 0.999
        c = np.stack([subject_warp(spec, layer, frames[k], k, t) for k in ks]) * seen[..., None]
        b = np.stack([subject_warp(spec, layer, plates[k], k, t) for k in ks]) * seen[..., None]
        g = gains[ks][:, None, None, None] * seen[..., None]
        u = g / np.maximum(np.sqrt((g ** 2).sum(0, keepdims=True)), 1e-6)
        d = c - b
        d_perp = d - u * (u * d).sum(0, keepdims=True)
        b_perp = b - u * (u * b).sum(0, keepdims=True)
        solved = -(d_perp * b_perp).sum((0, 3)) / np.maximum((b_perp ** 2).sum((0, 3)), 1e-8)
        partial = ((gts[t] > 0.01) & (gts[t] < 0.99)).astype(np.uint8)
        band = cv2.dilate(partial, np.ones((7, 7), np.uint8)) > 0
        out.append(np.where(band, np.clip(solved, 0.0, 1.0), gts[t]).astype(np.float32))
    return out


def self_check(frames: int = 9) -> None:
    """Print the solver's error on exact float composites (no noise, no 8-bit, no codec).

    With the synthetic subject's alpha blurred (no sub-pixel strands) the only error left
    is the resampling along the motion, and the solver should recover alpha closely;
    with its strands the same resampling already costs much more.
    """
    from trimatte.video.synthetic import _subject_transform, synthetic_foreground

    spec = ClipSpec(width=320, height=240, frames=frames, seed=3, noise=0.0)
    colours, strands = synthetic_foreground(256, seed=3)
    plates = np.stack([f.image for f in synthetic_clip(
        dataclasses.replace(spec, absent=(0, frames)))]).astype(np.float32) / 255
    steps = np.arange(frames) / max(frames - 1, 1)
    gains = (spec.gain_start + (spec.gain_end - spec.gain_start) * steps).astype(np.float32)
    middle = frames // 2
    for name, layer_alpha in (("strands", strands),
                              ("blurred", cv2.GaussianBlur(strands, (0, 0), 2.0))):
        moves = [_subject_transform(spec, k, 256) for k in range(frames)]
        gts = np.stack([np.clip(cv2.warpAffine(layer_alpha, m, (320, 240)), 0, 1)
                        for m in moves])
        fgs = np.stack([cv2.warpAffine(colours, m, (320, 240), borderMode=cv2.BORDER_REPLICATE)
                        for m in moves])
        composites = (gts[..., None] * fgs * gains[:, None, None, None]
                      + (1 - gts[..., None]) * plates)
        solved = triangulate(composites, plates, gains, gts, spec, 256, middle)[middle]
        band = (gts[middle] > 0.01) & (gts[middle] < 0.99)
        error = np.abs(solved - gts[middle])[band]
        print(f"self-check, {name} alpha, exact float composites, radius {middle}: "
              f"mean |alpha error| {error.mean():.4f} over {int(band.sum())} band pixels")


def layers(name: str) -> tuple:
    if name == "synthetic":
        return None, None, None
    sample, background = name.split(":")
    return am2k_layers(SHARED, sample=sample, background=int(background))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", default="sample9:20,synthetic")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--radii", default="1,2,4")
    parser.add_argument("--self-check", action="store_true",
                        help="only check the solver on exact float composites")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.self_check:
        self_check()
        return
    radii = [int(r) for r in args.radii.split(",")]
    rows = []
    for name in args.clips.split(","):
        if name != "synthetic" and not SHARED.is_dir():
            print(f"skipped {name}: ../shared is absent", file=sys.stderr)
            continue
        fg, alpha, bg = layers(name)
        spec = ClipSpec(width=320, height=240, frames=args.frames, seed=3)
        layer = 256 if fg is None else max(np.asarray(fg).shape[:2])
        clip = list(synthetic_clip(spec, fg, alpha, bg))
        gts = np.stack([f.alpha for f in clip])
        noisy = np.stack([f.image for f in clip]).astype(np.float32) / 255
        clean = np.stack([f.image for f in synthetic_clip(
            dataclasses.replace(spec, noise=0.0), fg, alpha, bg)]).astype(np.float32) / 255
        plates = np.stack([f.image for f in synthetic_clip(
            dataclasses.replace(spec, noise=0.0, absent=(0, args.frames)), fg, alpha, bg)])
        plates = plates.astype(np.float32) / 255
        steps = np.arange(args.frames) / max(args.frames - 1, 1)
        gains = (spec.gain_start + (spec.gain_end - spec.gain_start) * steps).astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            path = write_clip(Path(tmp) / "clip.mp4", (f.image for f in clip), tone_hz=None,
                              crf=14)
            with open_source(path) as source:
                decoded = np.stack([restore_chroma(f.image) for f in source])
            pipeline = build_pipeline(composite=None,
                                      trimap_params=video_trimap_params("salient"))
            matte_video(path, [f"png-alpha:{tmp}/a"], pipeline=pipeline, progress=False,
                        temporal_options=TemporalOptions(mode="off"))
            per_frame = [read_alpha(Path(tmp) / "a" / f"frame_{i:06d}.png")
                         for i in range(args.frames)]
        base = video_metrics(per_frame, list(gts))
        rows.append((name, "default pipeline, independent frames", "decoded", base, base))
        for kind, frames in (("clean", clean), ("noisy", noisy), ("decoded", decoded)):
            for radius in radii:
                scores = video_metrics(
                    triangulate(frames, plates, gains, gts, spec, layer, radius), list(gts))
                rows.append((name, f"triangulation, radius {radius}", kind, scores, base))
        print(f"done: {name}", file=sys.stderr)
    print(f"\n{args.frames} frames at 320x240; triangulation with exact motion, plate and "
          "gain, exact alpha outside the band\n")
    print("| clip | method | frames | SAD | dtSSD | SAD ratio | dtSSD change |")
    print("|---|---|---|---|---|---|---|")
    for name, method, kind, s, base in rows:
        print(f"| {name} | {method} | {kind} | {s['SAD']:.3f} | {s['dtSSD']:.2f} | "
              f"{s['SAD'] / base['SAD']:.3f} | {100 * (s['dtSSD'] / base['dtSSD'] - 1):+.1f} % |")


if __name__ == "__main__":
    main()
