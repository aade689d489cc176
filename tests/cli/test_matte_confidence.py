"""``trimatte matte`` warns about low-confidence results; ``--strict`` fails them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import trimatte.models.salient_net as salient_net


@pytest.fixture
def two_objects(tmp_path, monkeypatch):
    """A photo with two equally salient objects (the saliency net is replaced)."""
    image = np.full((60, 90, 3), 40, np.uint8)
    saliency = np.zeros((60, 90), np.float32)
    saliency[15:45, 8:35] = 1.0
    saliency[15:45, 55:82] = 1.0
    image[saliency > 0] = 220
    folder = tmp_path / "in"
    folder.mkdir()
    assert cv2.imwrite(str(folder / "pair.png"), image)
    monkeypatch.setattr(salient_net, "predict_saliency", lambda *a, **k: saliency)
    return folder / "pair.png"


def test_low_confidence_is_a_warning_naming_the_image(two_objects, tmp_path, cli) -> None:
    code, stdout, stderr = cli("matte", two_objects, "-o", tmp_path / "out",
                               "--trimap-method", "auto", "--workers", "1")
    assert code == 0
    assert "pair.png" in stderr and "second object" in stderr
    assert "low confidence" in stdout and "pair.png" in stdout
    assert (tmp_path / "out" / "pair_alpha.png").is_file()


def test_strict_turns_low_confidence_into_a_failure(two_objects, tmp_path, cli) -> None:
    code, stdout, stderr = cli("matte", two_objects, "-o", tmp_path / "out",
                               "--trimap-method", "auto", "--workers", "1", "--strict")
    assert code == 1
    assert "pair.png" in stderr and "--strict" in stderr
    assert "0/1 image(s)" in stdout
