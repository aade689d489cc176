import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.plate.conftest import texture
from trimatte.errors import InputError
from trimatte.plate import fit_colour_transform


@settings(max_examples=8, deadline=None)
@given(gain=st.tuples(*[st.floats(0.7, 1.3)] * 3), offset=st.floats(-0.05, 0.05))
def test_recovers_known_gain_despite_a_subject(gain, offset):
    plate = texture((60, 80), seed=3)
    photo = np.clip(plate * np.float32(gain) + offset, 0, 1)
    photo[20:50, 20:60] = [0.95, 0.05, 0.5]  # a subject: 25 % of the pixels
    found = fit_colour_transform(photo, plate)
    assert np.allclose(found.gains, gain, atol=0.02)
    assert np.allclose(found.offset, offset, atol=0.01)
    background = np.ones(plate.shape[:2], bool)
    background[20:50, 20:60] = False
    assert np.abs(found.apply(plate) - photo)[background].max() < 0.01


def test_models():
    plate = texture((40, 40), seed=4)
    mix = np.array([[0.9, 0.1, 0.0], [0.05, 0.9, 0.05], [0.0, 0.1, 0.95]], np.float32)
    photo = np.clip(plate @ mix.T, 0, 1)
    affine = fit_colour_transform(photo, plate, model="affine")
    assert np.allclose(affine.matrix, mix, atol=0.01)
    gain = fit_colour_transform(photo, plate, model="gain")
    assert np.allclose(gain.offset, 0) and np.count_nonzero(gain.matrix - np.diag(gain.gains)) == 0
    with pytest.raises(InputError, match="unknown exposure model"):
        fit_colour_transform(photo, plate, model="curves")
