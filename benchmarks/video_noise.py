"""Where the per-frame error on clips without flicker comes from: the frames' noise.

``benchmarks/video.py`` shows that on clips with no second object the temporal mode
lowers dtSSD by only a few per cent: the per-frame errors of consecutive frames hardly
overlap (``rho`` near 0), so dtSSD is about ``sqrt(2)`` times the per-frame error and
only a better per-frame matte lowers it. This script measures what that per-frame
error is made of, on the same kind of clip in three versions:

* ``clean``: the exact composites, no sensor noise, stored losslessly (PNG frames);
* ``noisy``: with the clips' sensor noise (0.02), stored losslessly;
* ``decoded``: with the noise and H.264 crf 14 (4:2:0), what ``benchmarks/video.py``
  mattes (the peer: its ``per-frame`` row).

Each is matted by ``trimatte video``'s default pipeline with independent frames and
with the default temporal mode. Two more rows, per frame, isolate the cause:

* ``decoded trimap, clean alpha``: the trimap drawn on the decoded frame, the alpha
  solved on the clean frame. When it scores like ``clean``, the noise hurts the alpha
  solve, not the trimap.
* ``clean outside mixed pixels``: the clean frame except at the pixels whose exact
  alpha is partial (dilated by 1 px), which keep the decoded values: the best that
  denoising could do if it cannot clean the mixed pixels themselves. Motion-compensated
  (temporal) denoising cannot: a mixed pixel holds the subject and the background,
  which move differently, so no single motion aligns it with other frames.

and one pair of rows tries it, ``mc-denoised``: each decoded frame averaged with its
neighbours up to 2 frames away, warped into it along the optical flow (DIS, as the
temporal mode), each weighted by the flow's trust and by how well its colour agrees
(:func:`mc_denoise`), then matted per frame and in temporal mode.

``out`` and ``in`` are the mean signed alpha error (prediction minus truth) in the
unknown band 1 px outside and 1 px inside the exact alpha's 0.5 contour: a matte
whose edge is too soft is too high outside and too low inside.

    OMP_NUM_THREADS=1 python benchmarks/video_noise.py [--clips sample9:20,sample10:20,synthetic]
        [--frames 16]

Clips as in ``benchmarks/video_triangulation.py``: ``sampleN:B`` is AM-2k photo N over
background photo B of ``../shared`` (training-split photos 2, 9, 10; 20 is foliage;
skipped when ../shared is absent), ``synthetic`` the procedural furry blob (320x240,
seed 3).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "examples"))

from make_video_clip import am2k_layers  # noqa: E402
from video import scored  # noqa: E402

from trimatte.api import build_pipeline, video_trimap_params  # noqa: E402
from trimatte.image import as_image  # noqa: E402
from trimatte.io import read_alpha, write_image  # noqa: E402
from trimatte.video import (  # noqa: E402
    ClipSpec,
    TemporalOptions,
    matte_video,
    open_source,
    synthetic_clip,
)
from trimatte.video import flow as flowlib  # noqa: E402
from trimatte.video.synthetic import write_clip  # noqa: E402

SHARED = REPO.parent / "shared"


def mc_denoise(frames: list[np.ndarray], radius: int = 2, k: float = 3.0) -> list[np.ndarray]:
    """Each frame averaged with its neighbours warped into it along the optical flow.

    A neighbour's weight is the flow's trust (:func:`trimatte.video.flow.flow_confidence`)
    times ``exp(-d^2 / (6 (k s)^2))``, ``d`` its colour distance to the frame and ``s``
    the noise level read off the trusted differences (a robust standard deviation).
    Each flow is computed once and serves both frames of its pair.
    """
    estimator = flowlib.FlowEstimator("dis", "medium")
    grays = [flowlib.prepare_gray(frame) for frame in frames]
    colours = [flowlib.prepare_colour(frame) for frame in frames]
    flows: dict[tuple[int, int], np.ndarray] = {}

    def flow(a: int, b: int) -> np.ndarray:
        if (a, b) not in flows:
            flows[(a, b)] = estimator(grays[a], grays[b])
        return flows[(a, b)]

    denoised = []
    for t, frame in enumerate(frames):
        image = frame.astype(np.float64)
        total, weights = image.copy(), np.ones(image.shape[:2])
        for other in range(max(0, t - radius), min(len(frames), t + radius + 1)):
            if other == t:
                continue
            trust = flowlib.flow_confidence(flow(t, other), flow(other, t), colours[t],
                                            colours[other])
            warped = flowlib.warp(frames[other], flow(t, other)).astype(np.float64)
            difference = warped - image
            trusted = trust > 0.5
            noise = (1.4826 * np.median(np.abs(difference[trusted])) / np.sqrt(2)
                     if trusted.sum() > 100 else 0.02)
            weight = trust * np.exp(-np.square(difference).sum(-1) / (6 * (k * noise) ** 2))
            total += weight[..., None] * warped
            weights += weight
        denoised.append(np.clip(total / weights[..., None], 0, 1).astype(np.float32))
        for key in [key for key in flows if min(key) <= t - radius]:
            del flows[key]  # no later frame reaches back this far
    return denoised


def edge_bias(preds: list[np.ndarray], gts: list[np.ndarray], trimaps: list[np.ndarray]
              ) -> tuple[float, float]:
    """Mean signed error 1 px outside and 1 px inside the exact alpha's 0.5 contour."""
    outside, inside = [], []
    for pred, gt, trimap in zip(preds, gts, trimaps, strict=True):
        solid = (gt > 0.5).astype(np.uint8)
        depth = (cv2.distanceTransform(solid, cv2.DIST_L2, 3)
                 - cv2.distanceTransform(1 - solid, cv2.DIST_L2, 3))
        band = trimap == 128
        error = pred.astype(np.float64) - gt
        for values, level in ((outside, -1), (inside, 1)):
            where = band & (np.rint(depth) == level)
            if where.any():
                values.append(float(error[where].mean()))
    return float(np.mean(outside)), float(np.mean(inside))


def scores(preds: list[np.ndarray], gts: list[np.ndarray], trimaps: list[np.ndarray]) -> dict:
    """``benchmarks/video.py``'s scores (``video_metrics`` and ``rho``) plus :func:`edge_bias`."""
    result = scored(preds, gts)
    result["out"], result["in"] = edge_bias(preds, gts, trimaps)
    return result


def run_video(source: Path, out: Path, frames: int, mode: str, pipeline) -> list[np.ndarray]:
    """Matte ``source`` with ``trimatte video`` and read back its alpha PNGs."""
    matte_video(source, [f"png-alpha:{out}"], pipeline=pipeline, progress=False,
                temporal_options=TemporalOptions(mode=mode))
    return [read_alpha(out / f"frame_{i:06d}.png") for i in range(frames)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default="sample9:20,sample10:20,synthetic")
    parser.add_argument("--frames", type=int, default=16)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # the per-frame "probably wrong" notes are not scored
    pipeline = build_pipeline(composite=None, trimap_params=video_trimap_params("salient"))
    rows: list[tuple[str, str, str, dict]] = []
    started = time.process_time()
    for name in args.clips.split(","):
        if name == "synthetic":
            fg = alpha = bg = None
        elif (SHARED / "README.md").is_file():
            sample, background = name.split(":")
            fg, alpha, bg = am2k_layers(SHARED, sample, int(background))
        else:
            print(f"note: {SHARED} is absent; {name} is skipped")
            continue
        spec = ClipSpec(width=320, height=240, frames=args.frames, seed=3)
        noisy_frames = list(synthetic_clip(spec, fg, alpha, bg))
        gts = [f.alpha for f in noisy_frames]
        clean = [f.image for f in synthetic_clip(dataclasses.replace(spec, noise=0.0),
                                                 fg, alpha, bg)]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            sources = {"clean": work / "clean", "noisy": work / "noisy"}
            for label, images in (("clean", clean), ("noisy", [f.image for f in noisy_frames])):
                sources[label].mkdir()
                for index, image in enumerate(images):
                    write_image(sources[label] / f"frame_{index:06d}.png", image)
            sources["decoded"] = write_clip(work / "decoded.mp4", (f.image for f in noisy_frames),
                                            fps=25, tone_hz=None, crf=14)
            with open_source(sources["decoded"]) as reader:
                decoded = [frame.image for frame in reader]
            sources["mc-denoised"] = work / "denoised"
            sources["mc-denoised"].mkdir()
            for index, image in enumerate(mc_denoise(decoded)):
                write_image(sources["mc-denoised"] / f"frame_{index:06d}.png", image)
            # the per-frame trimaps of the decoded frames (the rows below reuse them)
            trimaps = [pipeline(image).trimap for image in decoded]
            for label, source in sources.items():
                for mode in ("off", "flow"):
                    preds = run_video(source, work / f"{label}_{mode}", len(gts), mode,
                                      pipeline)
                    rows.append((name, label, "per-frame" if mode == "off" else mode,
                                 scores(preds, gts, trimaps)))
            clean_float = [as_image(image) for image in clean]
            preds = [pipeline(image, trimap=trimap).alpha
                     for image, trimap in zip(clean_float, trimaps, strict=True)]
            rows.append((name, "decoded trimap, clean alpha", "per-frame",
                         scores(preds, gts, trimaps)))
            hybrid = []
            for image, noisy_image, gt in zip(clean_float, decoded, gts, strict=True):
                mixed = cv2.dilate(((gt > 0.002) & (gt < 0.998)).astype(np.uint8),
                                   np.ones((3, 3), np.uint8)) > 0
                hybrid.append(np.where(mixed[..., None], noisy_image, image))
            preds = [pipeline(image).alpha for image in hybrid]
            rows.append((name, "clean outside mixed pixels", "per-frame",
                         scores(preds, gts, trimaps)))
        print(f"done: {name}", file=sys.stderr)
    print(f"\n{args.frames} frames at 320x240, default pipeline of `trimatte video` "
          f"(salient + guided); {time.process_time() - started:.0f} CPU s in all\n")
    header = ("| clip | input | mode | SAD | MSE | dtSSD | rho | out | in | SAD vs decoded "
              "per-frame | dtSSD vs decoded per-frame | dtSSD vs same frames per-frame |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for clip_name, label, mode, s in rows:
        peer = next(r[3] for r in rows if r[0] == clip_name and r[1] == "decoded"
                    and r[2] == "per-frame")
        own = next((r[3] for r in rows if r[0] == clip_name and r[1] == label
                    and r[2] == "per-frame"), s)
        same = "" if own is s else f"{(s['dtSSD'] / own['dtSSD'] - 1) * 100:+.1f} %"
        print(f"| {clip_name} | {label} | {mode} | {s['SAD']:.3f} | {s['MSE']:.5f} | "
              f"{s['dtSSD']:.2f} | {s['rho']:.2f} | {s['out']:+.3f} | {s['in']:+.3f} | "
              f"{s['SAD'] / peer['SAD']:.2f}x | {(s['dtSSD'] / peer['dtSSD'] - 1) * 100:+.1f} % "
              f"| {same} |")
    print("\nSAD (thousands) and MSE per frame over the whole frame, dtSSD mean over frame "
          "pairs; rho: correlation of consecutive frames' errors at fixed pixels; out / in: "
          "mean signed error 1 px outside / inside the exact 0.5 contour, in the decoded "
          "frames' unknown band.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
