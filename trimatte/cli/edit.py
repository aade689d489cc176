"""``trimatte edit IMAGE``: make a trimap by hand in an interactive window.

The editor starts from the automatic trimap (``--start auto``, the default when
no ``--trimap`` is given), from a GrabCut rectangle the user drags
(``--start rect``) or from an existing trimap file (``--start file``, the default
with ``--trimap``). :kbd:`S` saves ``OUT/<name>_trimap.png``, ``_alpha.png`` and
``_cutout.png``; see ``docs/editor.md`` for the key bindings.

Runs standalone too: ``python -m trimatte.cli.edit IMAGE ...``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trimatte.errors import InputError, TrimatteError

START_CHOICES = ("auto", "rect", "file")
#: ``--help`` text: plain text, as a terminal shows it (the module docstring is for Sphinx).
DESCRIPTION = (
    "Make a trimap by hand in an interactive window. The editor starts from the automatic "
    "trimap (--start auto, the default when no --trimap is given), from a GrabCut rectangle "
    "you drag (--start rect) or from an existing trimap file (--start file, the default with "
    "--trimap). The S key saves OUT/<name>_trimap.png, _alpha.png and _cutout.png; "
    "docs/editor.md lists the keys."
)


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE", help="image to make a trimap for")
    p.add_argument("--trimap", metavar="FILE", help="existing trimap to start from")
    p.add_argument(
        "--out",
        default=".",
        metavar="DIR",
        help="folder S saves <name>_trimap.png, _alpha.png, _cutout.png to (default: .)",
    )
    p.add_argument(
        "--start",
        choices=START_CHOICES,
        help="starting trimap: automatic, a GrabCut rectangle you drag, or --trimap FILE "
        "(default: file with --trimap, else auto)",
    )
    p.add_argument("--name", metavar="STEM", help="output file name stem (default: IMAGE's)")
    p.add_argument("--brush-radius", type=int, metavar="PX", help="initial brush radius")
    p.add_argument("--band", type=int, metavar="PX",
                   help="unknown band radius GrabCut draws (default: 1%% of the long side)")
    p.add_argument(
        "--preview-size",
        type=int,
        default=320,
        metavar="PX",
        help="long side of the downscaled copy the live alpha preview is computed on "
        "(default: 320)",
    )
    p.add_argument("--matting", default="closed-form", metavar="NAME",
                   help="alpha stage the live preview and the save use (default: closed-form)")
    p.add_argument("--max-display", type=int, default=1000, metavar="PX",
                   help="longest side of the window (bigger images are shown scaled)")
    p.add_argument("--fast-save", action="store_true",
                   help="save the preview alpha instead of a full-resolution matte")
    p.add_argument("--timeout", type=float, help=argparse.SUPPRESS)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``edit`` sub-command to ``trimatte``'s sub-parsers."""
    p = subparsers.add_parser(
        "edit",
        help="edit a trimap interactively (OpenCV window)",
        description=DESCRIPTION,
    )
    _configure(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Open the editor on ``args.image``.

    Returns:
        Exit status: 0 done, 1 the image or trimap cannot be read, 2 bad options
        or no display to open a window on.
    """
    from trimatte.cli.outputs import check_folder
    from trimatte.editor.gui import display_available, run_editor
    from trimatte.editor.outputs import output_paths
    from trimatte.editor.pipelines import automatic_trimap, editor_pipeline
    from trimatte.editor.state import EditorState
    from trimatte.io import read_image, read_trimap
    from trimatte.trimap.morphology import band_width_for

    reason = display_available()
    if reason is not None:
        print(f"trimatte edit: error: {reason}", file=sys.stderr)
        return 2
    start = args.start or ("file" if args.trimap else "auto")
    try:  # options first: a mistake there is reported before any work
        if start == "file" and not args.trimap:
            raise InputError("needs --trimap FILE", "--start file")
        if args.preview_size < 8:
            raise InputError(f"must be at least 8 pixels, got {args.preview_size}",
                             "--preview-size")
        if args.name is not None:
            output_paths(args.out, args.name)
        editor_pipeline(args.matting)
        # S must be able to save: hours of edits could not go anywhere else
        check_folder(Path(args.out), "output folder (--out)")
    except TrimatteError as exc:
        print(f"trimatte edit: error: {exc}", file=sys.stderr)
        return 2
    try:
        image_path = Path(args.image)
        image = read_image(image_path)
        trimap_path = Path(args.trimap) if args.trimap else None
        band = args.band if args.band is not None else band_width_for(image.shape, 0.01)
        trimap, status = None, ""
        if start == "file":
            trimap, status = read_trimap(trimap_path), f"loaded {trimap_path.name}"
        elif start == "auto":
            print("trimatte edit: computing the automatic trimap...", file=sys.stderr, flush=True)
            trimap, status = automatic_trimap(image, band)
        state = EditorState(
            image,
            trimap,
            image_path=image_path,
            protected_paths=[trimap_path] if trimap_path is not None else [],
            brush_radius=args.brush_radius,
            band=band,
            matting=args.matting,
        )
        return run_editor(
            state,
            outdir=args.out,
            stem=args.name,
            preview_side=args.preview_size,
            max_display=args.max_display,
            start_with_rect=start == "rect",
            status=status,
            refine_on_save=not args.fast_save,
            timeout=args.timeout,
        )
    except TrimatteError as exc:
        print(f"trimatte edit: error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m trimatte.cli.edit IMAGE [options]``."""
    parser = argparse.ArgumentParser(prog="trimatte edit", description=DESCRIPTION)
    _configure(parser)
    try:
        return run(parser.parse_args(argv))
    except KeyboardInterrupt:
        print("trimatte edit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
