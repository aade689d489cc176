"""tools/make_gallery.py runs the default pipeline on a shipped image into a folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from trimatte.io import read_image

REPO = Path(__file__).resolve().parents[1]


def load_tool():
    path = REPO / "tools" / "make_gallery.py"
    spec = importlib.util.spec_from_file_location("make_gallery", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_from_one_shipped_image(tmp_path: Path) -> None:
    tool = load_tool()
    image = REPO / "examples" / "data" / "chelsea.jpg"
    entries = tool.make([image], tmp_path, max_side=96)
    assert [e["name"] for e in entries] == ["chelsea"]
    assert "confidence" in entries[0]["confidence"]
    before_after = read_image(tmp_path / tool.BEFORE_AFTER)
    row = read_image(tmp_path / tool.GALLERY / "chelsea.jpg")
    assert before_after.shape[0] == 320 and row.shape[0] >= 240
    assert row.shape[1] > 3 * 240  # four panels side by side
    assert np.ptp(before_after) > 0.1  # not blank
    page = (tmp_path / "gallery.md").read_text()
    assert page.startswith("# Gallery") and "images/gallery/chelsea.jpg" in page
