"""``trimatte matte --background-plate`` end to end on small synthetic files."""

import numpy as np

from tests.plate.conftest import make_plate_scene
from trimatte.cli.main import main
from trimatte.io import read_alpha, write_image


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_one_plate_for_a_file_and_plates_paired_by_name(tmp_path, capsys):
    scene = make_plate_scene(seed=8)
    photos, plates = tmp_path / "photos", tmp_path / "plates"
    write_image(photos / "shot.png", scene.photo)
    write_image(photos / "lonely.png", scene.photo)
    plate = write_image(plates / "shot_plate.png", scene.plate)

    out = tmp_path / "one"
    code, _, err = run(capsys, "matte", photos / "shot.png", "-o", out,
                       "--background-plate", plate, "--workers", "1",
                       "--save", "alpha,cutout,trimap")
    assert code == 0, err
    assert np.abs(read_alpha(out / "shot_alpha.png") - scene.alpha).mean() < 0.02
    assert (out / "shot_cutout.png").is_file() and (out / "shot_trimap.png").is_file()

    # A folder of plates: shot.png finds shot_plate.png; lonely.png has none and fails
    # alone, with one line naming it.
    out = tmp_path / "paired"
    code, _, err = run(capsys, "matte", photos, "-o", out, "--background-plate", plates,
                         "--workers", "1")
    assert code == 1
    assert (out / "shot_alpha.png").is_file() and not (out / "lonely_alpha.png").exists()
    errors = [line for line in err.splitlines() if "lonely" in line]
    assert len(errors) == 1 and "no plate" in errors[0]


def test_missing_plate_is_one_line(tmp_path, capsys):
    scene = make_plate_scene(seed=8)
    photo = write_image(tmp_path / "shot.png", scene.photo)
    code, _, err = run(capsys, "matte", photo, "-o", tmp_path / "out",
                       "--background-plate", tmp_path / "nope.png")
    assert code != 0
    assert "--background-plate" in err and "not found" in err and "Traceback" not in err
