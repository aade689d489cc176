"""Fixtures of the CLI tests: tiny synthetic scenes on disk, and a runner of ``main``."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import make_disc_scene
from trimatte.cli.main import main
from trimatte.trimap.morphology import trimap_from_alpha


def write_scene(
    folder, names=("one", "two"), size=40, trimaps=None, suffix=".png", alphas=None
):
    """Write disc images ``folder/<name><suffix>`` (their trimaps into ``trimaps``, their
    ground-truth alphas into ``alphas``, as ``<name>.png``).

    Returns:
        The ground-truth alpha of the scene (the same for every name).
    """
    folder.mkdir(parents=True, exist_ok=True)
    image, alpha, _, _ = make_disc_scene(size=size, radius=size / 3.5, soft=3)
    for name in names:
        pixels = (image[..., ::-1] * 255).round().astype(np.uint8)
        assert cv2.imwrite(str(folder / f"{name}{suffix}"), pixels)
        if trimaps is not None:
            trimaps.mkdir(parents=True, exist_ok=True)
            assert cv2.imwrite(str(trimaps / f"{name}.png"), trimap_from_alpha(alpha, band=3))
        if alphas is not None:
            alphas.mkdir(parents=True, exist_ok=True)
            gray = (alpha * 255).round().astype(np.uint8)
            assert cv2.imwrite(str(alphas / f"{name}.png"), gray)
    return alpha


@pytest.fixture
def scene(tmp_path):
    """``tmp_path/images/{one,two}.png`` with trimaps in ``tmp_path/trimaps``."""
    images, trimaps = tmp_path / "images", tmp_path / "trimaps"
    alpha = write_scene(images, trimaps=trimaps)
    return images, trimaps, alpha


@pytest.fixture
def cli(capsys):
    """``cli(*args) -> (exit code, stdout, stderr)``; ``main`` runs in this process."""

    def run(*args):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def snapshot(*folders):
    """``{path: bytes}`` of every file under ``folders`` (to prove nothing changed)."""
    return {
        p: p.read_bytes() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()
    }


def error_lines(err: str) -> list[str]:
    """The ``trimatte: error:`` lines of a captured stderr."""
    return [line for line in err.splitlines() if line.startswith("trimatte: error:")]
