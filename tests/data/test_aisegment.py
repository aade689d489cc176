"""Tests of the AISegment layout reader on a generated fixture in the exact layout."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trimatte.data.aisegment import aisegment_pairs
from trimatte.errors import InputError
from trimatte.io import read_alpha


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _make_aisegment(root):
    """Two sessions; one good pair each, plus every kind of bad file."""
    rgba = np.zeros((12, 10, 4), np.uint8)
    rgba[..., 3] = 200
    photo = np.full((12, 10, 3), 90, np.uint8)
    for sid in ("1803151818", "1803201916"):
        _write(root / "clip_img" / sid / f"clip_{sid}" / "good.jpg", photo)
        _write(root / "matting" / sid / f"matting_{sid}" / "good.png", rgba)
    sid = "1803151818"
    _write(root / "clip_img" / sid / f"clip_{sid}" / "no_matte.jpg", photo)
    _write(root / "matting" / sid / f"matting_{sid}" / "no_photo.png", rgba)
    _write(root / "clip_img" / sid / f"clip_{sid}" / "gray_matte.jpg", photo)
    _write(root / "matting" / sid / f"matting_{sid}" / "gray_matte.png", photo[..., 0])
    _write(root / "clip_img" / sid / f"clip_{sid}" / "corrupt.jpg", photo)
    (root / "matting" / sid / f"matting_{sid}" / "corrupt.png").write_bytes(b"\x89PNG broken")


def test_pairs_found_and_bad_pairs_reported(tmp_path, caplog):
    _make_aisegment(tmp_path)
    pairs, problems = aisegment_pairs(tmp_path, progress=False)
    assert [p.name for p in pairs] == ["1803151818/good", "1803201916/good"]
    assert pairs[0].image.parent.name == "clip_1803151818"
    assert pairs[0].alpha.parent.name == "matting_1803151818"
    reasons = {p.path.name: p.reason for p in problems}
    assert reasons == {
        "no_matte.jpg": "no matte for this photo",
        "no_photo.png": "no photo for this matte",
        "gray_matte.png": "expected 4 channels, found 1",
        "corrupt.png": "not a readable image",
    }
    assert "skipping AISegment file" in caplog.text
    # the 4th channel is the alpha
    np.testing.assert_allclose(read_alpha(pairs[0].alpha), 200 / 255, atol=1e-6)


def test_without_verification_only_matching_is_checked(tmp_path):
    _make_aisegment(tmp_path)
    pairs, problems = aisegment_pairs(tmp_path, verify=False)
    assert len(pairs) == 4 and len(problems) == 2


def test_not_an_aisegment_folder(tmp_path):
    with pytest.raises(InputError, match="not an AISegment folder"):
        aisegment_pairs(tmp_path)
