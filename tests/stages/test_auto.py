"""The 'auto' trimap source: completion, adaptive band, confidence in the state."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_disc_scene
from trimatte.errors import InputError, TrimapError
from trimatte.pipeline import STAGES, MatteState, Pipeline, stage_from_dict
from trimatte.stages.auto import AutoTrimap
from trimatte.stages.salient import SalientTrimap
from trimatte.trimap.confidence import EMPTY, SECOND_OBJECT, Confidence


def test_registered_and_round_trips() -> None:
    assert STAGES.get("auto") is AutoTrimap and AutoTrimap.role == "trimap"
    stage = AutoTrimap(complete=False, r_max=0.02)
    assert stage_from_dict(stage.to_dict()) == stage


def test_bad_parameter_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="r_max"):
        AutoTrimap(r_max=-1.0)


def test_given_saliency_gives_a_trimap_mask_and_confidence() -> None:
    image, alpha, _, _ = make_disc_scene(size=96, radius=28, soft=2)
    saliency = alpha.copy()
    state = Pipeline([AutoTrimap(complete=False)])(image, saliency=saliency)
    trimap = state.trimap
    assert trimap.dtype == np.uint8 and trimap.shape == alpha.shape
    assert np.all(alpha[trimap == 255] > 0.5) and np.all(alpha[trimap == 0] < 0.5)
    assert trimap[48, 48] == 255 and trimap[0, 0] == 0
    assert isinstance(state.confidence, Confidence)
    assert state.confidence.score > 0.8 and not state.confidence.low
    assert state.mask.dtype == bool


def test_second_strong_object_lowers_confidence() -> None:
    image = np.full((80, 120, 3), 0.2, np.float32)
    saliency = np.zeros((80, 120), np.float32)
    saliency[20:60, 10:45] = 1.0
    saliency[20:60, 75:110] = 1.0
    image[saliency > 0] = 0.9
    state = AutoTrimap(complete=False).run(
        MatteState(image=image, hints={"saliency": saliency}))
    assert SECOND_OBJECT in state.confidence.flags and state.confidence.low


def test_empty_scene_is_a_clear_error() -> None:
    image = np.full((40, 40, 3), 0.5, np.float32)
    with pytest.raises(TrimapError, match="no salient object") as info:
        AutoTrimap().run(MatteState(image=image,
                                    hints={"saliency": np.full((40, 40), 0.1, np.float32)}))
    assert info.value.source == "trimap:auto"


def test_salient_stage_also_reports_confidence() -> None:
    image, alpha, _, _ = make_disc_scene(size=64, radius=18, soft=2)
    state = SalientTrimap(band_radius=2).run(MatteState(image=image, hints={"saliency": alpha}))
    assert isinstance(state.confidence, Confidence)
    assert EMPTY not in state.confidence.flags


def test_saliency_of_the_wrong_size_is_refused() -> None:
    image = np.zeros((40, 40, 3), np.float32)
    with pytest.raises(InputError, match="does not match"):
        AutoTrimap().run(MatteState(image=image, hints={"saliency": np.zeros((20, 20),
                                                                           np.float32)}))
