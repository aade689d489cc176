"""``trimatte edit`` options: plain-text help, option errors before any work."""

from __future__ import annotations

import re

import pytest

from trimatte.cli import edit
from trimatte.cli.main import build_parser


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["edit", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--start auto" in text and "docs/editor.md" in text
    assert not re.search(r"``|:kbd:|:func:|:mod:|:class:|`", text), text


@pytest.mark.parametrize("options, match", [
    (["--matting", "no-such-stage"], "no-such-stage"),
    (["--start", "file"], "--trimap"),
    (["--preview-size", "4"], "preview-size"),
    (["--name", "a/b"], "stem"),
])
def test_bad_options_exit_2_before_reading_the_image(options, match, tmp_path, monkeypatch,
                                                      capsys):
    monkeypatch.setenv("DISPLAY", ":4321")  # never used: the options fail first
    missing = tmp_path / "missing.png"  # not read either
    assert edit.main([str(missing), "--out", str(tmp_path), *options]) == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err and "missing.png" not in err


def test_an_output_folder_that_cannot_be_made_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":4321")
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    assert edit.main([str(tmp_path / "missing.png"), "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "Traceback" not in err


def test_an_unreadable_image_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":4321")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert edit.main([str(bad), "--start", "rect", "--out", str(tmp_path)]) == 1
    assert "bad.png" in capsys.readouterr().err
