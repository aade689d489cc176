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


def test_shipped_trimap_predictor_carries_its_training_record():
    path = weights.shipped_weights("unet-trimap")
    payload = load_checkpoint(path)
    assert payload["config"]["prior_channels"] == 1
    metadata = payload["metadata"]
    assert "portraits" in metadata["data"] and "held_out" in metadata
    assert "alpha/salient" in metadata["heldout_scores"]
    assert path.stat().st_size < 20e6


def test_shipped_trimap_predictor_finds_a_plain_subject():
    image, alpha, _, _ = make_disc_scene(size=256, radius=70, soft=2)
    trimap = STAGES.build("unet-trimap").run(MatteState(image=image)).trimap
    inside, outside = alpha > 0.99, alpha < 0.01
    # most of the disc is foreground, most of the rest background, and the band is thin
    assert (trimap[inside] == 255).mean() > 0.8
    assert (trimap[outside] == 0).mean() > 0.8
    assert (trimap == 128).mean() < 0.25
