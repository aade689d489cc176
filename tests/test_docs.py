"""The generated CLI reference must match the commands (regenerate with tools/gen_cli_docs.py)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_cli_reference_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_cli_docs.py"), "--check"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
