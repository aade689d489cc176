"""End-to-end tests of ``trimatte matte`` on small synthetic files."""

import re

import cv2
import numpy as np
import pytest

from tests.cli.conftest import error_lines
from tests.conftest import make_disc_scene
from trimatte.cli.outputs import RECORD_NAME
from trimatte.io import read_alpha
from trimatte.trimap.morphology import trimap_from_alpha

CF = ("--matting", "closed-form", "--workers", "1")


def listing(folder):
    return sorted(p.name for p in folder.iterdir() if p.name != RECORD_NAME)


def test_matte_with_trimap_folder_writes_every_output(scene, tmp_path, cli):
    images, trimaps, alpha = scene
    out = tmp_path / "out"
    code, stdout, _ = cli("matte", images, "-o", out, "--trimap", trimaps, *CF,
                          "--save", "alpha,cutout,foreground,composite,trimap",
                          "--background", "0,255,0")
    assert code == 0
    assert listing(out) == sorted(
        f"{n}_{s}.png" for n in ("one", "two")
        for s in ("alpha", "cutout", "fg", "composite", "trimap")
    )
    predicted = read_alpha(out / "one_alpha.png")
    assert np.abs(predicted - alpha).mean() < 0.02
    cutout = cv2.imread(str(out / "one_cutout.png"), cv2.IMREAD_UNCHANGED)
    assert cutout.shape == (40, 40, 4)
    composite = cv2.imread(str(out / "one_composite.png"))
    assert composite[0, 0, 1] > 200 and composite[0, 0, 0] < 50  # green corner (BGR)
    assert "2/2 image(s)" in stdout


def test_composite_comes_from_the_pipelines_composite_stage(scene, tmp_path, cli, monkeypatch):
    """The CLI only writes what the pipeline made: no compositing of its own."""
    from trimatte.foreground import compositing

    images, trimaps, _ = scene
    calls = []
    original = compositing.composite
    monkeypatch.setattr(compositing, "composite",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    code, _, _ = cli("matte", images / "one.png", "-o", tmp_path / "o", "--trimap",
                     trimaps / "one.png", *CF, "--save", "composite", "--background", "red")
    assert code == 0 and len(calls) == 1
    assert cv2.imread(str(tmp_path / "o" / "one_composite.png"))[0, 0, 2] > 200  # red (BGR)


def test_bad_file_is_reported_and_skipped(scene, tmp_path, cli):
    images, trimaps, _ = scene
    (images / "broken.png").write_bytes(b"not an image")
    cv2.imwrite(str(trimaps / "broken.png"), np.zeros((40, 40), np.uint8))
    out = tmp_path / "out"
    code, stdout, err = cli("matte", images, "-o", out, "--trimap", trimaps, *CF, "--save", "alpha")
    assert code == 1
    assert "broken.png" in err and "not a readable image" in err
    assert listing(out) == ["one_alpha.png", "two_alpha.png"]
    assert "1 failed" in stdout and "broken.png: not a readable image" in stdout


@pytest.mark.parametrize(
    ("trimap", "message"),
    [
        (np.zeros((10, 10), np.uint8), "does not match|10x10"),
        (np.full((40, 40), 128, np.uint8), "foreground"),
    ],
)
def test_bad_trimaps_fail_with_a_clear_message(scene, tmp_path, cli, trimap, message):
    images, _, _ = scene
    path = tmp_path / "t.png"
    cv2.imwrite(str(path), trimap)
    code, _, err = cli("matte", images / "one.png", "-o", tmp_path / "o", "--trimap", path, *CF)
    assert code == 1
    (line,) = error_lines(err)
    assert "t.png" in line  # the message names the trimap file
    assert re.search(message, line)


def test_all_known_trimap_gives_the_trimap_back(scene, tmp_path, cli):
    images, _, alpha = scene
    hard = np.where(alpha > 0.5, 255, 0).astype(np.uint8)
    path = tmp_path / "hard.png"
    cv2.imwrite(str(path), hard)
    out = tmp_path / "o"
    code, _, _ = cli("matte", images / "one.png", "-o", out, "--trimap", path, *CF,
                     "--save", "alpha")
    assert code == 0
    np.testing.assert_array_equal(read_alpha(out / "one_alpha.png"), hard / 255)


def test_refuses_to_overwrite_an_input_before_any_work(tmp_path, cli):
    image, alpha, _, _ = make_disc_scene(size=32, radius=10)
    pixels = (image * 255).astype(np.uint8)
    trimaps = tmp_path / "trimaps"
    trimaps.mkdir()
    # "y.png" writes "y_alpha.png", which is also an input here, in the same folder.
    for stem in ("y", "y_alpha"):
        cv2.imwrite(str(tmp_path / f"{stem}.png"), pixels)
        cv2.imwrite(str(trimaps / f"{stem}.png"), trimap_from_alpha(alpha, band=2))
    before = (tmp_path / "y_alpha.png").read_bytes()
    code, _, err = cli("matte", tmp_path / "y.png", tmp_path / "y_alpha.png", "-o", tmp_path,
                       "--trimap", trimaps, *CF, "--save", "alpha")
    assert code == 2
    assert (tmp_path / "y_alpha.png").read_bytes() == before
    (line,) = error_lines(err)
    assert "y_alpha.png" in line and "would overwrite the input" in line
    assert not (tmp_path / "y_alpha_alpha.png").exists()  # nothing ran


def test_usage_errors_exit_2(tmp_path, cli):
    image, _, _, _ = make_disc_scene(size=16)
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), (image * 255).astype(np.uint8))
    code, _, err = cli("matte", path, "-o", tmp_path / "o", "--save", "alpha,bogus")
    assert code == 2 and "--save" in err
    code, _, err = cli("matte", path, "-o", tmp_path / "o", "--matting", "nope")
    assert code == 2 and "unknown stage 'nope'" in err
    with pytest.raises(SystemExit) as info:
        cli("matte", path, "-o", tmp_path / "o", "--workers", "0")
    assert info.value.code == 2


def test_help_lists_subcommands(cli):
    with pytest.raises(SystemExit) as info:
        cli("--help")
    assert info.value.code == 0


def test_contact_sheet_has_a_row_per_image(scene, tmp_path, cli):
    images, trimaps, _ = scene
    sheet = tmp_path / "sheet.png"
    code, _, _ = cli("matte", images, "-o", tmp_path / "o", "--trimap", trimaps, *CF,
                     "--save", "alpha", "--contact-sheet", sheet)
    assert code == 0
    picture = cv2.imread(str(sheet))
    assert picture.shape[0] == 2 * (200 + 4)  # two rows of 200 px plus gaps
    assert picture.shape[1] > 3 * 200  # image | trimap | alpha | cutout


def test_a_failed_write_or_computation_fails_only_that_image(tmp_path, cli, monkeypatch):
    import errno

    from tests.cli.conftest import write_scene
    from trimatte.cli import jobs
    from trimatte.stages import ClosedFormAlpha

    images, trimaps = tmp_path / "images", tmp_path / "trimaps"
    write_scene(images, names=("a", "b", "c"), trimaps=trimaps)
    real_write, real_run = jobs.write_alpha, ClosedFormAlpha.run

    def disk_full_for_a(path, alpha):
        if path.name.startswith("a_"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, alpha)

    def crash_on_b(self, state):  # images run in name order: the second call is b's
        crash_on_b.calls += 1
        if crash_on_b.calls == 2:
            raise RuntimeError("solver blew up")
        return real_run(self, state)

    crash_on_b.calls = 0
    monkeypatch.setattr(jobs, "write_alpha", disk_full_for_a)
    monkeypatch.setattr(ClosedFormAlpha, "run", crash_on_b)
    out = tmp_path / "out"
    code, stdout, err = cli("matte", images, "-o", out, "--trimap", trimaps, *CF, "--save", "alpha")
    assert code == 1
    lines = error_lines(err)
    assert len(lines) == 2
    assert "a_alpha.png: cannot write (No space left on device)" in lines[0]
    assert "b.png: failed (RuntimeError: solver blew up)" in lines[1]
    assert listing(out) == ["c_alpha.png"]
    assert "1/3 image(s)" in stdout and "2 failed:" in stdout
