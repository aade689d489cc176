"""``trimatte eval``: SAD / MSE / Grad / Conn of a matting method (or saved predictions)."""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from trimatte.api import DEFAULT_MATTING, build_pipeline
from trimatte.cli.common import (
    CONFIG_ERRORS,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    describe_error,
    one_line_warnings,
    report,
    warn,
)
from trimatte.cli.outputs import (
    InputSet,
    check_file_target,
    check_folder,
    is_own_output,
    record_outputs,
)
from trimatte.errors import InputError, TrimatteError, TrimatteWarning
from trimatte.evaluation import (
    EvalSample,
    evaluate,
    find_prediction,
    format_table,
    pair_samples,
    quantize_8bit,
    write_json,
)
from trimatte.io import (
    list_images,
    read_alpha,
    read_image,
    read_trimap,
    remove_stale_temp_files,
    write_alpha,
)
from trimatte.params import parse_params
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
    group.add_argument(
        "--trimaps", metavar="DIR", help="trimaps X_trimap.png or X.png (0/128/255)"
    )
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


def make_pipeline(args: argparse.Namespace) -> Pipeline:
    """The pipeline under evaluation (given trimap → alpha), built before any image is read.

    Raises:
        InputError, TypeError, ValueError: A bad stage, parameter or config.
    """
    if not args.pipeline:
        return build_pipeline(
            trimap_method="given",
            matting=args.matting,
            foreground=None,
            composite=None,
            matting_params=parse_params(args.matting_param, "--matting-param"),
        )
    pipeline = Pipeline.load(args.pipeline)
    if not any(stage.role == "alpha" for stage in pipeline.stages):
        raise InputError(
            "the pipeline has no alpha stage (e.g. closed-form, dim); add one", args.pipeline
        )
    return pipeline


def check_targets(args: argparse.Namespace, samples: list[EvalSample]) -> list[Path]:
    """Check ``--json`` and ``--save-pred`` before any work; returns the folders written into.

    Raises:
        InputError: A target that cannot be written or would replace an input.
    """
    inputs = InputSet([args.pipeline])
    for sample in samples:
        inputs.add(sample.image)
        inputs.add(sample.alpha)
        if sample.trimap is not None:
            inputs.add(sample.trimap)
        if args.pred is not None:
            found = find_prediction(args.pred, sample.name)
            if found is not None:
                inputs.add(found)
    folders = []
    if args.json:
        check_file_target(Path(args.json), "--json", inputs)
        folders.append(Path(args.json).parent)
    if args.save_pred and args.pred is None:
        folder = Path(args.save_pred)
        check_folder(folder, "--save-pred folder")
        for sample in samples:
            target = folder / f"{sample.name}.png"
            if target.is_dir():
                raise InputError("--save-pred would write here, but it is a folder", target)
            clash = inputs.find(target)
            if clash is not None:
                raise InputError(
                    f"--save-pred would overwrite the input {clash}; choose another folder",
                    target,
                )
        folders.append(folder)
    return folders


def run(args: argparse.Namespace) -> int:
    try:
        with one_line_warnings():
            pipeline = None if args.pred is not None else make_pipeline(args)
        if args.pred is not None:
            list_images(args.pred)  # "folder not found" now, not once per image
        samples, problems = pair_samples(
            args.images, args.alphas, args.trimaps, skip=is_own_output
        )
        folders = check_targets(args, samples)
    except CONFIG_ERRORS as exc:
        report(describe_error(exc))
        return EXIT_USAGE
    for message in problems:
        report(message)
    for folder in folders:
        remove_stale_temp_files(folder)
    if args.save_pred and pipeline is not None:
        record_outputs([Path(args.save_pred) / f"{s.name}.png" for s in samples])

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
            try:
                pred = pipeline(image, trimap).alpha
            except InputError as exc:
                if sample.trimap is not None and exc.source == "trimap":
                    raise type(exc)(exc.reason, sample.trimap) from None
                raise
            seconds = time.perf_counter() - start
            if args.save_pred:
                target = Path(args.save_pred) / f"{sample.name}.png"
                try:
                    write_alpha(target, pred)
                except OSError as exc:
                    raise InputError(f"cannot write ({exc.strerror or exc})", target) from None
        if pred.shape != gt.shape:
            raise InputError("prediction and alpha differ in size", sample.name)
        if not args.no_quantize:
            pred = quantize_8bit(pred)
        return pred, gt, trimap, seconds

    def guarded(sample: EvalSample):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrimatteWarning)
            try:
                return predict(sample)
            except TrimatteError:
                raise
            except Exception as exc:  # one bad image must not stop the evaluation
                raise InputError(describe_error(exc, sample.image)) from exc
            finally:
                for w in caught:
                    if issubclass(w.category, TrimatteWarning):
                        warn(str(w.message))
                    else:
                        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    failures: list[str] = list(problems)

    def on_error(message: str) -> None:
        failures.append(message)
        report(message)

    records = evaluate(samples, guarded, on_error=on_error)
    if not records:
        report("no image could be evaluated")
        return EXIT_FAILED
    method = f"predictions in {args.pred}" if args.pred else (args.pipeline or args.matting)
    print(format_table(records, title=f"method: {method}"))
    if args.json:
        try:
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
        except (OSError, InputError) as exc:
            on_error(describe_error(exc, args.json))
    if failures:
        print(f"trimatte: {len(failures)} failed:")
        for message in failures:
            print(f"  {message}")
        return EXIT_FAILED
    return EXIT_OK
