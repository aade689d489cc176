"""The 'salient' trimap stage: registration, config round trip, real run, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import trimatte.models.salient_net as saliency_module
from tests.conftest import make_disc_scene
from trimatte.errors import ConfigError, TrimapError
from trimatte.pipeline import STAGES, MatteState, Pipeline, stage_from_dict
from trimatte.stages.salient import SalientTrimap
from trimatte.trimap.morphology import band_width_for


@pytest.fixture(scope="module")
def disc():
    image, alpha, _, _ = make_disc_scene(size=96, radius=28, soft=2)
    return image, alpha


def test_registered_as_a_trimap_source() -> None:
    assert STAGES.get("salient") is SalientTrimap
    assert SalientTrimap.role == "trimap"


def test_config_round_trip() -> None:
    stage = SalientTrimap(band_radius=7, threshold=0.4, confident_bg=None, band_mode="threshold")
    config = stage.to_dict()
    assert config["name"] == "salient"
    assert config["params"]["band_radius"] == 7 and config["params"]["confident_bg"] is None
    assert config["params"]["band_mode"] == "threshold"
    rebuilt = stage_from_dict(config)
    assert rebuilt == stage


def test_finds_the_disc_in_a_pipeline(disc) -> None:
    image, alpha = disc
    state = Pipeline([SalientTrimap(band_radius=3)])(image)
    trimap = state.trimap
    assert trimap.shape == alpha.shape and trimap.dtype == np.uint8
    assert np.all(alpha[trimap == 255] > 0.5)
    assert np.all(alpha[trimap == 0] < 0.5)
    assert trimap[48, 48] == 255 and trimap[0, 0] == 0
    assert state.mask.dtype == bool
    assert state.hints["saliency"].shape == alpha.shape
    assert "trimap:salient" in state.timings


def _fake_saliency(monkeypatch, value: np.ndarray) -> None:
    monkeypatch.setattr(saliency_module, "predict_saliency", lambda image, **kw: value)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"band_mode": "edge"}, "band_mode must be one of"),
     ({"confident_bg": None}, "needs confident_bg < confident_fg"),
     ({"confident_bg": 0.9, "confident_fg": 0.8}, "needs confident_bg < confident_fg")],
)
def test_bad_band_mode_settings_are_config_errors(params, message) -> None:
    with pytest.raises(ConfigError, match=message):
        SalientTrimap(**params)


def test_uncertain_mode_follows_the_soft_zone(monkeypatch) -> None:
    # a hard left edge and a soft right edge: the unknown region is 2 * band wide on the
    # hard side, and the whole soft ramp plus the band on the soft side
    value = np.zeros((40, 120), np.float32)
    value[:, 20:60] = 1.0
    value[:, 60:100] = np.linspace(1.0, 0.0, 40, dtype=np.float32)
    _fake_saliency(monkeypatch, value)
    state = MatteState(image=np.zeros((40, 120, 3), np.float32))
    row = SalientTrimap(band_radius=3).run(state).trimap[20]
    unknown = np.flatnonzero(row == 128)
    hard = unknown[unknown < 40]
    assert hard.min() == 17 and hard.max() == 22  # 3 px each side of column 20
    soft = unknown[unknown >= 40]
    ramp = np.flatnonzero((value[20] > 0.02) & (value[20] < 0.98))
    assert soft.min() == ramp.min() - 3 and soft.max() == ramp.max() + 3
    old = SalientTrimap(band_radius=3, band_mode="threshold", confident_bg=None,
                        confident_fg=None).run(state).trimap[20]
    assert np.count_nonzero(old == 128) < unknown.size


def test_band_scales_with_image_size(monkeypatch) -> None:
    mask = np.zeros((200, 300), np.float32)
    mask[50:150, 100:200] = 1.0
    _fake_saliency(monkeypatch, mask)
    state = MatteState(image=np.zeros((200, 300, 3), np.float32))
    by_fraction = SalientTrimap(band_fraction=0.02).run(state).trimap
    width = band_width_for((200, 300), 0.02)
    assert width == 6
    explicit = SalientTrimap(band_radius=width).run(state).trimap
    np.testing.assert_array_equal(by_fraction, explicit)
    # the unknown band is `width` px on each side of the edge along a row
    assert np.count_nonzero(by_fraction[100] == 128) == 4 * width


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.full((40, 40), 0.2, np.float32), "no salient object"),
        (np.ones((40, 40), np.float32), "whole image"),
    ],
)
def test_unusable_saliency_raises_a_clear_trimap_error(monkeypatch, value, message) -> None:
    _fake_saliency(monkeypatch, value)
    state = MatteState(image=np.zeros((40, 40, 3), np.float32))
    with pytest.raises(TrimapError, match=message) as info:
        SalientTrimap(band_radius=2).run(state)
    assert info.value.source == "trimap:salient"


def test_thin_object_with_a_wide_band_raises_a_clear_trimap_error(monkeypatch) -> None:
    value = np.zeros((40, 40), np.float32)
    value[:, 19:21] = 1.0
    _fake_saliency(monkeypatch, value)
    state = MatteState(image=np.zeros((40, 40, 3), np.float32))
    with pytest.raises(TrimapError, match="too thin"):
        SalientTrimap(band_radius=4).run(state)


def test_never_sure_net_falls_back_to_the_threshold_band_and_says_so(monkeypatch) -> None:
    value = np.zeros((60, 60), np.float32)
    value[15:45, 15:45] = 0.9  # salient, but never above confident_fg (0.98)
    _fake_saliency(monkeypatch, value)
    state = SalientTrimap(band_radius=3).run(MatteState(image=np.zeros((60, 60, 3), np.float32)))
    assert np.any(state.trimap == 255) and state.trimap[30, 30] == 255
    assert state.trimap[0, 0] == 0
    assert "uncertain subject" in state.confidence.flags
    assert state.confidence.details["no_sure_foreground"] == 1.0


def test_a_subject_the_net_only_sees_unmirrored_lowers_the_confidence(monkeypatch) -> None:
    # the fake net sees a square in the left half of whatever it is shown: for the
    # mirrored photo that is the right half, so the two subjects do not overlap
    value = np.zeros((60, 120), np.float32)
    value[15:45, 10:50] = 1.0
    _fake_saliency(monkeypatch, value)
    state = MatteState(image=np.zeros((60, 120, 3), np.float32))
    checked = SalientTrimap(band_radius=2).run(state).confidence
    assert "unstable subject" in checked.flags and checked.details["mirrored_iou"] == 0.0
    unchecked = SalientTrimap(band_radius=2, mirror_check=False).run(state).confidence
    assert "unstable subject" not in unchecked.flags and checked.score < unchecked.score
    # a map given in hints is reused as is: the check needs its mirrored twin too
    hinted = MatteState(image=state.image, hints={"saliency": value})
    assert "mirrored_iou" not in SalientTrimap(band_radius=2).run(hinted).confidence.details
    both = MatteState(image=state.image, hints={"saliency": value, "saliency_mirrored": value})
    assert SalientTrimap(band_radius=2).run(both).confidence.details["mirrored_iou"] == 1.0


def test_the_mirrored_map_is_left_in_hints_for_a_redraw(monkeypatch) -> None:
    value = np.zeros((60, 120), np.float32)
    value[15:45, 10:50] = 1.0
    _fake_saliency(monkeypatch, value)
    state = MatteState(image=np.zeros((60, 120, 3), np.float32))
    first = SalientTrimap(band_radius=2).run(state)
    assert first.hints["saliency_mirrored"].shape == (60, 120)
    # drawing again from the state's hints (as video does with a steadied map) keeps the cue
    again = SalientTrimap(band_radius=2).run(MatteState(image=state.image, hints=first.hints))
    assert again.confidence.details["mirrored_iou"] == first.confidence.details["mirrored_iou"]
    unchecked = SalientTrimap(band_radius=2, mirror_check=False).run(state)
    assert "saliency_mirrored" not in unchecked.hints
