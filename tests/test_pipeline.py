import contextlib
from dataclasses import dataclass

import numpy as np
import pytest

from trimatte.errors import ConfigError, InputError
from trimatte.pipeline import STAGES, MatteState, Pipeline, Stage


@dataclass(kw_only=True)
class ThresholdTrimap(Stage):
    """Toy trimap source: bright = fg, dark = bg, in between unknown."""

    low: float = 0.3
    high: float = 0.7
    role = "trimap"

    def run(self, state):
        gray = state.image.mean(axis=2)
        trimap = np.full(gray.shape, 128, np.uint8)
        trimap[gray < self.low] = 0
        trimap[gray > self.high] = 255
        return state.replace(trimap=trimap)


@dataclass(kw_only=True)
class TrimapAsAlpha(Stage):
    role = "alpha"

    def run(self, state):
        state.require("trimap", stage=self.label)
        return state.replace(alpha=state.trimap.astype(np.float32) / 255)


@dataclass(kw_only=True)
class OneAlpha(Stage):
    role = "alpha"

    def run(self, state):
        return state.replace(alpha=np.ones(state.image.shape[:2], np.float32))


TEST_STAGES = {
    "test-threshold-trimap": ThresholdTrimap,
    "test-trimap-alpha": TrimapAsAlpha,
    "test-one-alpha": OneAlpha,
}


@pytest.fixture(autouse=True)
def test_stages():
    """The toy stages are registered for each test only, then removed from STAGES."""
    with contextlib.ExitStack() as stack:
        for name, cls in TEST_STAGES.items():
            stack.enter_context(STAGES.registered(name, cls))
        yield
    assert not set(TEST_STAGES) & set(STAGES.names())


@pytest.fixture
def image():
    return np.linspace(0, 1, 3 * 8 * 8, dtype=np.float32).reshape(8, 8, 3)


def test_pipeline_runs_stages_in_order_and_times_them(image):
    pipe = Pipeline([ThresholdTrimap(), TrimapAsAlpha()])
    state = pipe(image)
    assert isinstance(state, MatteState)
    assert state.alpha.shape == (8, 8)
    assert set(state.timings) == {"trimap:test-threshold-trimap", "alpha:test-trimap-alpha"}
    assert all(t >= 0 for t in state.timings.values())


def test_given_trimap_skips_trimap_sources(image):
    pipe = Pipeline([ThresholdTrimap(), TrimapAsAlpha()])
    given = np.zeros((8, 8), np.uint8)
    given[:4] = 255
    state = pipe(image, trimap=given)
    np.testing.assert_array_equal(state.alpha, given / 255)
    assert "trimap:test-threshold-trimap" not in state.timings


def test_given_trimap_of_wrong_size_is_an_input_error(image):
    with pytest.raises(InputError, match="does not match"):
        Pipeline([TrimapAsAlpha()])(image, trimap=np.zeros((3, 3), np.uint8))


def test_replace_swaps_a_stage_by_role(image):
    pipe = Pipeline([ThresholdTrimap(), TrimapAsAlpha()])
    swapped = pipe.replace("alpha", OneAlpha())
    assert isinstance(swapped.stage("alpha"), OneAlpha)
    assert isinstance(pipe.stage("alpha"), TrimapAsAlpha)  # the original is untouched
    np.testing.assert_array_equal(swapped(image).alpha, 1.0)
    assert [s.role for s in swapped.replace("trimap", None).stages] == ["alpha"]
    with pytest.raises(InputError, match="role"):
        pipe.replace("trimap", OneAlpha())


def test_stage_order_is_checked():
    with pytest.raises(InputError, match="cannot run after"):
        Pipeline([TrimapAsAlpha(), ThresholdTrimap()])


def test_missing_input_names_the_stage(image):
    with pytest.raises(InputError, match=r"alpha:test-trimap-alpha.*needs trimap"):
        Pipeline([TrimapAsAlpha()])(image)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_config_round_trip_through_file(tmp_path, image, suffix):
    pipe = Pipeline([ThresholdTrimap(low=0.2, high=0.9), TrimapAsAlpha()])
    config = pipe.to_dict()
    assert config == {
        "stages": [
            {"name": "test-threshold-trimap", "params": {"low": 0.2, "high": 0.9}},
            {"name": "test-trimap-alpha", "params": {}},
        ]
    }
    loaded = Pipeline.load(pipe.save(tmp_path / f"pipe{suffix}"))
    assert loaded.to_dict() == config
    np.testing.assert_array_equal(loaded(image).alpha, pipe(image).alpha)


def test_bad_configs_give_clear_errors(tmp_path):
    with pytest.raises(InputError, match="'stages' list"):
        Pipeline.from_dict({"stage": []})
    with pytest.raises(InputError, match=r"unknown stage 'closed-from'.*closed-form"):
        Pipeline.from_dict({"stages": [{"name": "closed-from"}]})
    with pytest.raises(ConfigError, match=r"stage 'test-threshold-trimap'.*unknown parameter 'x'"):
        Pipeline.from_dict({"stages": [{"name": "test-threshold-trimap", "params": {"x": 1}}]})
    broken = tmp_path / "broken.yaml"
    broken.write_text("stages: [unclosed")
    with pytest.raises(InputError, match=r"broken.yaml.*cannot parse"):
        Pipeline.load(broken)
    with pytest.raises(InputError, match="not found"):
        Pipeline.load(tmp_path / "absent.yaml")


def test_registry_lists_builtin_stages():
    names = STAGES.names()
    for expected in ("given", "grabcut", "band", "cleanup", "closed-form", "cutout", "composite"):
        assert expected in names


def test_registry_unregister_and_temporary_registration():
    assert "test-one-alpha" in STAGES
    with pytest.raises(ValueError, match="registered twice"):
        STAGES.register("test-one-alpha")(TrimapAsAlpha)
    removed = STAGES.unregister("test-one-alpha")
    assert removed is OneAlpha and "test-one-alpha" not in STAGES
    with pytest.raises(InputError, match="unknown stage"):
        STAGES.unregister("test-one-alpha")
    STAGES.register("test-one-alpha")(OneAlpha)  # the fixture removes it again


def test_given_trimap_stage_runs_when_a_trimap_is_passed(image):
    from trimatte.stages import GivenTrimap

    given = np.zeros((8, 8), np.uint8)
    given[:3], given[3:5] = 255, 128
    state = Pipeline([GivenTrimap(), TrimapAsAlpha()])(image, trimap=given)
    assert "trimap:given" in state.timings
    assert GivenTrimap.uses_given_trimap and not ThresholdTrimap.uses_given_trimap


def test_stage_parameters_are_converted_from_text(image):
    pipe = Pipeline.from_dict(
        {"stages": [{"name": "test-threshold-trimap", "params": {"low": "0.2", "high": "9e-1"}},
                    {"name": "test-trimap-alpha"}]}
    )
    stage = pipe.stage("trimap")
    assert (stage.low, stage.high) == (0.2, 0.9)
    assert isinstance(ThresholdTrimap(low="1e-1").low, float)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("closed-form", {"epsilon": "1e-6x"}, r"stage 'closed-form': epsilon: expected a number"),
        ("closed-form", {"epsilon": 0}, r"stage 'closed-form': epsilon must be > 0, got 0.0"),
        ("closed-form", {"epsilno": 1e-6}, r"unknown parameter 'epsilno'. Did you mean epsilon"),
        ("closed-form", {"window_radius": 1.5}, r"window_radius: expected an integer"),
        ("grabcut", {"band_radius": -1}, r"stage 'grabcut': band_radius must be >= 0, got -1"),
        ("band", {"band_radius": "none", "band_fraction": -0.1},
         r"stage 'band': band_fraction must be >= 0"),
        ("salient", {"threshold": 1.5}, r"stage 'salient': threshold must be <= 1"),
        ("cleanup", {"fill_holes": "maybe"}, r"fill_holes: expected true or false"),
        ("dim", {"context": -3}, r"stage 'dim': context must be >= 0"),
        ("multilevel-foreground", {"regularization": 0}, r"regularization must be > 0"),
        ("composite", {"background": " "}, r"stage 'composite': background must be"),
    ],
)
def test_bad_stage_parameters_fail_fast_with_one_line(name, params, message):
    with pytest.raises(ConfigError, match=message) as info:
        STAGES.build(name, **params)
    assert "\n" not in str(info.value)


def test_bad_parameter_in_a_pipeline_file_names_file_stage_and_parameter(tmp_path):
    path = tmp_path / "pipe.yaml"
    path.write_text("stages:\n- name: closed-form\n  params: {epsilon: -1}\n")
    with pytest.raises(ConfigError, match=r"pipe.yaml: stage 'closed-form': epsilon must be > 0"):
        Pipeline.load(path)


def test_one_band_vocabulary_and_default():
    from trimatte.stages.salient import SALIENT_BAND_FRACTION
    from trimatte.trimap.morphology import DEFAULT_BAND_FRACTION

    for name in ("grabcut", "band", "salient"):
        stage = STAGES.build(name)
        # the salient source draws its band around the network's uncertain zone, so its
        # own default (chosen on validation photos) is narrower
        expected = SALIENT_BAND_FRACTION if name == "salient" else DEFAULT_BAND_FRACTION
        assert stage.band_radius is None and stage.band_fraction == expected


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [("grabcut", "band", "band_radius"), ("band", "width", "band_radius"),
     ("band", "fraction", "band_fraction"), ("salient", "band", "band_radius")],
)
def test_old_band_names_still_work_with_a_warning(name, old, new):
    value = 0.02 if "fraction" in new else 7
    with pytest.warns(FutureWarning, match=f"'{old}' is now called '{new}'"):
        built = STAGES.build(name, **{old: value})
    assert getattr(built, new) == value
    with pytest.warns(FutureWarning, match=f"'{old}' is now called '{new}'"):
        constructed = type(built)(**{old: value})
    assert constructed == built and new in built.to_dict()["params"]
    with pytest.raises(ConfigError, match="give only one"):
        STAGES.build(name, **{old: value, new: value})
