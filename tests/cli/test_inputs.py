"""Inputs: a missing file is skipped, trimap names round-trip, eval blames the right folder
(issue 11, defects 4 and 5), and warnings go to stderr."""

import cv2
import numpy as np
import pytest

from tests.cli.conftest import error_lines, write_scene
from trimatte.io import read_alpha

CF = ("--matting", "closed-form", "--workers", "1")


def test_missing_file_is_reported_and_the_batch_goes_on(scene, tmp_path, cli):
    images, trimaps, _ = scene
    out = tmp_path / "out"
    code, stdout, err = cli("matte", images / "one.png", tmp_path / "missing.jpg",
                            images / "two.png", "-o", out, "--trimap", trimaps, *CF,
                            "--save", "alpha")
    assert code == 1
    assert error_lines(err) == [f"trimatte: error: {tmp_path / 'missing.jpg'}: file not found"]
    assert (out / "one_alpha.png").is_file() and (out / "two_alpha.png").is_file()
    assert "2/3 image(s) written" in stdout
    assert f"  {tmp_path / 'missing.jpg'}: file not found" in stdout.splitlines()


def test_missing_folder_says_folder_not_found(scene, tmp_path, cli):
    images, trimaps, _ = scene
    code, stdout, err = cli("matte", tmp_path / "nofolder", images, "-o", tmp_path / "out",
                            "--trimap", trimaps, *CF, "--save", "alpha")
    assert code == 1
    assert f"{tmp_path / 'nofolder'}: folder not found" in err
    assert "2/3 image(s) written" in stdout


def test_nothing_left_to_process(tmp_path, cli):
    code, stdout, err = cli("matte", tmp_path / "gone.png", "-o", tmp_path / "out", *CF)
    assert code == 1
    assert "gone.png: file not found" in err and "no image to process" in stdout


def test_trimap_names_round_trip_through_matte_and_eval(scene, tmp_path, cli):
    images, trimaps, alpha = scene
    first = tmp_path / "first"
    # --save trimap writes X_trimap.png ...
    code, _, _ = cli("matte", images, "-o", first, "--trimap", trimaps, *CF,
                     "--save", "alpha,trimap")
    assert code == 0 and (first / "one_trimap.png").is_file()
    # ... which --trimap DIR reads back (X_trimap.png), like X.png,
    code, _, err = cli("matte", images, "-o", tmp_path / "second", "--trimap", first, *CF,
                       "--save", "alpha")
    assert code == 0, err
    np.testing.assert_array_equal(read_alpha(tmp_path / "second" / "one_alpha.png"),
                                  read_alpha(first / "one_alpha.png"))
    # ... and so does eval --trimaps DIR.
    alphas = tmp_path / "alphas"
    alphas.mkdir()
    for name in ("one", "two"):
        cv2.imwrite(str(alphas / f"{name}.png"), (alpha * 255).round().astype(np.uint8))
    code, stdout, err = cli("eval", "--images", images, "--alphas", alphas, "--trimaps", first,
                            "--pred", first)
    assert code == 0, err
    assert "one" in stdout and "two" in stdout


def test_trimaps_beside_their_images(tmp_path, cli):
    folder = tmp_path / "shoot"
    write_scene(folder, names=("a", "b"), suffix=".jpg", trimaps=tmp_path / "t")
    for name in ("a", "b"):
        (tmp_path / "t" / f"{name}.png").rename(folder / f"{name}_trimap.png")
    code, stdout, err = cli("matte", folder, "-o", tmp_path / "out", "--trimap", folder, *CF,
                            "--save", "alpha")
    assert code == 0, err
    assert "2/2 image(s)" in stdout


def test_missing_trimap_in_folder_fails_that_image_only(scene, tmp_path, cli):
    images, trimaps, _ = scene
    (trimaps / "two.png").unlink()
    code, stdout, err = cli("matte", images, "-o", tmp_path / "out", "--trimap", trimaps, *CF,
                            "--save", "alpha")
    assert code == 1
    (line,) = error_lines(err)
    assert "two.png" in line and "no trimap named two_trimap.png or two.png" in line
    assert "1/2 image(s)" in stdout


def test_missing_trimap_folder_is_a_usage_error(scene, tmp_path, cli):
    images, _, _ = scene
    code, _, err = cli("matte", images, "-o", tmp_path / "out", "--trimap", tmp_path / "nope",
                       *CF)
    assert code == 2
    assert error_lines(err) == [f"trimatte: error: --trimap {tmp_path / 'nope'}: folder not found"]


def test_eval_blames_the_trimap_folder_when_no_trimap_matches(scene, tmp_path, cli):
    images, trimaps, _ = scene
    alphas = tmp_path / "alphas"
    write_scene(tmp_path / "unused", alphas=alphas)
    for p in trimaps.iterdir():
        p.rename(trimaps / f"other_{p.name}")
    code, _, err = cli("eval", "--images", images, "--alphas", alphas, "--trimaps", trimaps)
    assert code == 2
    (line,) = error_lines(err)
    assert line.startswith(f"trimatte: error: {trimaps}: ") and "matching trimap" in line


def test_eval_blames_the_alpha_folder_when_no_alpha_matches(scene, tmp_path, cli):
    images, trimaps, _ = scene
    (tmp_path / "alphas").mkdir()
    code, _, err = cli("eval", "--images", images, "--alphas", tmp_path / "alphas",
                       "--trimaps", trimaps)
    assert code == 2
    assert f"{tmp_path / 'alphas'}: no image in" in err and "matching alpha" in err


@pytest.mark.parametrize("flag", ["--images", "--alphas", "--trimaps", "--pred"])
def test_eval_missing_folder(scene, tmp_path, cli, flag):
    images, trimaps, _ = scene
    folders = {"--images": images, "--alphas": tmp_path / "alphas", "--trimaps": trimaps,
               "--pred": tmp_path / "pred"}
    write_scene(tmp_path / "unused", alphas=tmp_path / "alphas")
    (tmp_path / "pred").mkdir()
    folders[flag] = tmp_path / "missing"
    code, _, err = cli("eval", *[str(x) for kv in folders.items() for x in kv])
    assert code == 2
    assert error_lines(err) == [f"trimatte: error: {tmp_path / 'missing'}: folder not found"]


def test_rgba_warning_goes_to_stderr(scene, tmp_path, cli):
    images, trimaps, _ = scene
    pixels = cv2.imread(str(images / "one.png"))
    rgba = np.dstack([pixels, np.full(pixels.shape[:2], 200, np.uint8)])
    cv2.imwrite(str(images / "one.png"), rgba)
    code, stdout, err = cli("matte", images / "one.png", "-o", tmp_path / "o", "--trimap",
                            trimaps / "one.png", *CF, "--save", "alpha")
    assert code == 0
    assert "alpha channel" not in stdout
    assert "trimatte: warning:" in err and "alpha channel" in err


def test_stale_temp_files_of_a_killed_run_are_removed(scene, tmp_path, cli):
    import subprocess
    import sys

    images, trimaps, _ = scene
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (out / f".one_alpha.png.{dead}.k1ll3d.tmp").write_bytes(b"half")
    code, _, _ = cli("matte", images, "-o", out, "--trimap", trimaps, *CF, "--save", "alpha")
    assert code == 0
    assert not list(out.glob("*.tmp"))
