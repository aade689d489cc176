"""The 'alpha-levels' stage: the levels curve, its invariants, and the default pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.api import build_pipeline
from trimatte.errors import ConfigError
from trimatte.pipeline import STAGES, MatteState
from trimatte.stages.levels import AlphaLevels, alpha_levels


def test_haze_is_cleared_and_edges_kept() -> None:
    alpha = np.array([[0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0]], np.float32)
    out = alpha_levels(alpha, 0.1, 0.9)
    np.testing.assert_allclose(out, [[0, 0, 0, 0.5, 1, 1, 1]], atol=1e-6)
    assert out.dtype == np.float32 and alpha[0, 1] == np.float32(0.05)  # input untouched


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, (6, 7), elements=st.floats(0, 1, width=32)),
       st.floats(0, 0.45), st.floats(0.55, 1))
def test_levels_keep_range_order_and_known_values(alpha, low, high) -> None:
    out = alpha_levels(alpha, low, high)
    assert out.min() >= 0 and out.max() <= 1
    order = np.argsort(alpha, axis=None, kind="stable")
    assert np.all(np.diff(out.reshape(-1)[order]) >= 0)  # monotone
    assert np.all(out[alpha == 0] == 0) and np.all(out[alpha == 1] == 1)


def test_stage_and_bad_settings() -> None:
    assert STAGES.get("alpha-levels") is AlphaLevels and AlphaLevels.role == "alpha_refine"
    state = MatteState(image=np.zeros((2, 2, 3), np.float32),
                       alpha=np.full((2, 2), 0.05, np.float32))
    assert np.all(AlphaLevels().run(state).alpha == 0)
    with pytest.raises(ConfigError, match="high must be >"):
        AlphaLevels(low=0.5, high=0.4)
    with pytest.raises(ValueError, match="low < high"):
        alpha_levels(np.zeros((2, 2), np.float32), 0.6, 0.6)


def test_default_pipeline_adds_levels_only_after_automatic_trimaps() -> None:
    def names(pipeline):
        return [stage.registry_name for stage in pipeline.stages]

    assert "alpha-levels" in names(build_pipeline())
    assert "alpha-levels" not in names(build_pipeline(trimap_method="given"))
    assert "alpha-levels" in names(build_pipeline(trimap_method="given", alpha_levels=True))
    assert "alpha-levels" not in names(build_pipeline(alpha_levels=False))
