"""``trimatte eval``: SAD / MSE / Grad / Conn of a matting method (or saved predictions)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from trimatte.api import DEFAULT_MATTING, build_pipeline
from trimatte.cli.common import report
from trimatte.cli.matte import parse_params
from trimatte.errors import InputError, TrimatteError
from trimatte.evaluation import (
    EvalSample,
    evaluate,
    find_prediction,
    format_table,
    pair_samples,
    quantize_8bit,
    write_json,
)
from trimatte.io import read_alpha, read_image, read_trimap, write_alpha
from trimatte.pipeline import Pipeline


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score a matting method against ground-truth alphas",
        description=(
            "Run a matting method on every image with its trimap (or read saved predictions "
            "with --pred) and print SAD, MSE, Grad and Conn as defined by the Deep Image "
            "Matting evaluation code (unknown trimap pixels only), with seconds per image."
        ),
    )
    p.add_argument("--images", required=True, metavar="DIR", help="input images (X.jpg/png)")
    p.add_argument("--alphas", required=True, metavar="DIR", help="ground-truth alphas X.png")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--trimaps", metavar="DIR", help="trimaps X.png (0/128/255)")
    group.add_argument(
        "--trimap-band",
        type=int,
        metavar="PX",
        help="make each trimap from the ground-truth alpha with this band (DIM protocol)",
    )
    p.add_argument("--matting", default=DEFAULT_MATTING, help="alpha stage to evaluate")
    p.add_argument("--matting-param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--pipeline", metavar="CONFIG", help="evaluate this pipeline (trimap sources skipped)"
    )
    p.add_argument("--pred", metavar="DIR", help="evaluate saved predictions X.png / X_alpha.png")
    p.add_argument("--save-pred", metavar="DIR", help="also write each prediction as X.png")
    p.add_argument("--json", metavar="FILE", help="write per-image and mean metrics as JSON")
    p.add_argument(
        "--no-quantize",
        action="store_true",
        help="score float predictions as they are (default: rounded to 8 bits like a PNG)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        trimaps = args.trimaps
        samples, problems = pair_samples(args.images, args.alphas, trimaps)
        pipeline = None
        if args.pred is None:
            pipeline = (
                Pipeline.load(args.pipeline)
                if args.pipeline
                else build_pipeline(
                    trimap_method="given",
                    matting=args.matting,
                    foreground=None,
                    composite=None,
                    matting_params=parse_params(args.matting_param, "--matting-param"),
                )
            )
    except TrimatteError as exc:
        report(str(exc))
        return 2
    for message in problems:
        report(message)

    def trimap_of(sample: EvalSample, gt):
        if sample.trimap is not None:
            trimap = read_trimap(sample.trimap)
        else:
            from trimatte.trimap.morphology import trimap_from_alpha

            trimap = trimap_from_alpha(gt, band=args.trimap_band)
        if trimap.shape != gt.shape:
            raise InputError(
                f"trimap is {trimap.shape[1]}x{trimap.shape[0]}, alpha is "
                f"{gt.shape[1]}x{gt.shape[0]} (WxH)",
                sample.trimap,
            )
        return trimap

    def predict(sample: EvalSample):
        gt = read_alpha(sample.alpha)
        trimap = trimap_of(sample, gt)
        if args.pred is not None:
            found = find_prediction(args.pred, sample.name)
            if found is None:
                raise InputError(f"no prediction {sample.name}.png in {args.pred}", sample.image)
            pred, seconds = read_alpha(found), float("nan")
        else:
            image = read_image(sample.image)
            if image.shape[:2] != gt.shape:
                raise InputError("image and alpha differ in size", sample.image)
            start = time.perf_counter()
            pred = pipeline(image, trimap).alpha
            seconds = time.perf_counter() - start
            if args.save_pred:
                write_alpha(Path(args.save_pred) / f"{sample.name}.png", pred)
        if pred.shape != gt.shape:
            raise InputError("prediction and alpha differ in size", sample.name)
        if not args.no_quantize:
            pred = quantize_8bit(pred)
        return pred, gt, trimap, seconds

    failures: list[str] = []

    def on_error(message: str) -> None:
        failures.append(message)
        report(message)

    records = evaluate(samples, predict, on_error=on_error)
    if not records:
        report("no image could be evaluated")
        return 1
    method = f"predictions in {args.pred}" if args.pred else (args.pipeline or args.matting)
    print(format_table(records, title=f"method: {method}"))
    if args.json:
        write_json(
            args.json,
            records,
            {
                "method": method,
                "images": str(args.images),
                "trimaps": str(args.trimaps) if args.trimaps else f"band {args.trimap_band}",
                "quantized_8bit": not args.no_quantize,
                "failed": failures,
            },
        )
    return 1 if failures or problems else 0
