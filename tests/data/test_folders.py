"""Tests of trimatte.data.folders (image/alpha, fg/alpha and shared layouts)."""

from __future__ import annotations

import numpy as np
import pytest

from trimatte.data import folders
from trimatte.errors import InputError
from trimatte.io import write_alpha, write_image


def _write_pair(root, stem, size=(20, 30), alpha_size=None, fg_dir="image"):
    write_image(root / fg_dir / f"{stem}.jpg", np.full((*size, 3), 0.5, np.float32))
    write_alpha(root / "alpha" / f"{stem}.png", np.full(alpha_size or size, 0.5, np.float32))


def test_image_alpha_pairs_match_by_stem_and_report_strays(tmp_path):
    _write_pair(tmp_path, "a")
    _write_pair(tmp_path, "b")
    write_image(tmp_path / "image" / "lonely.jpg", np.zeros((4, 4, 3), np.float32))
    write_alpha(tmp_path / "alpha" / "orphan.png", np.zeros((4, 4), np.float32))
    pairs, problems = folders.image_alpha_pairs(tmp_path, prefix="set")
    assert [p.name for p in pairs] == ["set/a", "set/b"]
    assert pairs[0].image.name == "a.jpg" and pairs[0].alpha.name == "a.png"
    assert not pairs[0].is_foreground
    reasons = {p.path.name: p.reason for p in problems}
    assert reasons == {"lonely.jpg": "no alpha matte with this name",
                       "orphan.png": "no image with this name"}


def test_foreground_pairs_are_marked(tmp_path):
    _write_pair(tmp_path, "x", fg_dir="fg")
    pairs, problems = folders.foreground_alpha_pairs(tmp_path)
    assert len(pairs) == 1 and pairs[0].is_foreground and not problems


def test_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="image folder not found"):
        folders.image_alpha_pairs(tmp_path)


def test_verify_pairs_rejects_unreadable_and_mismatched(tmp_path):
    _write_pair(tmp_path, "good")
    _write_pair(tmp_path, "small", alpha_size=(10, 30))
    _write_pair(tmp_path, "broken")
    (tmp_path / "alpha" / "broken.png").write_bytes(b"not a png")
    _write_pair(tmp_path, "empty")
    (tmp_path / "image" / "empty.jpg").write_bytes(b"")
    pairs, _ = folders.image_alpha_pairs(tmp_path)
    good, problems = folders.verify_pairs(pairs, progress=False)
    assert [p.name for p in good] == ["good"]
    reasons = {p.path.name: p.reason for p in problems}
    assert reasons["broken.png"] == "not a readable image"
    assert reasons["empty.jpg"] == "file is empty"
    assert "differs from the image's" in reasons["small.png"]


def test_backgrounds(tmp_path):
    with pytest.raises(InputError, match="holds no images"):
        (tmp_path / "bg").mkdir()
        folders.list_backgrounds(tmp_path / "bg")
    write_image(tmp_path / "bg" / "b.png", np.zeros((4, 4, 3), np.float32))
    assert [p.name for p in folders.list_backgrounds(tmp_path / "bg")] == ["b.png"]


def test_synthetic_folders_make_a_valid_layout(tmp_path):
    image_dir, alpha_dir, bg_dir = folders.make_synthetic_folders(tmp_path, count=3, size=24,
                                                                  backgrounds=2)
    pairs, problems = folders.match_by_stem(image_dir, alpha_dir)
    assert len(pairs) == 3 and not problems
    assert len(folders.list_backgrounds(bg_dir)) == 2
    good, bad = folders.verify_pairs(pairs, progress=False)
    assert len(good) == 3 and not bad


def test_shared_pairs_unknown_subset(tmp_path):
    with pytest.raises(InputError, match="unknown subset"):
        folders.shared_pairs(tmp_path, sets=["nope"])


@pytest.mark.shared
def test_shared_layout(shared_dir):
    pairs, problems = folders.shared_pairs(shared_dir / "data")
    assert len(pairs) == 13 + 23 and not problems
    assert sum(p.name.startswith("am2k/") for p in pairs) == 13
    assert len(folders.shared_backgrounds(shared_dir / "data")) == 139
