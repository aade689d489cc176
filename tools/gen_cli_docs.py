"""Write docs/cli.md from the argparse definitions, so the CLI reference cannot drift.

    python tools/gen_cli_docs.py          # rewrite docs/cli.md
    python tools/gen_cli_docs.py --check  # exit 1 if docs/cli.md is out of date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

INTRO = """# Command line

`trimatte` has one sub-command per job. Every command reports a bad input file by
name and goes on with the others; the exit code is 0 when everything worked, 1 when
some inputs failed, 2 for a usage error.

This page is generated from the commands' own `--help` by `tools/gen_cli_docs.py`.
"""


def render() -> str:
    os.environ["COLUMNS"] = "88"
    from trimatte.cli.main import build_parser

    parser = build_parser()
    parts = [INTRO, "## trimatte\n", "```text\n" + parser.format_help().rstrip() + "\n```\n"]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        parts.append(f"## trimatte {name}\n")
        parts.append("```text\n" + sub.format_help().rstrip() + "\n```\n")
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not DOC.is_file() or DOC.read_text() != text:
            print(f"{DOC} is out of date: run python tools/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
