"""Reproduce Deep Image Matting's three-stage schedule on AISegment — for real, in minutes.

With ``--root`` pointing at the AISegment "Matting Human Datasets" folder (holding
``clip_img/`` and ``matting/``) and ``--backgrounds`` at a folder of background photos,
this trains DIM's encoder-decoder, then the refinement CNN with the encoder-decoder
frozen, then fine-tunes both, exactly as ``configs/aisegment_*.yaml`` describe (use
those configs with ``trimatte train`` for the full GPU-sized run; see
docs/training.md).

Without ``--root`` it first writes a small synthetic dataset in the AISegment layout
and runs the same three stages with a tiny network, so the whole recipe can be seen
working on a laptop CPU in about a minute::

    python examples/reproduce_dim_aisegment.py --out runs/dim-demo
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np
import yaml

from trimatte.data.folders import make_synthetic_folders
from trimatte.io import read_alpha, read_image
from trimatte.training.config import TrainConfig
from trimatte.training.trainer import train

REPO = Path(__file__).resolve().parents[1]
STAGES = ("encoder_decoder", "refinement", "finetune")


def write_aisegment_fixture(root: Path, count: int = 16, size: int = 96) -> Path:
    """Synthetic portraits laid out as AISegment: JPEG photos + RGBA matting PNGs."""
    source = root / "_source"
    images, alphas, backgrounds = make_synthetic_folders(source, count=count, size=size)
    for i, image_path in enumerate(sorted(images.iterdir())):
        session = f"18031518{i % 2:02d}"
        clip = root / "clip_img" / session / f"clip_{session}"
        matting = root / "matting" / session / f"matting_{session}"
        clip.mkdir(parents=True, exist_ok=True)
        matting.mkdir(parents=True, exist_ok=True)
        rgb = (read_image(image_path) * 255).round().astype(np.uint8)
        alpha = (read_alpha(alphas / f"{image_path.stem}.png") * 255).round().astype(np.uint8)
        cv2.imwrite(str(clip / f"{image_path.stem}.jpg"), rgb[..., ::-1])
        cv2.imwrite(str(matting / f"{image_path.stem}.png"), np.dstack([rgb[..., ::-1], alpha]))
    return backgrounds


def stage_config(stage: str, args, previous: Path | None, demo: bool) -> TrainConfig:
    raw = yaml.safe_load((REPO / "configs" / f"aisegment_{stage}.yaml").read_text())
    raw["data"].update(root=str(args.root), background_dir=str(args.backgrounds))
    raw["model"].pop("encoder_init", None)
    if previous is not None:
        raw["model"]["init_from"] = str(previous)
    if demo:  # a network and schedule sized for a CPU minute
        raw["model"].update(encoder="tu-resnet10t", encoder_depth=3,
                            decoder_channels=[32, 16, 8], refine_channels=16, freeze_bn="all")
        raw["data"].update(out_size=64, crop_sizes=[48, 64, 80], trimap_radius=[1, 4],
                           val_count=4, max_side=None, val_max_side=None, val_band=3,
                           num_workers=0)
        lr = 1e-3 if stage == "finetune" else 3e-3
        raw["optim"].update(batch_size=4, steps=args.steps, warmup_steps=0, lr=lr)
        raw["run"].update(checkpoint_every=10, val_every=max(1, args.steps // 3), threads=2)
    return TrainConfig.from_dict(raw, source=f"aisegment_{stage}.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="AISegment folder (default: a synthetic one)")
    parser.add_argument("--backgrounds", type=Path, help="background photos")
    parser.add_argument("--out", type=Path, default=Path("runs/dim-demo"))
    parser.add_argument("--steps", type=int, default=30, help="steps per stage (demo only)")
    args = parser.parse_args()

    demo = args.root is None
    if demo:
        args.root = args.out / "aisegment-fixture"
        args.backgrounds = write_aisegment_fixture(args.root)
        print(f"wrote a synthetic AISegment-layout dataset to {args.root}")
    elif args.backgrounds is None:
        parser.error("--backgrounds is required with --root")

    previous = None
    for stage in STAGES:
        out = args.out / stage
        resume = (out / "checkpoints" / "last.pt").is_file()
        result = train(stage_config(stage, args, previous, demo), out, resume=resume)
        previous = result.model_path
        with open(out / "val.csv") as handle:
            rows = list(csv.DictReader(handle))
        sads = " → ".join(f"{float(r['SAD']):.3f}" for r in rows)
        print(f"{stage:16s} validation SAD {sads}   (curves: {out / 'curves.png'})")
    print(f"final model: {previous}; use it with: trimatte matte IMAGE -o OUT --matting dim "
          f"--matting-param weights={previous}")


if __name__ == "__main__":
    main()
