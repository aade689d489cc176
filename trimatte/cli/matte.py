"""``trimatte matte``: pull alpha mattes, cutouts and composites for images.

The command builds one :class:`~trimatte.pipeline.Pipeline` (trimap source →
alpha → foreground → composite) from its flags or a config, validates it and every
output path before reading any image, then runs it on each image (in a pool of
worker processes for a folder, see :mod:`trimatte.batch`) and writes the files
from the resulting :class:`~trimatte.pipeline.MatteState`.
"""

from __future__ import annotations

import argparse
import functools
import logging
import time
from pathlib import Path
from typing import Any

from trimatte.api import DEFAULT_MATTING, DEFAULT_TRIMAP_METHOD, build_pipeline
from trimatte.batch import default_workers
from trimatte.cli.common import (
    CONFIG_ERRORS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    check_unique_stems,
    collect_images,
    describe_error,
    note,
    one_line_warnings,
    report,
    trimap_folder_or_file,
    trimap_for,
    warn,
)
from trimatte.cli.jobs import MatteDone, MatteJob, run_job, thumbnail_row, write_output
from trimatte.cli.outputs import (
    OUTPUT_SUFFIXES,
    InputSet,
    check_file_target,
    check_folder,
    record_outputs,
)
from trimatte.errors import InputError
from trimatte.io import remove_stale_temp_files, write_image
from trimatte.params import parse_params
from trimatte.pipeline import Pipeline, stage_from_dict
from trimatte.server.batch import run_batch

__all__ = [
    "OUTPUT_SUFFIXES",
    "SAVE_CHOICES",
    "SUFFIX",
    "MatteDone",
    "MatteJob",
    "add_parser",
    "make_pipeline",
    "parse_params",
    "parse_rect",
    "parse_save",
    "run",
    "run_job",
    "thumbnail_row",
    "write_output",
]

SAVE_CHOICES = tuple(OUTPUT_SUFFIXES)
#: Kept for callers of the old name.
SUFFIX = OUTPUT_SUFFIXES

log = logging.getLogger("trimatte.cli")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "matte",
        help="compute alpha mattes / cutouts for images",
        description=(
            "Compute an alpha matte for each image and save the requested outputs as "
            "OUTDIR/<name>_alpha.png, _cutout.png (RGBA), _fg.png, _composite.png, _trimap.png. "
            "The configuration and every output path are checked before the first image is "
            "read; an output never replaces an input. Files named like these outputs, or "
            "recorded in a folder's .trimatte-outputs, are skipped when a folder is given "
            "as input (name them explicitly to process them)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR", help="image files or folders")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    p.add_argument(
        "--trimap",
        metavar="FILE_OR_DIR",
        help="given trimap(s): a file for one image, or a folder with <name>_trimap.png "
        "(what --save trimap writes) or <name>.png per image",
    )
    p.add_argument(
        "--trimap-method",
        default=DEFAULT_TRIMAP_METHOD,
        help=f"trimap source when no --trimap is given (default: {DEFAULT_TRIMAP_METHOD}; "
        "also grabcut, unet-trimap)",
    )
    p.add_argument(
        "--matting",
        default=DEFAULT_MATTING,
        help=f"alpha estimation stage (default: {DEFAULT_MATTING}; also closed-form, dim, "
        "grabcut-hard)",
    )
    p.add_argument(
        "--trimap-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="parameter of the trimap source, e.g. band=20 (repeatable)",
    )
    p.add_argument(
        "--matting-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="parameter of the matting stage, e.g. epsilon=1e-6 (repeatable)",
    )
    p.add_argument(
        "--background-plate",
        metavar="FILE_OR_DIR",
        help="photo(s) of the empty scene (a clean plate): one file for every image, or a "
        "folder with <name>.<ext> or <name>_plate.<ext> per image. Switches the default "
        "stages to plate, plate-alpha and plate-foreground (a given --trimap, --trimap-method "
        "or --matting still wins)",
    )
    p.add_argument(
        "--rect",
        metavar="X,Y,W,H",
        help="GrabCut rectangle around the subject (pixels), for --trimap-method grabcut",
    )
    p.add_argument(
        "--pipeline",
        metavar="CONFIG",
        help="pipeline config (YAML/JSON, see Pipeline.save); overrides the stage flags. "
        "Stages the requested outputs need (foreground, composite) are added if missing",
    )
    p.add_argument(
        "--save",
        default="alpha,cutout",
        help=f"comma-separated outputs among {','.join(SAVE_CHOICES)} (default: alpha,cutout)",
    )
    p.add_argument(
        "--background",
        default=None,
        metavar="COLOR_OR_IMAGE",
        help="background of the composite: colour name, #rrggbb, r,g,b or an image file "
        "(default: white, or the one in --pipeline)",
    )
    p.add_argument(
        "--contact-sheet",
        metavar="FILE",
        help="also write a PNG with one row per image: image | trimap | alpha | cutout",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="treat a result with low confidence (an unsure subject, mostly unknown, a "
        "second object, ...) as a failure: exit code 1 (for unattended batches)",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="worker processes for several images (default: the number of cores); "
        "outputs and messages are the same for any N",
    )
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the images on this "
                   "Dask scheduler; its workers must see the folders at the same paths")
    p.set_defaults(run=run)


def parse_rect(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"expected four integers X,Y,W,H, got {text!r}", "--rect") from None
    if w < 1 or h < 1 or x < 0 or y < 0:
        raise InputError(f"expected X,Y >= 0 and W,H >= 1, got {text!r}", "--rect")
    return (x, y, w, h)


def parse_save(text: str) -> list[str]:
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SAVE_CHOICES]
    if unknown or not wanted:
        raise InputError(
            f"unknown output(s) {unknown}; choose among {', '.join(SAVE_CHOICES)}", "--save"
        )
    return list(dict.fromkeys(wanted))


def check_background(spec: str, flag: str = "--background") -> None:
    """Raise InputError unless ``spec`` is a colour or a readable image file."""
    from trimatte.foreground.compositing import load_background

    try:
        load_background(spec, (1, 1))
    except InputError as exc:
        raise InputError(exc.reason, f"{flag} {spec}") from None


def make_pipeline(args: argparse.Namespace, wanted: list[str]) -> Pipeline:
    """The whole pipeline of the run, built and checked before any image is read.

    Raises:
        InputError, TypeError, ValueError: A bad stage name, parameter or background,
            or a config without an alpha stage (or without a trimap source when no
            ``--trimap`` is given).
    """
    needs_fg = any(w in wanted for w in ("foreground", "cutout", "composite"))
    if args.background is not None:
        check_background(args.background)
    if not args.pipeline:
        plate = bool(getattr(args, "background_plate", None))
        method = args.trimap_method
        if plate and method == DEFAULT_TRIMAP_METHOD:
            method = "plate"
        matting = "plate-alpha" if plate and args.matting == DEFAULT_MATTING else args.matting
        pipeline = build_pipeline(
            trimap_method="given" if args.trimap else method,
            matting=matting,
            foreground=("plate-foreground" if plate else "multilevel-foreground")
            if needs_fg else None,
            composite="composite" if "composite" in wanted else None,
            background=args.background or "white",
            trimap_params=parse_params(args.trimap_param, "--trimap-param"),
            matting_params=parse_params(args.matting_param, "--matting-param"),
        )
        _check_trimap_source(pipeline, args, "--trimap-method given")
        return pipeline
    pipeline = Pipeline.load(args.pipeline)
    roles = {stage.role for stage in pipeline.stages}
    if "alpha" not in roles:
        raise InputError(
            "the pipeline has no alpha stage (e.g. closed-form, dim); add one", args.pipeline
        )
    _check_trimap_source(pipeline, args, args.pipeline)
    if needs_fg and "foreground" not in roles:
        foreground = stage_from_dict({"name": "multilevel-foreground"})
        pipeline = pipeline.replace("foreground", foreground)
    if "composite" in wanted:
        current = next((s for s in pipeline.stages if s.role == "composite"), None)
        if current is None or current.registry_name != "composite" or args.background:
            stage = stage_from_dict(
                {"name": "composite", "params": {"background": args.background or "white"}}
            )
            pipeline = pipeline.replace("composite", stage)
    for stage in pipeline.stages:
        background = getattr(stage, "background", None)
        if stage.role == "composite" and isinstance(background, str):
            check_background(background, f"{args.pipeline}: background")
    return pipeline


def _check_trimap_source(pipeline: Pipeline, args: argparse.Namespace, source: object) -> None:
    """Without ``--trimap`` the pipeline must make its own trimap."""
    makes_trimap = any(
        stage.role == "trimap" and not getattr(stage, "uses_given_trimap", False)
        for stage in pipeline.stages
    )
    if not makes_trimap and not args.trimap:
        raise InputError(
            "no trimap source (e.g. salient, grabcut) and no --trimap to read one from", source
        )


def background_files(pipeline: Pipeline) -> list[Path]:
    """The image files the pipeline's composite stages read as backgrounds."""
    found = []
    for stage in pipeline.stages:
        background = getattr(stage, "background", None)
        if stage.role == "composite" and isinstance(background, str):
            if Path(background).is_file():
                found.append(Path(background))
    return found


# ----------------------------------------------------------------------------- the run


def plate_for(image: Path, plate: str | None) -> Path | None:
    """The ``--background-plate`` for ``image``: the file, or ``<stem>[_plate].*`` in the folder.

    Raises:
        InputError: The plate is missing (naming the image and the folder).
    """
    from trimatte.io import find_by_stem

    if plate is None:
        return None
    path = Path(plate)
    if path.is_file():
        return path
    if not path.is_dir():
        raise InputError("file or folder not found", f"--background-plate {plate}")
    found = find_by_stem(path, image.stem) or find_by_stem(path, f"{image.stem}_plate")
    if found is None:
        raise InputError(f"no plate {image.stem}.* or {image.stem}_plate.* in {path}", image)
    return found


def plan_jobs(
    images: list[Path], trimap: Path | None, outdir: Path, wanted: list[str], thumbnail: bool,
    plate: str | None = None,
) -> tuple[list[MatteJob], list[str]]:
    """One job per image; images without a trimap (or plate) in the given folder fail here."""
    jobs, problems = [], []
    for image in images:
        try:
            image_trimap = trimap_for(image, trimap)
            image_plate = plate_for(image, plate)
        except InputError as exc:
            problems.append(str(exc))
            continue
        outputs = tuple((w, outdir / f"{image.stem}{OUTPUT_SUFFIXES[w]}") for w in wanted)
        jobs.append(MatteJob(image, image_trimap, outputs, thumbnail, image_plate))
    return jobs, problems


def check_targets(
    jobs: list[MatteJob], args: argparse.Namespace, outdir: Path, pipeline: Pipeline
) -> list[Path]:
    """Check every output path before any work; returns the folders written into.

    Raises:
        InputError: An output that cannot be written or would replace an input.
    """
    inputs = InputSet([args.pipeline, *background_files(pipeline)])
    for job in jobs:
        inputs.add(job.image)
        if job.trimap is not None:
            inputs.add(job.trimap)
        if job.plate is not None:
            inputs.add(job.plate)
    check_folder(outdir, "output folder")
    targets: dict[Path, str] = {}
    for job in jobs:
        for what, path in job.outputs:
            if path.is_dir():
                raise InputError(f"the {what} of {job.image} would go here, but it is a folder",
                                 path)
            clash = inputs.find(path)
            if clash is not None:
                raise InputError(
                    f"the {what} of {job.image} would overwrite the input {clash}; "
                    "choose another -o",
                    path,
                )
            targets[path.resolve()] = f"the {what} of {job.image}"
    folders = [outdir]
    if args.contact_sheet:
        sheet = Path(args.contact_sheet)
        check_file_target(sheet, "--contact-sheet", inputs, image=True)
        if sheet.resolve() in targets:
            raise InputError(f"--contact-sheet would overwrite {targets[sheet.resolve()]}", sheet)
        folders.append(sheet.parent)
    return folders


def run(args: argparse.Namespace) -> int:
    try:
        wanted = parse_save(args.save)
        hints = {"rect": parse_rect(args.rect)} if args.rect else {}
        with one_line_warnings():
            pipeline = make_pipeline(args, wanted)
    except CONFIG_ERRORS as exc:
        report(describe_error(exc))
        return EXIT_USAGE
    outdir = Path(args.output)
    images, failed, notes = collect_images(args.inputs)
    for line in notes:
        note(line)
    for line in failed:
        report(line)
    try:
        trimap = trimap_folder_or_file(args.trimap, len(images))
        check_unique_stems(images)
        plate = getattr(args, "background_plate", None)
        if plate is not None and not Path(plate).exists():
            raise InputError("file or folder not found", f"--background-plate {plate}")
        jobs, problems = plan_jobs(images, trimap, outdir, wanted, bool(args.contact_sheet),
                                   plate)
        for line in problems:
            report(line)
        failed += problems
        if not jobs:
            return _summary(0, len(failed), outdir, failed, 0.0)
        folders = check_targets(jobs, args, outdir, pipeline)
    except InputError as exc:
        report(str(exc))
        return EXIT_USAGE
    record_outputs([path for job in jobs for _, path in job.outputs])
    if args.contact_sheet:
        record_outputs([Path(args.contact_sheet)])
    for folder in folders:
        remove_stale_temp_files(folder)
    log.info("pipeline: %s", pipeline)

    workers = args.workers or default_workers()
    job_fn = functools.partial(run_job, pipeline, hints)
    rows: list[dict[str, Any]] = []
    uncertain: list[str] = []  # low-confidence results, listed in the summary
    done, total = 0, len(jobs) + len(failed)
    try:  # local processes, or tasks on a Dask scheduler (trimatte.server.batch)
        outcomes = run_batch(job_fn, jobs, workers, getattr(args, "scheduler", None))
    except InputError as exc:
        report(str(exc))
        return EXIT_USAGE
    start = time.perf_counter()
    try:
        for outcome in outcomes:
            for category, text in outcome.warnings:
                if category.startswith("trimatte."):
                    warn(text)
                else:
                    log.info("%s: %s: %s", outcome.item.image.name, category, text)
            outcome.replay_logs()
            if outcome.ok:
                confidence = outcome.value.confidence
                if confidence is not None and confidence.low:
                    message = f"{outcome.item.image}: low {confidence.describe()}"
                    uncertain.append(message)
                    if args.strict:
                        failed.append(f"{message} (--strict)")
                        report(f"{message} (--strict)")
                        continue
                    warn(f"{message}; check the result")
                done += 1
                if outcome.value.row is not None:
                    rows.append(outcome.value.row)
                timings = outcome.value.timings
                log.info("%s: %s", outcome.item.image.name,
                         ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
            else:
                message = describe_error(outcome.error, outcome.item.image)
                failed.append(message)
                report(message)
    except KeyboardInterrupt:
        for folder in folders:
            remove_stale_temp_files(folder, include_own=True)
        note(f"interrupted: {done} of {len(jobs)} image(s) finished and their outputs are "
             "complete; nothing half-written is left")
        return EXIT_INTERRUPTED
    elapsed = time.perf_counter() - start
    if rows:
        try:
            write_contact_sheet(Path(args.contact_sheet), rows)
        except (InputError, OSError) as exc:
            message = describe_error(exc, args.contact_sheet)
            failed.append(message)
            report(message)
        else:
            print(f"trimatte: contact sheet written to {args.contact_sheet}")
    if uncertain and not args.strict:
        print(f"trimatte: {len(uncertain)} result(s) with low confidence (--strict fails them):")
        for message in uncertain:
            print(f"  {message}")
    return _summary(done, total, outdir, failed, elapsed)


def write_contact_sheet(path: Path, rows: list[dict[str, Any]]) -> None:
    from trimatte.visualize import contact_sheet

    labels = [row.pop("label") for row in rows]
    sheet = contact_sheet(rows, labels=labels, row_height=200)
    write_image(path, sheet / 255.0)


def _summary(done: int, total: int, outdir: Path, failed: list[str], elapsed: float) -> int:
    """Print the last lines: how many images were written, and every failure."""
    if done == 0 and total == len(failed) and elapsed == 0.0:
        print("trimatte: no image to process")
    else:
        print(f"trimatte: {done}/{total} image(s) written to {outdir} in {elapsed:.1f} s")
    if failed:
        print(f"trimatte: {len(failed)} failed:")
        for message in failed:
            print(f"  {message}")
        return EXIT_FAILED
    return EXIT_OK
