"""End-to-end tests of ``trimatte matte`` on small synthetic files."""

import re

import cv2
import numpy as np
import pytest

from tests.conftest import make_disc_scene
from trimatte.cli.main import main
from trimatte.io import read_alpha
from trimatte.trimap.morphology import trimap_from_alpha


@pytest.fixture
def scene_files(tmp_path):
    image, alpha, _, _ = make_disc_scene(size=48, radius=14, soft=3)
    images = tmp_path / "images"
    trimaps = tmp_path / "trimaps"
    images.mkdir()
    trimaps.mkdir()
    for name in ("one", "two"):
        cv2.imwrite(str(images / f"{name}.png"), (image[..., ::-1] * 255).round().astype(np.uint8))
        cv2.imwrite(str(trimaps / f"{name}.png"), trimap_from_alpha(alpha, band=3))
    return images, trimaps, alpha


def test_matte_with_trimap_folder_writes_every_output(scene_files, tmp_path, capsys):
    images, trimaps, alpha = scene_files
    out = tmp_path / "out"
    code = main(
        ["matte", str(images), "-o", str(out), "--trimap", str(trimaps),
         "--matting", "closed-form", "--save", "alpha,cutout,foreground,composite,trimap",
         "--background", "0,255,0"]
    )
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{n}_{s}.png" for n in ("one", "two")
        for s in ("alpha", "cutout", "fg", "composite", "trimap")
    )
    predicted = read_alpha(out / "one_alpha.png")
    assert np.abs(predicted - alpha).mean() < 0.02
    cutout = cv2.imread(str(out / "one_cutout.png"), cv2.IMREAD_UNCHANGED)
    assert cutout.shape == (48, 48, 4)
    composite = cv2.imread(str(out / "one_composite.png"))
    assert composite[0, 0, 1] > 200 and composite[0, 0, 0] < 50  # green corner (BGR)
    assert "2/2 image(s)" in capsys.readouterr().out


def test_bad_file_is_reported_and_skipped(scene_files, tmp_path, capsys):
    images, trimaps, _ = scene_files
    (images / "broken.png").write_bytes(b"not an image")
    cv2.imwrite(str(trimaps / "broken.png"), np.zeros((48, 48), np.uint8))
    out = tmp_path / "out"
    code = main(["matte", str(images), "-o", str(out), "--trimap", str(trimaps),
                 "--matting", "closed-form", "--save", "alpha"])
    assert code == 1
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "not a readable image" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["one_alpha.png", "two_alpha.png"]


@pytest.mark.parametrize(
    ("trimap", "message"),
    [
        (np.zeros((10, 10), np.uint8), "does not match|10x10"),
        (np.full((48, 48), 128, np.uint8), "foreground"),
    ],
)
def test_bad_trimaps_fail_with_a_clear_message(scene_files, tmp_path, capsys, trimap, message):
    images, _, _ = scene_files
    path = tmp_path / "t.png"
    cv2.imwrite(str(path), trimap)
    code = main(["matte", str(images / "one.png"), "-o", str(tmp_path / "o"),
                 "--trimap", str(path), "--matting", "closed-form"])
    assert code == 1
    err = capsys.readouterr().err
    assert "t.png" in err  # the message names the trimap file
    assert re.search(message, err)


def test_all_known_trimap_gives_the_trimap_back(scene_files, tmp_path):
    images, _, alpha = scene_files
    hard = np.where(alpha > 0.5, 255, 0).astype(np.uint8)
    path = tmp_path / "hard.png"
    cv2.imwrite(str(path), hard)
    out = tmp_path / "o"
    assert main(["matte", str(images / "one.png"), "-o", str(out), "--trimap", str(path),
                 "--matting", "closed-form", "--save", "alpha"]) == 0
    np.testing.assert_array_equal(read_alpha(out / "one_alpha.png"), hard / 255)


def test_refuses_to_overwrite_an_input(tmp_path, capsys):
    image, alpha, _, _ = make_disc_scene(size=32, radius=10)
    pixels = (image * 255).astype(np.uint8)
    trimaps = tmp_path / "trimaps"
    trimaps.mkdir()
    # "y.png" writes "y_alpha.png", which is also an input here, in the same folder.
    for stem in ("y", "y_alpha"):
        cv2.imwrite(str(tmp_path / f"{stem}.png"), pixels)
        cv2.imwrite(str(trimaps / f"{stem}.png"), trimap_from_alpha(alpha, band=2))
    before = (tmp_path / "y_alpha.png").read_bytes()
    code = main(["matte", str(tmp_path / "y.png"), str(tmp_path / "y_alpha.png"),
                 "-o", str(tmp_path), "--trimap", str(trimaps), "--matting", "closed-form",
                 "--save", "alpha"])
    assert code == 1
    assert (tmp_path / "y_alpha.png").read_bytes() == before
    assert "would overwrite an input" in capsys.readouterr().err
    assert (tmp_path / "y_alpha_alpha.png").is_file()  # the other image still ran


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["matte", str(tmp_path / "missing.jpg"), "-o", str(tmp_path)]) == 2
    assert "missing.jpg: file not found" in capsys.readouterr().err
    image, _, _, _ = make_disc_scene(size=16)
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), (image * 255).astype(np.uint8))
    assert main(["matte", str(path), "-o", str(tmp_path / "o"), "--save", "alpha,bogus"]) == 2
    assert main(["matte", str(path), "-o", str(tmp_path / "o"), "--matting", "nope"]) == 2
    assert "unknown stage 'nope'" in capsys.readouterr().err


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "matte" in out and "eval" in out


def test_contact_sheet_has_a_row_per_image(scene_files, tmp_path):
    images, trimaps, _ = scene_files
    sheet = tmp_path / "sheet.png"
    code = main(["matte", str(images), "-o", str(tmp_path / "o"), "--trimap", str(trimaps),
                 "--matting", "closed-form", "--save", "alpha", "--contact-sheet", str(sheet)])
    assert code == 0
    picture = cv2.imread(str(sheet))
    assert picture.shape[0] == 2 * (200 + 4)  # two rows of 200 px plus gaps
    assert picture.shape[1] > 3 * 200  # image | trimap | alpha | cutout
