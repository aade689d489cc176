"""The configuration is validated completely before the first image (issue 11, defect 6).

Each bad configuration below must exit with code 2 and one line, without reading any
image: the input is a corrupt file, so a per-image check would say "not a readable
image" (exit 1) instead.
"""

import dataclasses

import pytest

from tests.cli.conftest import error_lines
from trimatte.stages import GrabCutTrimap


@pytest.fixture
def corrupt(tmp_path):
    path = tmp_path / "corrupt.png"
    path.write_bytes(b"\x89PNG not really")
    return path


def refused(result, *words):
    code, _, err = result
    assert code == 2, err
    (line,) = error_lines(err)
    assert "Traceback" not in err and "not a readable image" not in err
    assert all(other.startswith("trimatte: ") for other in err.splitlines())  # no 2-line warnings
    for word in words:
        assert word.lower() in line.lower(), line
    return line


def band_field() -> str:
    """The name GrabCut's band parameter has (the issue-12 refactor may rename it)."""
    return next(f.name for f in dataclasses.fields(GrabCutTrimap) if "band" in f.name)


def test_bad_parameter_value(corrupt, tmp_path, cli):
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--matting", "closed-form",
                "--matting-param", "epsilon=small"), "epsilon", "small")


def test_misspelt_parameter_name_suggests_the_right_one(corrupt, tmp_path, cli):
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--matting", "closed-form",
                "--matting-param", "epsilom=1e-6"), "epsilom", "did you mean", "epsilon")


def test_misspelt_stage_name_suggests_the_right_one(corrupt, tmp_path, cli):
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--matting", "closed-from"),
            "did you mean", "closed-form")


@pytest.mark.parametrize("value", ["wide", "-5"])
def test_bad_band_in_a_pipeline_yaml(corrupt, tmp_path, cli, value):
    config = tmp_path / "p.yaml"
    config.write_text(
        "stages:\n"
        f"  - name: grabcut\n    params: {{{band_field()}: {value}}}\n"
        "  - name: closed-form\n"
    )
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--pipeline", config),
            band_field(), value)


def test_background_that_is_not_a_colour(corrupt, tmp_path, cli):
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--save", "composite",
                "--background", "notacolour"), "--background notacolour", "not a colour")


def test_pipeline_without_an_alpha_stage(corrupt, tmp_path, cli):
    config = tmp_path / "p.yaml"
    config.write_text("stages:\n  - name: grabcut\n")
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--pipeline", config),
            "p.yaml", "no alpha stage")
    refused(cli("eval", "--images", tmp_path, "--alphas", tmp_path, "--trimap-band", "3",
                "--pipeline", config), "no alpha stage")


def test_bad_parameter_for_eval(tmp_path, cli):
    refused(cli("eval", "--images", tmp_path, "--alphas", tmp_path, "--trimap-band", "3",
                "--matting", "closed-form", "--matting-param", "epsilon=small"), "epsilon")


def test_yaml_numbers_arrive_as_numbers(scene, tmp_path, cli):
    # YAML reads "1e-6" as a string; the stage's parameter types convert it.
    images, trimaps, _ = scene
    code, _, err = cli("matte", images / "one.png", "-o", tmp_path / "o", "--trimap",
                       trimaps / "one.png", "--matting", "closed-form", "--workers", "1",
                       "--matting-param", "epsilon=1e-6", "--save", "alpha")
    assert code == 0, err


def test_no_trimap_source_and_no_trimap(corrupt, tmp_path, cli):
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--trimap-method", "given"),
            "no trimap source", "--trimap")
    config = tmp_path / "p.yaml"
    config.write_text("stages:\n  - name: given\n  - name: closed-form\n")
    refused(cli("matte", corrupt, "-o", tmp_path / "o", "--pipeline", config),
            "p.yaml", "no trimap source")
