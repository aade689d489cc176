"""tools/make_video_sheet.py mattes a clip twice and writes one row per chosen frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from trimatte.io import read_image

REPO = Path(__file__).resolve().parents[2]


def test_sheet_of_a_small_clip(clips, tmp_path):
    clip = clips["mp4"]  # 64x48, 8 frames
    out = tmp_path / "sheet.jpg"
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "make_video_sheet.py"), str(out),
         "--clip", str(clip.path), "--frames", "2,5"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert read_image(out).shape == (2 * 48, 3 * 64, 3)
