"""Temporal coherence of ``trimatte video``: independent frames vs temporal mode.

For each generated clip (exact ground truth, see ``examples/make_video_clip.py``) and
each pipeline, the clip is matted twice through :func:`trimatte.video.matte_video`,
once with ``--temporal off`` (every frame on its own) and once with the temporal
mode, and the alpha PNG sequences are scored against the ground truth:

* SAD and MSE per frame over the whole frame (mean over frames),
* dtSSD and MESSDdt (Erofeev et al. 2015, see ``trimatte.metrics``) over frame pairs,
* frames per second of the whole run (decode, pipeline, flow, smoothing, PNG writing).

A third row per pipeline, ``oracle``, smooths the per-frame mattes with the subject's
*exact* motion (known for a generated clip) over the same radius: the most that any
motion-compensated temporal filter could gain on that clip. When it gains little, the
per-frame errors move with the subject (they are systematic, not flicker), and dtSSD,
which compares alpha changes at fixed pixels, cannot drop much by smoothing.

    python benchmarks/video.py [--frames 24] [--size 320x240] [--quick] [--radius 2]

Clips: ``synthetic`` (a furry procedural subject over a textured background, always
available; noise 0.02, H.264 crf 14), ``noisy`` (the same with noise 0.05 and crf 28,
like low light and web compression) and ``am2k`` (an AM-2k photo and its human-made
alpha over a panning background from ../shared; skipped when ../shared is absent).
Pipelines: the default (salient trimap + closed-form + multi-level foreground), the
fastest (salient trimap + GrabCut hard mask), and a keyframe run (ground-truth trimap
of frame 0 propagated along the flow + closed-form).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "examples"))

from make_video_clip import am2k_layers  # noqa: E402

from trimatte.api import build_pipeline  # noqa: E402
from trimatte.io import read_alpha  # noqa: E402
from trimatte.metrics import video_metrics  # noqa: E402
from trimatte.trimap.morphology import trimap_from_alpha  # noqa: E402
from trimatte.video import ClipSpec, TemporalOptions, matte_video, synthetic_clip  # noqa: E402
from trimatte.video.synthetic import subject_warp, write_clip  # noqa: E402

SHARED = REPO.parent / "shared"


def pipelines(gt0: np.ndarray) -> dict[str, tuple]:
    """name → (pipeline, keyframes)."""
    band = max(2, round(0.012 * max(gt0.shape)))
    return {
        "default (salient + closed-form)": (build_pipeline(composite=None), None),
        "fastest (salient + grabcut-hard)": (
            build_pipeline(matting="grabcut-hard", foreground=None, composite=None), None),
        "keyframe 0 + closed-form": (
            build_pipeline(trimap_method="given", foreground=None, composite=None),
            {0: trimap_from_alpha(gt0, band)}),
    }


def run(clip: Path, gts: list[np.ndarray], pipeline, keyframes, options: TemporalOptions,
        workdir: Path) -> tuple[dict, list[np.ndarray]]:
    out = workdir / f"alpha_{options.mode}_{os.getpid()}_{id(pipeline)}"
    report = matte_video(clip, [f"png-alpha:{out}"], pipeline=pipeline, keyframes=keyframes,
                         temporal_options=options, progress=False)
    preds = [read_alpha(out / f"frame_{i:06d}.png") for i in range(len(gts))]
    scores = video_metrics(preds, gts)
    scores["fps"] = report.fps
    scores["empty"] = len(report.empty_frames)
    return scores, preds


def oracle(preds: list[np.ndarray], gts: list[np.ndarray], spec: ClipSpec, layer: int,
           radius: int) -> dict:
    """Per-frame mattes averaged over +-radius frames warped with the exact motion."""
    smoothed = []
    for t in range(len(preds)):
        stack = [preds[t]] + [subject_warp(spec, layer, preds[t + k], t + k, t)
                              for k in range(-radius, radius + 1)
                              if k and 0 <= t + k < len(preds)]
        smoothed.append(np.clip(np.mean(stack, axis=0), 0, 1).astype(np.float32))
    scores = video_metrics(smoothed, gts)
    scores["fps"] = float("nan")
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="320x240", help="WxH of the clips")
    parser.add_argument("--radius", type=int, default=2, help="temporal radius (flow mode)")
    parser.add_argument("--mode", default="flow", choices=("flow", "ofd"))
    parser.add_argument("--quick", action="store_true", help="16 frames, synthetic clip only")
    parser.add_argument("--clips", default="synthetic,noisy,am2k",
                        help="comma-separated clips among synthetic, noisy, am2k")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    frames = 16 if args.quick else args.frames
    specs = {"synthetic": ClipSpec(width=width, height=height, frames=frames, seed=3),
             "noisy": ClipSpec(width=width, height=height, frames=frames, seed=3, noise=0.05)}
    crfs = {"synthetic": 14, "noisy": 28, "am2k": 14}
    wanted = ["synthetic"] if args.quick else [c.strip() for c in args.clips.split(",")]
    clips = {name: (None, None, None) for name in ("synthetic", "noisy") if name in wanted}
    if "am2k" in wanted and (SHARED / "README.md").is_file():
        clips["am2k"] = am2k_layers(SHARED)
    elif "am2k" in wanted:
        print(f"note: {SHARED} is absent; the AM-2k clip is skipped")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for clip_name, (fg, alpha, bg) in clips.items():
            spec = specs.get(clip_name, specs["synthetic"])
            clip_frames = list(synthetic_clip(spec, fg, alpha, bg))
            layer = 256 if fg is None else max(fg.shape[:2])
            gts = [f.alpha for f in clip_frames]
            clip = write_clip(workdir / f"{clip_name}.mp4", (f.image for f in clip_frames),
                              fps=25, tone_hz=None, crf=crfs[clip_name])
            for name, (pipeline, keys) in pipelines(gts[0]).items():
                off, preds = run(clip, gts, pipeline, keys, TemporalOptions(mode="off"),
                                 workdir)
                on, _ = run(clip, gts, pipeline, keys,
                            TemporalOptions(mode=args.mode, radius=args.radius), workdir)
                best = oracle(preds, gts, spec, layer, args.radius)
                rows.append((clip_name, name, off, on, best))
                print(f"done: {clip_name} / {name}", file=sys.stderr)
    header = (f"{'clip':<10} {'pipeline':<34} {'mode':<9} {'SAD':>8} {'MSE':>9} {'dtSSD':>8} "
              f"{'MESSDdt':>9} {'fps':>6}   dtSSD change  SAD ratio")
    print(f"\n{frames} frames at {width}x{height}, temporal mode '{args.mode}' radius "
          f"{args.radius}\n")
    print(header)
    print("-" * len(header))
    for clip_name, name, off, on, best in rows:
        for label, s in (("per-frame", off), (args.mode, on), ("oracle", best)):
            extra = ""
            if s is not off:
                change = (s["dtSSD"] - off["dtSSD"]) / off["dtSSD"] * 100
                extra = f"   {change:+8.1f} %    {s['SAD'] / off['SAD']:8.3f}"
            print(f"{clip_name:<10} {name:<34} {label:<9} {s['SAD']:8.3f} {s['MSE']:9.5f} "
                  f"{s['dtSSD']:8.3f} {s['MESSDdt']:9.3f} {s['fps']:6.2f}{extra}")
    print("\nSAD/MSE per frame over the whole frame; dtSSD/MESSDdt mean over frame pairs "
          "(trimatte.metrics); fps of the whole run; oracle: per-frame mattes smoothed with "
          "the exact motion (an upper bound for motion-compensated smoothing).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
