"""``trimatte matte``: pull alpha mattes, cutouts and composites for images."""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import yaml

from trimatte.api import DEFAULT_MATTING, DEFAULT_TRIMAP_METHOD, build_pipeline
from trimatte.cli.common import check_unique_stems, collect_images, report, trimap_for
from trimatte.errors import InputError, TrimatteError, TrimatteWarning
from trimatte.io import read_image, read_trimap, write_alpha, write_image, write_rgba, write_trimap
from trimatte.pipeline import Pipeline
from trimatte.trimap.validate import validate_trimap

SAVE_CHOICES = ("alpha", "trimap", "foreground", "cutout", "composite")
SUFFIX = {
    "alpha": "_alpha.png",
    "trimap": "_trimap.png",
    "foreground": "_fg.png",
    "cutout": "_cutout.png",
    "composite": "_composite.png",
}

log = logging.getLogger("trimatte.cli")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "matte",
        help="compute alpha mattes / cutouts for images",
        description=(
            "Compute an alpha matte for each image and save the requested outputs as "
            "OUTDIR/<name>_alpha.png, _cutout.png (RGBA), _fg.png, _composite.png, _trimap.png."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR", help="image files or folders")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    p.add_argument(
        "--trimap",
        metavar="FILE_OR_DIR",
        help="given trimap(s): a file for one image, or a folder with <name>.png per image",
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
        help=f"alpha estimation stage (default: {DEFAULT_MATTING}; also dim, grabcut-hard)",
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
        "--rect",
        metavar="X,Y,W,H",
        help="GrabCut rectangle around the subject (pixels), for --trimap-method grabcut",
    )
    p.add_argument(
        "--pipeline",
        metavar="CONFIG",
        help="pipeline config (YAML/JSON, see Pipeline.save); overrides the stage flags",
    )
    p.add_argument(
        "--save",
        default="alpha,cutout",
        help=f"comma-separated outputs among {','.join(SAVE_CHOICES)} (default: alpha,cutout)",
    )
    p.add_argument(
        "--background",
        default="white",
        metavar="COLOR_OR_IMAGE",
        help="background of the composite: colour name, #rrggbb, r,g,b or an image file",
    )
    p.add_argument(
        "--contact-sheet",
        metavar="FILE",
        help="also write a PNG with one row per image: image | trimap | alpha | cutout",
    )
    p.set_defaults(run=run)


def parse_params(items: list[str], flag: str) -> dict[str, Any]:
    """``["band=20", "eps=1e-6"]`` → ``{"band": 20, "eps": 1e-6}`` (values parsed as YAML)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got {item!r}", flag)
        params[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return params


def parse_rect(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"expected four integers X,Y,W,H, got {text!r}", "--rect") from None
    return (x, y, w, h)


def parse_save(text: str) -> list[str]:
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SAVE_CHOICES]
    if unknown or not wanted:
        raise InputError(
            f"unknown output(s) {unknown}; choose among {', '.join(SAVE_CHOICES)}", "--save"
        )
    return wanted


def make_pipeline(args: argparse.Namespace, wanted: list[str]) -> Pipeline:
    if args.pipeline:
        return Pipeline.load(args.pipeline)
    needs_fg = any(w in wanted for w in ("foreground", "cutout", "composite"))
    return build_pipeline(
        trimap_method="given" if args.trimap else args.trimap_method,
        matting=args.matting,
        foreground="multilevel-foreground" if needs_fg else None,
        composite=None,
        trimap_params=parse_params(args.trimap_param, "--trimap-param"),
        matting_params=parse_params(args.matting_param, "--matting-param"),
    )


def output_paths(image: Path, outdir: Path, wanted: list[str]) -> dict[str, Path]:
    return {what: outdir / f"{image.stem}{SUFFIX[what]}" for what in wanted}


def process_one(
    image_path: Path,
    trimap_path: Path | None,
    pipeline: Pipeline,
    outputs: dict[str, Path],
    background: str,
    hints: dict[str, Any],
    sheet_rows: list[dict[str, Any]] | None = None,
) -> dict[str, float]:
    """Run the pipeline on one file and write its outputs; returns stage timings.

    With ``sheet_rows``, a thumbnail row (image, trimap, alpha, foreground) is appended.
    """
    from trimatte.foreground import compositing, estimation

    image = read_image(image_path)
    trimap = read_trimap(trimap_path) if trimap_path is not None else None
    if trimap is not None:
        if trimap.shape != image.shape[:2]:
            raise InputError(
                f"trimap {trimap_path} is {trimap.shape[1]}x{trimap.shape[0]} but the image is "
                f"{image.shape[1]}x{image.shape[0]} (WxH)",
                image_path,
            )
        validate_trimap(trimap, name=str(trimap_path))
    state = pipeline(image, trimap, **hints)
    if state.alpha is None:
        raise InputError("the pipeline produced no alpha (it has no alpha stage)", image_path)
    foreground = state.foreground
    if foreground is None and any(k in outputs for k in ("foreground", "cutout", "composite")):
        foreground = estimation.estimate_foreground(state.image, state.alpha)
    for what, path in outputs.items():
        if what == "alpha":
            write_alpha(path, state.alpha)
        elif what == "trimap":
            if state.trimap is None:
                raise InputError("no trimap to save (the pipeline made none)", image_path)
            write_trimap(path, state.trimap)
        elif what == "foreground":
            write_image(path, foreground)
        elif what == "cutout":
            write_rgba(path, foreground, state.alpha)
        elif what == "composite":
            if state.composite is not None and state.composite.shape[-1] == 3:
                write_image(path, state.composite)
            else:
                bg = compositing.load_background(background, state.alpha.shape)
                write_image(path, compositing.composite(foreground, state.alpha, bg))
    if sheet_rows is not None:
        sheet_rows.append(thumbnail_row(state, foreground, image_path.name))
    return state.timings


def thumbnail_row(state, foreground, label: str, height: int = 200) -> dict[str, Any]:
    """Downscaled panels of one result for the contact sheet (keeps memory small)."""
    import cv2
    import numpy as np

    h, w = state.image.shape[:2]
    scale = min(1.0, height / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))

    def shrink(array, nearest=False):
        if array is None:
            return None
        mode = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
        return np.clip(cv2.resize(array, size, interpolation=mode), 0, 255 if nearest else 1)

    return {
        "image": shrink(state.image),
        "trimap": shrink(state.trimap, nearest=True),
        "alpha": shrink(state.alpha),
        "foreground": shrink(foreground),
        "label": label,
    }


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    try:
        wanted = parse_save(args.save)
        images = collect_images(args.inputs)
        check_unique_stems(images)
        pipeline = make_pipeline(args, wanted)
        hints = {"rect": parse_rect(args.rect)} if args.rect else {}
    except TrimatteError as exc:
        report(str(exc))
        return 2
    outdir = Path(args.output)
    inputs = {p.resolve() for p in images}
    log.info("pipeline: %s", pipeline)
    failures = 0
    sheet_rows: list[dict[str, Any]] | None = [] if args.contact_sheet else None
    start = time.perf_counter()
    for image_path in tqdm(images, desc="matting", unit="img", disable=len(images) < 2):
        try:
            outputs = output_paths(image_path, outdir, wanted)
            clash = [p for p in outputs.values() if p.resolve() in inputs]
            if clash:
                raise InputError(f"output {clash[0]} would overwrite an input; choose another -o")
            trimap_path = trimap_for(image_path, args.trimap, len(images))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", TrimatteWarning)
                timings = process_one(
                    image_path, trimap_path, pipeline, outputs, args.background, hints,
                    sheet_rows,
                )
            for w in caught:
                tqdm.write(f"trimatte: warning: {w.message}")
            log.info(
                "%s: %s", image_path.name, ", ".join(f"{k} {v:.2f}s" for k, v in timings.items())
            )
        except TrimatteError as exc:
            failures += 1
            report(str(exc) if str(image_path) in str(exc) else f"{image_path}: {exc}")
        except MemoryError:
            failures += 1
            report(f"{image_path}: out of memory (try a smaller image)")
    elapsed = time.perf_counter() - start
    done = len(images) - failures
    if sheet_rows:
        from trimatte.visualize import contact_sheet

        labels = [row.pop("label") for row in sheet_rows]
        sheet = contact_sheet(sheet_rows, labels=labels, row_height=200)
        write_image(args.contact_sheet, sheet / 255.0)
        print(f"trimatte: contact sheet written to {args.contact_sheet}")
    print(f"trimatte: {done}/{len(images)} image(s) written to {outdir} in {elapsed:.1f} s")
    if failures:
        print(f"trimatte: {failures} image(s) failed (see errors above)")
        return 1
    return 0
