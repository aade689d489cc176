"""The shipped classical-guided network: trained, exact on known pixels, with its record."""

import numpy as np

from tests.conftest import make_disc_scene
from trimatte.matting.closed_form import closed_form_alpha
from trimatte.metrics import sad
from trimatte.models import weights
from trimatte.models.checkpoint import load_checkpoint
from trimatte.pipeline import STAGES, MatteState


def test_shipped_guided_weights_carry_their_training_record():
    path = weights.shipped_weights("guided")
    payload = load_checkpoint(path)
    assert payload["config"]["architecture"] == "guided"
    metadata = payload["metadata"]
    assert "synthetic" in metadata["data"] and "held_out" in metadata
    assert {"closed-form/real", "guided/real"} <= set(metadata["heldout_scores"])
    assert path.stat().st_size < 20e6


def test_shipped_guided_keeps_known_pixels_and_is_trained():
    image, alpha, _, _ = make_disc_scene(size=128, radius=40, soft=6, seed=3)
    trimap = np.where(alpha > 0.99, 255, np.where(alpha < 0.01, 0, 128)).astype(np.uint8)
    inner = np.hypot(*np.mgrid[-64:64, -64:64]) < 30
    trimap[(trimap == 255) & ~inner] = 128  # a wide unknown ring
    predicted = STAGES.build("guided").run(MatteState(image=image, trimap=trimap)).alpha
    np.testing.assert_array_equal(predicted[trimap == 255], 1.0)
    np.testing.assert_array_equal(predicted[trimap == 0], 0.0)
    guide = closed_form_alpha(image, trimap)
    # trained: it changes closed-form's matte (an untrained one returns it exactly). On
    # this flat two-colour toy it changes it for the worse (docs/models.md, known failure)
    assert np.abs(predicted - guide).max() > 1e-3
    assert np.isfinite(sad(predicted, alpha, trimap))


def test_lower_corrections_only_take_alpha_away():
    image, alpha, _, _ = make_disc_scene(size=96, radius=30, soft=10, seed=1)
    trimap = np.where(alpha > 0.99, 255, np.where(alpha < 0.01, 0, 128)).astype(np.uint8)
    ring = np.hypot(*np.mgrid[-48:48, -48:48])
    trimap[(ring > 15) & (ring < 45)] = 128  # here the network both adds and removes alpha
    state = MatteState(image=image, trimap=trimap)
    both = STAGES.build("guided").run(state).alpha
    lower = STAGES.build("guided", corrections="lower").run(state).alpha
    guide = closed_form_alpha(image, trimap)
    unknown = trimap == 128
    assert (lower[unknown] <= guide[unknown] + 1e-6).all()
    took = unknown & (both <= guide)
    assert took.any() and (unknown & (both > guide + 1e-3)).any()
    np.testing.assert_allclose(lower[took], both[took], atol=1e-6)
    np.testing.assert_array_equal(lower[~unknown], both[~unknown])
