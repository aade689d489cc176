"""Make a trimap by hand for an example image in the interactive editor.

Usage::

    python examples/interactive_trimap.py                      # the cat from examples/data
    python examples/interactive_trimap.py photo.jpg --out out  # any image
    python examples/interactive_trimap.py --start rect         # begin with a GrabCut rectangle

Paint foreground (F), background (B) or unknown (U) with the mouse, re-run
GrabCut from your strokes (G), widen or narrow the unknown band (D / E), look
at the live alpha (2) or the cutout (3, 4), undo (Z) and save (S). Press H in
the window for every key. Saved files: OUT/<name>_trimap.png, _alpha.png and
_cutout.png (RGBA).

Needs a display (on a headless machine: ``xvfb-run python examples/interactive_trimap.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trimatte.cli import edit

DEFAULT_IMAGE = Path(__file__).resolve().parent / "data" / "chelsea.jpg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", nargs="?", default=str(DEFAULT_IMAGE),
                        help=f"image to edit (default: {DEFAULT_IMAGE.name} from examples/data)")
    parser.add_argument("--trimap", help="existing trimap to start from")
    parser.add_argument("--start", choices=edit.START_CHOICES,
                        help="starting trimap (default: file with --trimap, else auto)")
    parser.add_argument("--out", default="interactive_trimap_out",
                        help="folder the S key saves to (default: ./interactive_trimap_out)")
    args = parser.parse_args(argv)
    editor_argv = [args.image, "--out", args.out]
    if args.trimap:
        editor_argv += ["--trimap", args.trimap]
    if args.start:
        editor_argv += ["--start", args.start]
    return edit.main(editor_argv)


if __name__ == "__main__":
    sys.exit(main())
