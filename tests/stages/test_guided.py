"""The ``guided`` alpha stage in a pipeline: config round trip, closed-form start, no-fg trimaps."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_disc_scene
from trimatte.errors import ConfigError
from trimatte.models.checkpoint import save_checkpoint
from trimatte.models.guided import build_guided_net
from trimatte.pipeline import STAGES, Pipeline
from trimatte.stages.guided import GuidedAlpha


@pytest.fixture(scope="module")
def untrained_weights(tmp_path_factory):
    model = build_guided_net(encoder="resnet18", encoder_depth=3, decoder_channels=(16, 8, 8),
                             refine_channels=8)
    return str(save_checkpoint(model, tmp_path_factory.mktemp("w") / "guided.pth"))


def test_config_round_trip(untrained_weights):
    pipe = Pipeline([GuidedAlpha(weights=untrained_weights, epsilon=1e-6)])
    again = Pipeline.from_dict(pipe.to_dict())
    assert again.to_dict() == pipe.to_dict()
    assert again.stages[0].epsilon == 1e-6


def test_untrained_stage_equals_closed_form(untrained_weights):
    from trimatte.matting.closed_form import closed_form_alpha

    image, alpha, _, _ = make_disc_scene(48)
    trimap = np.where(alpha > 0.99, 255, np.where(alpha < 0.01, 0, 128)).astype(np.uint8)
    trimap = np.where((trimap == 255) & (np.roll(trimap, 3, 0) != 255), 128, trimap)
    state = Pipeline([GuidedAlpha(weights=untrained_weights)])(image, trimap)
    expected = closed_form_alpha(image, trimap)
    np.testing.assert_allclose(state.alpha, expected, atol=1e-5)


def test_trimap_without_definite_foreground_gets_a_matte(untrained_weights):
    image, alpha, _, _ = make_disc_scene(32)
    trimap = np.where(alpha > 0.01, 128, 0).astype(np.uint8)
    state = Pipeline([GuidedAlpha(weights=untrained_weights)])(image, trimap)
    assert state.alpha.shape == (32, 32)
    assert (state.alpha[trimap == 0] == 0).all()
    assert np.isfinite(state.alpha).all()


def test_guide_stage_round_trips_and_makes_the_guide(untrained_weights):
    from trimatte.matting.closed_form import closed_form_alpha

    image, alpha, _, _ = make_disc_scene(48)
    trimap = np.where(alpha > 0.99, 255, np.where(alpha < 0.01, 0, 128)).astype(np.uint8)
    stage = GuidedAlpha(weights=untrained_weights,
                        guide={"name": "closed-form", "params": {"epsilon": 1e-5}})
    again = Pipeline.from_dict(Pipeline([stage]).to_dict()).stages[0]
    assert again.guide["name"] == "closed-form" and again.guide["params"]["epsilon"] == 1e-5
    # an untrained network returns its guide: the guide stage's matte
    np.testing.assert_allclose(Pipeline([again])(image, trimap).alpha,
                               closed_form_alpha(image, trimap, epsilon=1e-5), atol=1e-5)


@pytest.mark.parametrize("guide", ["guided", "cutout", 3])
def test_bad_guide_is_a_config_error(untrained_weights, guide):
    from trimatte.errors import ConfigError

    with pytest.raises(ConfigError, match="guide"):
        GuidedAlpha(weights=untrained_weights, guide=guide)


def test_default_pipeline_refines_only_the_guide_of_guided():
    from trimatte.api import build_pipeline

    alpha = build_pipeline(trimap_method=None, matting="guided").stage("alpha")
    assert alpha.registry_name == "guided"
    assert alpha.guide["name"] == "refined"
    assert alpha.guide["params"]["inner"]["name"] == "closed-form"
    assert build_pipeline(matting="guided", refine_above=None).stage("alpha").guide is None


def test_guided_lowers_only_after_automatic_trimaps_unless_told() -> None:
    from trimatte.api import build_pipeline

    def corrections(pipeline):
        return pipeline.stages[1].corrections

    assert corrections(build_pipeline()) == "lower"
    assert corrections(build_pipeline(trimap_method="given")) == "both"
    assert corrections(build_pipeline(trimap_method="grabcut")) == "both"
    assert corrections(build_pipeline(matting_params={"corrections": "both"})) == "both"
    with pytest.raises(ConfigError, match="corrections"):
        STAGES.build("guided", corrections="raise")


def test_min_size_above_max_size_is_a_config_error(untrained_weights):
    with pytest.raises(ConfigError, match="min_size"):
        GuidedAlpha(weights=untrained_weights, min_size=800, max_size=640)
    assert GuidedAlpha(weights=untrained_weights, min_size=None, max_size=None).min_size is None
