"""End-to-end tests of ``trimatte eval``."""

import json

import cv2
import numpy as np
import pytest

from tests.conftest import make_disc_scene
from trimatte.cli.main import main
from trimatte.cli.outputs import RECORD_NAME
from trimatte.metrics import compute_metrics
from trimatte.trimap.morphology import trimap_from_alpha


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "data"
    for sub in ("images", "alphas", "trimaps", "pred"):
        (root / sub).mkdir(parents=True)
    for i, name in enumerate(("a", "b")):
        image, alpha, _, _ = make_disc_scene(size=40, radius=10 + i, seed=i)
        pixels = (image[..., ::-1] * 255).round().astype(np.uint8)
        cv2.imwrite(str(root / "images" / f"{name}.png"), pixels)
        cv2.imwrite(str(root / "alphas" / f"{name}.png"), (alpha * 255).round().astype(np.uint8))
        cv2.imwrite(str(root / "trimaps" / f"{name}.png"), trimap_from_alpha(alpha, band=3))
        blurred = cv2.GaussianBlur((alpha * 255).round().astype(np.uint8), (5, 5), 2)
        cv2.imwrite(str(root / "pred" / f"{name}_alpha.png"), blurred)
    return root


def test_eval_of_saved_predictions_matches_the_metrics_module(dataset, tmp_path, capsys):
    out_json = tmp_path / "scores.json"
    code = main(["eval", "--images", str(dataset / "images"), "--alphas", str(dataset / "alphas"),
                 "--trimaps", str(dataset / "trimaps"), "--pred", str(dataset / "pred"),
                 "--json", str(out_json)])
    assert code == 0
    table = capsys.readouterr().out
    assert "SAD" in table and "mean" in table
    payload = json.loads(out_json.read_text())
    row = payload["images"][0]
    gt = cv2.imread(str(dataset / "alphas" / "a.png"), 0) / 255.0
    pred = cv2.imread(str(dataset / "pred" / "a_alpha.png"), 0) / 255.0
    trimap = cv2.imread(str(dataset / "trimaps" / "a.png"), 0)
    expected = compute_metrics(pred, gt, trimap)
    for key in ("SAD", "MSE", "Grad", "Conn"):
        assert row[key] == pytest.approx(expected[key], rel=1e-6)
    assert row["seconds"] is None  # nothing was run


def test_eval_runs_a_method_and_band_trimaps(dataset, tmp_path, capsys):
    code = main(["eval", "--images", str(dataset / "images"), "--alphas", str(dataset / "alphas"),
                 "--trimap-band", "3", "--matting", "closed-form",
                 "--save-pred", str(tmp_path / "p")])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    mean = next(line for line in lines if line.startswith("mean"))
    sad = float(mean.split()[1])
    assert 0 <= sad < 1.0  # a clean synthetic edge is easy for closed-form matting
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [RECORD_NAME, "a.png", "b.png"]


def test_eval_reports_missing_partners(dataset, capsys):
    (dataset / "alphas" / "b.png").unlink()
    code = main(["eval", "--images", str(dataset / "images"), "--alphas", str(dataset / "alphas"),
                 "--trimaps", str(dataset / "trimaps"), "--pred", str(dataset / "pred")])
    assert code == 1
    assert "no alpha named b" in capsys.readouterr().err
