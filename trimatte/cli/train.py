"""``trimatte train CONFIG.yaml``: run one stage of the DIM training recipe.

Examples::

    trimatte train configs/shared_encoder_decoder.yaml --out /work/runs/ed
    trimatte train configs/shared_encoder_decoder.yaml --out /work/runs/ed --resume
    torchrun --nproc_per_node=2 -m trimatte.cli.main train CONFIG.yaml --out DIR

The run folder receives the config (with absolute paths), ``log.csv``, ``val.csv``,
``checkpoints/last.pt`` (resumable), ``model.pth`` and ``curves.png``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from trimatte.errors import TrimatteError

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``train`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        "train",
        help="train a matting or trimap network from a YAML config",
        description=(
            "Train one stage (encoder-decoder, refinement, finetune or trimap) from a "
            "YAML config. Works unchanged under torchrun for multi-process training."
        ),
    )
    parser.add_argument("config", type=Path, help="YAML config of the run (see configs/)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder (default: runs/<config name>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from <out>/checkpoints/last.pt")
    parser.add_argument("--max-steps", type=int, default=None, metavar="N",
                        help="stop after global step N (with a checkpoint); the schedule "
                             "still follows optim.steps")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="override optim.steps")
    parser.add_argument("--init-from", type=Path, default=None, metavar="CKPT",
                        help="override model.init_from (checkpoint of the previous stage)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads per process (override run.threads)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the ``train`` sub-command; returns the process exit code."""
    from trimatte.training.config import TrainConfig
    from trimatte.training.trainer import config_with, train

    try:
        config = TrainConfig.load(args.config)
        if args.steps is not None:
            config = config_with(config, optim={"steps": args.steps})
        if args.init_from is not None:
            config = config_with(config, model={"init_from": str(args.init_from.resolve())})
        if args.threads is not None:
            config = config_with(config, run={"threads": args.threads})
        out = args.out if args.out is not None else Path("runs") / args.config.stem
        if args.max_steps is not None and args.max_steps < 1:
            print("trimatte train: --max-steps must be >= 1", file=sys.stderr)
            return 2
        result = train(config, out, resume=args.resume, max_steps=args.max_steps,
                       progress=not args.no_progress)
    except TrimatteError as exc:
        print(f"trimatte train: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trimatte train: interrupted; resume with --resume", file=sys.stderr)
        return 130
    if result.validation:
        last = result.validation[-1]
        shown = ", ".join(f"{k} {v:.4g}" for k, v in last.items() if k != "step")
        print(f"step {result.step}: {shown}")
    print(f"run folder: {result.out_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``train`` on its own (``python -m trimatte.cli.train CONFIG``)."""
    parser = argparse.ArgumentParser(prog="trimatte")
    subparsers = parser.add_subparsers(dest="command")
    add_parser(subparsers)
    args = parser.parse_args(["train", *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.WARNING)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
