"""The weights shipped in the package are real, trained models (not stubs)."""

import numpy as np
import pytest

from tests.conftest import make_disc_scene
from trimatte.metrics import sad
from trimatte.models import weights
from trimatte.models.checkpoint import load_checkpoint
from trimatte.pipeline import STAGES, MatteState
from trimatte.trimap.morphology import trimap_from_alpha


def test_shipped_dim_weights_carry_their_training_record():
    path = weights.shipped_weights("dim")
    metadata = load_checkpoint(path)["metadata"]
    assert "AM-2k" in metadata["data"] and "held_out" in metadata
    scores = metadata["heldout_scores"]
    assert {"closed-form/real", "dim/real"} <= set(scores)
    assert path.stat().st_size < 20e6


@pytest.mark.parametrize("seed", [0, 1])
def test_shipped_dim_mattes_a_soft_edge_far_better_than_a_flat_guess(seed):
    image, alpha, _, _ = make_disc_scene(size=256, radius=80, soft=4, seed=seed)
    trimap = trimap_from_alpha(alpha, band=6)
    predicted = STAGES.build("dim").run(MatteState(image=image, trimap=trimap)).alpha
    flat = np.where(trimap == 128, 0.5, trimap / 255.0)
    assert sad(predicted, alpha, trimap) < 0.3 * sad(flat, alpha, trimap)
    np.testing.assert_array_equal(predicted[trimap == 255], 1.0)
    np.testing.assert_array_equal(predicted[trimap == 0], 0.0)
