"""``trimatte`` command: dispatches to the sub-command modules.

Exit codes of every sub-command: 0 all done, 1 some inputs failed (the others were
processed), 2 usage or configuration error (nothing was processed), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from trimatte import __version__

#: Sub-command name → module with ``add_parser(subparsers)`` and ``run(args) -> int``.
COMMANDS = {
    "matte": "trimatte.cli.matte",
    "eval": "trimatte.cli.evaluate",
    "train": "trimatte.cli.train",
    "edit": "trimatte.cli.edit",
    "serve": "trimatte.cli.serve",
    "video": "trimatte.cli.video",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trimatte",
        description="Image matting: trimap → alpha → foreground → cutout.",
    )
    parser.add_argument("--version", action="version", version=f"trimatte {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log stage details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS.values():
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("trimatte: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
