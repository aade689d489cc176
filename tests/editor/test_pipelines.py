"""The editor runs trimatte Pipelines (trimatte.editor.pipelines) and writes their results."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from tests.conftest import REPO, make_disc_scene
from trimatte.api import build_pipeline, matte
from trimatte.editor.pipelines import (
    automatic_trimap,
    editor_pipeline,
    preview_alpha_of,
    run_matte,
    run_outputs,
    warm_up,
)
from trimatte.editor.state import EditorState
from trimatte.errors import InputError, ModelUnavailableError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.io import read_alpha, read_trimap, write_alpha, write_rgba, write_trimap
from trimatte.pipeline import MatteState, Pipeline, Stage
from trimatte.trimap.morphology import trimap_from_alpha


def disc(size: int = 48, band: int = 3):
    image, alpha, _, _ = make_disc_scene(size=size, radius=size * 0.28)
    return image, trimap_from_alpha(alpha, band)


def test_the_editor_pipeline_is_built_from_stage_names():
    pipeline = editor_pipeline()
    assert [s.role for s in pipeline.stages] == ["trimap", "alpha", "foreground", "composite"]
    names = [s.registry_name for s in pipeline.stages]
    assert names[0] == "given" and names[2:] == ["multilevel-foreground", "cutout"]
    alpha = pipeline.stage("alpha")  # build_pipeline may wrap it for very large images
    inner = alpha.inner["name"] if alpha.registry_name == "refined" else alpha.registry_name
    assert inner == "closed-form"
    assert editor_pipeline("grabcut-hard").stage("alpha").registry_name == "grabcut-hard"
    with pytest.raises(InputError):
        editor_pipeline("no-such-stage")


def test_save_writes_exactly_what_the_library_pipeline_gives(tmp_path):
    image, trimap = disc()
    state = EditorState(image, trimap)
    state.paint([(3, 3), (40, 3)], FOREGROUND, radius=1)
    paths = state.save(tmp_path / "editor", "disc")
    expected = matte(image, np.array(state.trimap), pipeline=build_pipeline(
        trimap_method=None, matting="closed-form"))
    reference = {
        "trimap": write_trimap(tmp_path / "ref" / "t.png", expected.trimap),
        "alpha": write_alpha(tmp_path / "ref" / "a.png", expected.alpha),
        "cutout": write_rgba(tmp_path / "ref" / "c.png", expected.foreground, expected.alpha),
    }
    for kind, path in paths.items():
        assert path.read_bytes() == reference[kind].read_bytes(), kind


def test_the_alpha_stage_is_chosen_by_name(tmp_path):
    image, trimap = disc(40)
    state = EditorState(image, trimap, matting="grabcut-hard")
    preview = state.preview_alpha(max_side=None)
    assert set(np.unique(preview)) <= {0.0, 1.0}  # a hard matte
    paths = state.save(tmp_path, "hard", refine=True)
    assert set(np.unique(read_alpha(paths["alpha"]))) <= {0.0, 1.0}
    with pytest.raises(InputError):
        EditorState(image, trimap, matting="no-such-stage")


def test_fast_save_reuses_the_preview_through_the_output_stages(tmp_path):
    image, trimap = disc(64)
    state = EditorState(image, trimap)
    preview = state.preview_alpha(max_side=24)
    result = state.matte(refine=False)
    assert result.alpha is preview
    assert result.composite.shape == (64, 64, 4)
    assert np.array_equal(result.composite[:, :, 3], preview)
    assert set(result.timings) == {"foreground:multilevel-foreground", "composite:cutout"}
    paths = state.save(tmp_path, "fast", refine=False)
    assert np.abs(read_alpha(paths["alpha"]) - preview).max() <= 0.5 / 255 + 1e-6


def test_a_trimap_without_unknown_pixels_is_its_own_matte():
    image, _ = disc(32)
    trimap = np.full((32, 32), BACKGROUND, np.uint8)
    trimap[8:20, 8:20] = FOREGROUND
    result = run_matte(editor_pipeline(), image, trimap)
    assert np.array_equal(result.alpha, (trimap == FOREGROUND).astype(np.float32))
    assert result.foreground is not None and result.composite.shape == (32, 32, 4)


def test_preview_falls_back_to_full_resolution_when_shrinking_loses_the_subject():
    image = np.full((120, 120, 3), 0.2, np.float32)
    image[:, 59:61] = 0.9
    trimap = np.full((120, 120), BACKGROUND, np.uint8)
    trimap[:, 56:64] = UNKNOWN
    trimap[:, 59:61] = FOREGROUND  # two pixels wide: gone at 16 px
    alpha = preview_alpha_of(image, trimap, 16)
    assert alpha.shape == (120, 120)
    assert np.all(alpha[trimap == FOREGROUND] == 1.0)
    assert np.all(alpha[trimap == BACKGROUND] == 0.0)


@dataclass(kw_only=True)
class _NoWeights(Stage):
    role = "alpha"

    def run(self, state: MatteState) -> MatteState:
        raise ModelUnavailableError("no weights for this alpha stage")


def test_warm_up_runs_the_alpha_stage_and_reports_its_errors():
    warm_up(editor_pipeline())
    with pytest.raises(ModelUnavailableError, match="no weights"):
        warm_up(editor_pipeline().replace("alpha", _NoWeights()))


def test_run_outputs_runs_only_the_foreground_and_composite_stages():
    image, trimap = disc(32)
    alpha = (trimap == FOREGROUND).astype(np.float32)
    result = run_outputs(editor_pipeline(), image, trimap, alpha)
    assert isinstance(result, MatteState) and result.alpha is alpha
    assert result.foreground.shape == (32, 32, 3)


@dataclass(kw_only=True)
class _Unavailable(Stage):
    role = "trimap"

    def run(self, state: MatteState) -> MatteState:
        raise ModelUnavailableError("weights are not installed")


def test_automatic_trimap_falls_back_to_grabcut_and_says_so(monkeypatch):
    import trimatte.api

    monkeypatch.setattr(trimatte.api, "default_pipeline", lambda: Pipeline([_Unavailable()]))
    image, _ = disc(64)
    trimap, message = automatic_trimap(image, band=2)
    assert trimap.shape == (64, 64) and (trimap == FOREGROUND).any()
    assert "GrabCut" in message and "weights are not installed" in message


def test_the_editor_logic_imports_no_gui_module():
    code = (
        "import sys, trimatte.editor, trimatte.editor.state, trimatte.editor.operations, "
        "trimatte.editor.history, trimatte.editor.pipelines\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'tkinter') "
        "or m in ('trimatte.editor.gui', 'trimatte.editor.canvas'))\n"
        "print(bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_saved_trimap_is_the_edited_one(tmp_path):
    image, trimap = disc(40)
    state = EditorState(image, trimap)
    state.paint([(20, 20)], UNKNOWN, radius=4)
    paths = state.save(tmp_path, "edited", refine=False)
    assert np.array_equal(read_trimap(paths["trimap"]), state.trimap)
