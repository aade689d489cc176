import numpy as np
import pytest

from tests.plate.conftest import make_plate_scene
from trimatte.image import FOREGROUND, UNKNOWN
from trimatte.plate import match_plate, per_pixel_alpha, plate_alpha, plate_foreground, plate_trimap
from trimatte.trimap.morphology import trimap_from_alpha


def test_per_pixel_alpha_is_exact_without_noise():
    scene = make_plate_scene(noise=0.0, shift=(0.0, 0.0), angle=0.0, gain=(1, 1, 1))
    fg = np.empty_like(scene.photo)
    fg[:] = (0.9, 0.15, 0.1)  # flat subject colour: the candidates are exact
    a = scene.alpha[..., None]
    photo = a * fg + (1 - a) * scene.background
    scale = np.full_like(photo, 0.01)
    alpha, confidence, _, chosen = per_pixel_alpha(photo, scene.background, scale,
                                                scene.alpha == 1)
    edge = (scene.alpha > 0) & (scene.alpha < 1)
    assert np.abs(alpha - scene.alpha)[edge].max() < 1e-3
    assert confidence[edge].min() > 0.5
    assert np.allclose(chosen[edge], fg[edge], atol=1e-4)


@pytest.fixture(scope="module")
def solved():
    scene = make_plate_scene(seed=4)
    match = match_plate(scene.photo, scene.plate)
    seg = plate_trimap(scene.photo, match, band=3, min_area=20)
    alpha, confidence = plate_alpha(scene.photo, seg.trimap, seg.background, seg.scale)
    return scene, seg, alpha, confidence


def test_alpha_close_to_ground_truth(solved):
    scene, seg, alpha, confidence = solved
    assert alpha.dtype == np.float32 and alpha.min() >= 0 and alpha.max() <= 1
    assert np.abs(alpha - scene.alpha).mean() < 0.01
    band = trimap_from_alpha(scene.alpha, 2) == UNKNOWN
    assert np.abs(alpha - scene.alpha)[band].mean() < 0.08
    assert np.all(alpha[seg.trimap == FOREGROUND] == 1)
    assert confidence.shape == alpha.shape and 0 <= confidence.min() <= confidence.max() <= 1


def test_decontaminated_foreground(solved):
    scene, seg, alpha, _ = solved
    fg = plate_foreground(scene.photo, alpha, seg.background)
    edge = (scene.alpha > 0.4) & (scene.alpha < 1) & (np.abs(alpha - scene.alpha) < 0.05)
    assert edge.sum() > 20
    # The edge colour is the subject's, not a mix with the background.
    mixed = np.abs(scene.photo - scene.foreground)[edge].mean()
    assert np.abs(fg - scene.foreground)[edge].mean() < 0.4 * mixed
    assert np.array_equal(fg[alpha == 1], scene.photo[alpha == 1])
