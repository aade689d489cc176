"""The example scripts that run on shipped data must keep working."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), *args],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_compose_pipeline(tmp_path):
    out = run_example("compose_pipeline.py", "--out", str(tmp_path))
    assert "config written" in out
    assert {p.name for p in tmp_path.iterdir()} == {
        "grabcut_closed_form.png", "grabcut_hard_cutout.png", "pipeline.yaml"}


def test_grabcut_closed_form(tmp_path):
    run_example("grabcut_closed_form.py", "--out", str(tmp_path))
    assert (tmp_path / "coffee_cutout.png").is_file() and (tmp_path / "coffee_sheet.png").is_file()


def test_deep_pipeline_folder(tmp_path):
    run_example("deep_pipeline_folder.py", "--out", str(tmp_path), "--matting", "closed-form")
    assert (tmp_path / "contact_sheet.png").is_file()
    assert len(list(tmp_path.glob("*_cutout.png"))) == 3


@pytest.mark.slow
def test_reproduce_dim_on_aisegment_fixture(tmp_path):
    out = run_example("reproduce_dim_aisegment.py", "--out", str(tmp_path), "--steps", "2")
    assert "finetune" in out and (tmp_path / "finetune" / "model.pth").is_file()


def test_background_plate(tmp_path):
    out = run_example("background_plate.py", "--out", str(tmp_path))
    assert "plate registered by" in out and "cutout written" in out
    assert {"photo.jpg", "plate.jpg", "photo_cutout.png", "photo_alpha.png",
            "photo_sheet.png"} <= {p.name for p in tmp_path.iterdir()}
