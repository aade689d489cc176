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

`trimatte` has one sub-command per job. This page is generated from the commands' own
`--help` by `tools/gen_cli_docs.py`.

## Exit codes

- **0**: every input was processed.
- **1**: some inputs failed (missing, unreadable, a bad trimap, a write that failed);
  the others were processed, and the last lines of the output list what failed.
- **2**: usage or configuration error (a bad flag, stage, parameter, colour or config,
  or an output that cannot be written); nothing was processed.
- **130**: interrupted (Ctrl-C); outputs already written are complete and nothing
  half-written is left.

## What a run promises

- **Checked first.** The whole pipeline (stage names with "did you mean",
  parameter types and ranges, `--background`, a `--pipeline` config with its alpha
  stage) and every output path (the folder, `--contact-sheet`, `eval --json`,
  `--save-pred`) are checked before the first image is read. A problem is one line
  naming the path or flag and the cause, and exit code 2.
- **No input is ever replaced.** Outputs are compared with every input (images,
  trimaps, ground truth, a background image, the config) by file identity, so
  `..`, symbolic and hard links are caught too.
- **Outputs are recognisable.** `trimatte matte` names outputs `X_alpha.png`,
  `X_trimap.png`, `X_fg.png`, `X_cutout.png`, `X_composite.png`, and every file a
  run writes is listed in the hidden `.trimatte-outputs` of its folder. When a
  folder is given as input, files named like outputs or listed there are skipped
  (with a note), so running twice into the input folder does not matte the first
  run's outputs. Name such a file explicitly to process it.
- **A batch goes on.** A missing file ("file not found", "folder not found"), an
  unreadable image, a bad trimap or a failed write is reported in one line and the
  other images are processed.
- **Trimap names round-trip.** `--trimap DIR` and `eval --trimaps DIR` read
  `X_trimap.png` (what `--save trimap` writes) or `X.png`.
- **Writes are atomic.** Each file is written to `.NAME.PID.XXXXXX.tmp` and renamed
  when complete; such files left by a killed process are removed when the next run
  uses the folder.
- **Parallel, same result.** `trimatte matte --workers N` (default: the number of
  cores) runs images in N worker processes of one thread each; files and messages
  are the same as with `--workers 1`, in input order.
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
