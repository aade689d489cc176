import warnings

import numpy as np
import pytest

from tests.plate.conftest import make_plate_scene
from trimatte.errors import InputError, TrimatteWarning
from trimatte.io import write_image
from trimatte.pipeline import STAGES, Pipeline
from trimatte.stages.plate import PlateAlpha, PlateForeground, PlateTrimap, PlateUncertainWarning


def test_config_round_trip(tmp_path):
    pipe = Pipeline([
        PlateTrimap(band=4, motion="affine", exposure="affine", fg_threshold=6.0),
        PlateAlpha(data_weight=0.3, window_radius=2),
        PlateForeground(stable_alpha=0.1),
        STAGES.build("cutout"),
    ])
    for path in (tmp_path / "p.yaml", tmp_path / "p.json"):
        again = Pipeline.load(pipe.save(path))
        assert again.to_dict() == pipe.to_dict()
    assert [s["name"] for s in pipe.to_dict()["stages"]] == [
        "plate", "plate-alpha", "plate-foreground", "cutout"]
    assert pipe.to_dict()["stages"][0]["params"]["band"] == 4


def test_pipeline_with_plate_hint_and_with_path(tmp_path):
    scene = make_plate_scene(seed=5)
    pipe = Pipeline([PlateTrimap(band=3), PlateAlpha(), PlateForeground(), STAGES.build("cutout")])
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrimatteWarning)
        state = pipe(scene.photo, plate=scene.plate)
    assert np.abs(state.alpha - scene.alpha).mean() < 0.01
    assert state.composite.shape == (*scene.alpha.shape, 4)
    assert 0.7 < state.hints["confidence"] <= 1.0
    assert not state.confidence.low and state.confidence.flags == ()
    assert state.hints["confidence_map"].shape == scene.alpha.shape
    # The plate as a file, named by the stage's parameter.
    path = write_image(tmp_path / "plate.png", scene.plate)
    from_file = Pipeline([PlateTrimap(band=3, path=str(path)), PlateAlpha()])(scene.photo)
    assert np.abs(from_file.alpha - scene.alpha).mean() < 0.015


def test_composes_with_other_stages():
    scene = make_plate_scene(seed=6)
    # plate trimap -> plain closed-form
    state = Pipeline([PlateTrimap(band=3), STAGES.build("closed-form")])(
        scene.photo, plate=scene.plate)
    assert np.abs(state.alpha - scene.alpha).mean() < 0.02
    # given trimap -> plate alpha and foreground (they match the plate themselves)
    from trimatte.trimap.morphology import trimap_from_alpha

    trimap = trimap_from_alpha(scene.alpha, 3)
    state = Pipeline([STAGES.build("given"), PlateAlpha(), PlateForeground()])(
        scene.photo, trimap, plate=scene.plate)
    assert np.abs(state.alpha - scene.alpha).mean() < 0.01
    assert "plate_alignment" in state.hints and state.foreground.shape == scene.photo.shape


def test_uncertain_warning_when_subject_colour_equals_plate():
    scene = make_plate_scene(camouflage=True, seed=2)
    pipe = Pipeline([PlateTrimap(band=3), PlateAlpha()])
    with pytest.warns(PlateUncertainWarning, match="uncertain"):
        state = pipe(scene.photo, plate=scene.plate)
    assert issubclass(PlateUncertainWarning, TrimatteWarning)
    assert state.hints["confidence"] < 0.95  # ~1.0 for a subject unlike the plate
    assert state.hints["confidence_map"].min() < 0.5
    assert state.confidence.low and "subject like plate" in state.confidence.flags


def test_missing_plate_is_a_clear_error():
    scene = make_plate_scene(seed=7)
    with pytest.raises(InputError, match="needs a background plate"):
        Pipeline([PlateTrimap()])(scene.photo)
    with pytest.raises(InputError, match=r"missing\.png: file not found"):
        Pipeline([PlateTrimap(path="missing.png")])(scene.photo)


def test_plate_trimap_through_base_plus_refinement():
    scene = make_plate_scene(seed=9)
    refined = STAGES.build("refined", above_megapixels=0.005, base_megapixels=0.005,
                           patch=32, margin=8)
    state = Pipeline([PlateTrimap(band=3), refined])(scene.photo, plate=scene.plate)
    assert "refine" in state.hints
    assert np.abs(state.alpha - scene.alpha).mean() < 0.02
