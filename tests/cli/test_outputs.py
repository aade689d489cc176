"""Outputs are checked before any work, never replace an input, and are recognisable
(issue 11, defects 1-3: each reproduction of the issue is a test here)."""

import json
import os
import shutil

import pytest

from tests.cli.conftest import error_lines, snapshot, write_scene
from trimatte.cli import outputs
from trimatte.cli.outputs import RECORD_NAME, InputSet, is_own_output, record_outputs

CF = ("--matting", "closed-form", "--workers", "1")


@pytest.fixture
def ow(tmp_path):
    """The issue's ``ow/`` folder: one photo ``a.jpg`` with its trimap ``a_trimap.png``."""
    folder = tmp_path / "ow"
    write_scene(folder, names=("a",), suffix=".jpg", trimaps=tmp_path / "t")
    shutil.move(tmp_path / "t" / "a.png", folder / "a_trimap.png")
    return folder


def assert_refused(result, *words):
    code, stdout, err = result
    assert code == 2, err
    (line,) = error_lines(err)
    assert "Traceback" not in err
    for word in words:
        assert word in line
    assert "image(s) written" not in stdout  # nothing was processed


# --------------------------------------------------------------------- defect 1


@pytest.mark.parametrize("spelling", ["plain", "dotdot", "symlink", "hardlink"])
def test_contact_sheet_never_overwrites_an_input(ow, tmp_path, cli, spelling):
    target = {
        "plain": ow / "a.jpg",
        "dotdot": ow / ".." / "ow" / "a.jpg",
        "symlink": tmp_path / "link.jpg",
        "hardlink": tmp_path / "hard.jpg",
    }[spelling]
    if spelling == "symlink":
        target.symlink_to(ow / "a.jpg")
    if spelling == "hardlink":
        os.link(ow / "a.jpg", target)
    before = snapshot(ow)
    result = cli("matte", ow, "-o", tmp_path / "out", "--trimap", ow, *CF,
                 "--contact-sheet", target)
    assert_refused(result, "--contact-sheet would overwrite the input", "a.jpg")
    assert snapshot(ow) == before
    assert not list((tmp_path / "out").glob("*.png"))


def test_outputs_never_overwrite_a_trimap(ow, cli):
    # a.jpg's trimap is ow/a_trimap.png; --save trimap into ow/ would replace it.
    before = snapshot(ow)
    result = cli("matte", ow / "a.jpg", "-o", ow, "--trimap", ow, *CF, "--save", "alpha,trimap")
    assert_refused(result, "would overwrite the input", "a_trimap.png")
    assert snapshot(ow) == before


# --------------------------------------------------------------------- defect 2


def test_output_folder_that_is_a_file(ow, tmp_path, cli):
    (tmp_path / "file").write_text("x")
    assert_refused(cli("matte", ow, "-o", tmp_path / "file", "--trimap", ow, *CF),
                   "file", "exists and is not a folder")


def test_output_folder_without_write_permission(ow, tmp_path, cli, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # Root ignores permission bits, so the refusal is simulated where the probe writes.
    monkeypatch.setattr(outputs.tempfile, "mkstemp", refuse)
    assert_refused(cli("matte", ow, "-o", tmp_path / "out", "--trimap", ow, *CF),
                   "out", "cannot write into the output folder (Permission denied)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_folder_read_only(ow, tmp_path, cli):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert_refused(cli("matte", ow, "-o", locked, "--trimap", ow, *CF), "locked", "cannot write")


def test_output_folder_that_cannot_be_created(ow, tmp_path, cli):
    (tmp_path / "file").write_text("x")
    assert_refused(cli("matte", ow, "-o", tmp_path / "file" / "sub", "--trimap", ow, *CF),
                   "cannot create the output folder")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("folder", ["--contact-sheet is a folder"]),
        ("sheet.xyz", ["cannot write images of type '.xyz'"]),
        ("missing/sub/sheet.png", []),  # folders are created: accepted
        ("file/sheet.png", ["file: folder of --contact-sheet", "is not a folder"]),
    ],
)
def test_contact_sheet_target_is_checked_first(ow, tmp_path, cli, name, words):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    result = cli("matte", ow, "-o", tmp_path / "out", "--trimap", ow, *CF, "--save", "alpha",
                 "--contact-sheet", tmp_path / name)
    if words:
        assert_refused(result, *words)
    else:
        assert result[0] == 0 and (tmp_path / name).is_file()


def test_contact_sheet_may_not_replace_an_output(ow, tmp_path, cli):
    out = tmp_path / "out"
    assert_refused(cli("matte", ow, "-o", out, "--trimap", ow, *CF, "--save", "alpha",
                       "--contact-sheet", out / "a_alpha.png"),
                   "--contact-sheet would overwrite the alpha of")


def test_output_path_taken_by_a_folder(ow, tmp_path, cli):
    (tmp_path / "out" / "a_alpha.png").mkdir(parents=True)
    assert_refused(cli("matte", ow, "-o", tmp_path / "out", "--trimap", ow, *CF),
                   "a_alpha.png", "is a folder")


def test_eval_json_that_is_a_folder_is_refused_before_computing(ow, tmp_path, cli):
    alphas = tmp_path / "alphas"
    write_scene(tmp_path / "unused", names=("a",), alphas=alphas)
    result = cli("eval", "--images", ow, "--alphas", alphas, "--trimaps", ow,
                 "--json", tmp_path)
    assert_refused(result, "--json is a folder")
    assert "SAD" not in result[1]


def test_eval_never_writes_over_ground_truth(ow, tmp_path, cli):
    alphas = tmp_path / "alphas"
    write_scene(tmp_path / "unused", names=("a",), alphas=alphas)
    before = snapshot(alphas)
    assert_refused(cli("eval", "--images", ow, "--alphas", alphas, "--trimaps", ow,
                       "--matting", "closed-form", "--save-pred", alphas),
                   "--save-pred would overwrite the input")
    assert_refused(cli("eval", "--images", ow, "--alphas", alphas, "--trimaps", ow,
                       "--matting", "closed-form", "--json", alphas / "a.png"),
                   "--json would overwrite the input")
    assert snapshot(alphas) == before


def test_eval_json_is_written(ow, tmp_path, cli):
    alphas = tmp_path / "alphas"
    write_scene(tmp_path / "unused", names=("a",), alphas=alphas)
    code, _, _ = cli("eval", "--images", ow, "--alphas", alphas, "--trimaps", ow,
                     "--matting", "closed-form", "--json", tmp_path / "new" / "s.json")
    assert code == 0
    assert json.loads((tmp_path / "new" / "s.json").read_text())["images"][0]["name"] == "a"


# --------------------------------------------------------------------- defect 3


def test_second_run_into_the_input_folder_skips_the_first_runs_outputs(ow, cli):
    args = ("matte", ow, "-o", ow, "--trimap", ow, *CF, "--save", "alpha,cutout",
            "--contact-sheet", ow / "sheet.png")
    code, _, _ = cli(*args)
    assert code == 0
    first = snapshot(ow)
    code, stdout, err = cli(*args)
    assert code == 0, err
    assert "1/1 image(s)" in stdout
    assert "skipped 4 file(s) named like trimatte outputs" in err  # trimap, alpha, cutout, sheet
    assert sorted(p.name for p in ow.iterdir()) == sorted(
        [RECORD_NAME, "a.jpg", "a_trimap.png", "a_alpha.png", "a_cutout.png", "sheet.png"]
    )
    assert set(snapshot(ow)) == set(first)


def test_a_file_named_explicitly_is_processed(ow, tmp_path, cli):
    shutil.copy(ow / "a.jpg", ow / "b_alpha.jpg")
    shutil.copy(ow / "a_trimap.png", ow / "b_alpha_trimap.png")
    code, _, err = cli("matte", ow / "b_alpha.jpg", "-o", tmp_path / "o", "--trimap", ow, *CF,
                       "--save", "alpha")
    assert code == 0, err
    assert (tmp_path / "o" / "b_alpha_alpha.png").is_file()


def test_record_and_recognition(tmp_path):
    record_outputs([tmp_path / "x.png", tmp_path / "y.jpg", tmp_path / "x.png"])
    record_outputs([tmp_path / "x.png"])
    assert (tmp_path / RECORD_NAME).read_text() == "x.png\ny.jpg\n"
    assert is_own_output(tmp_path / "y.jpg") and is_own_output(tmp_path / "q_alpha.png")
    assert not is_own_output(tmp_path / "q.png")


def test_input_set_finds_every_spelling(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    os.link(tmp_path / "a.png", tmp_path / "sub" / "h.png")
    inputs = InputSet([tmp_path / "a.png", tmp_path / "new.png"])
    assert inputs.find(tmp_path / "sub" / ".." / "a.png") == tmp_path / "a.png"
    assert inputs.find(tmp_path / "sub" / "h.png") == tmp_path / "a.png"
    assert inputs.find(tmp_path / "new.png") == tmp_path / "new.png"  # not written yet
    assert inputs.find(tmp_path / "other.png") is None


def test_a_background_image_is_an_input_too(ow, tmp_path, cli):
    background = tmp_path / "bg.png"
    shutil.copy(ow / "a_trimap.png", background)
    before = background.read_bytes()
    assert_refused(cli("matte", ow, "-o", tmp_path / "out", "--trimap", ow, *CF,
                       "--save", "composite", "--background", background,
                       "--contact-sheet", background),
                   "--contact-sheet would overwrite the input", "bg.png")
    assert background.read_bytes() == before
