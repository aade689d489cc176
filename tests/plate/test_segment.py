import numpy as np
import pytest

from tests.plate.conftest import make_plate_scene
from trimatte.errors import TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.plate import match_plate, plate_trimap
from trimatte.plate.segment import enclosed


@pytest.fixture(scope="module")
def shadowed():
    scene = make_plate_scene(shadow=0.4, seed=1)
    match = match_plate(scene.photo, scene.plate)
    return scene, match, plate_trimap(scene.photo, match, band=4, min_area=20)


def test_sure_regions_are_right(shadowed):
    scene, _, seg = shadowed
    trimap = seg.trimap
    assert set(np.unique(trimap)) <= {BACKGROUND, UNKNOWN, FOREGROUND}
    # Sure foreground is opaque (a handful of edge pixels beside the shadow may be
    # nearly so), sure background exactly clear.
    opaque = scene.alpha[trimap == FOREGROUND]
    assert opaque.min() > 0.7 and (opaque < 1).mean() < 0.005
    assert np.all(scene.alpha[trimap == BACKGROUND] == 0.0)
    soft = (scene.alpha > 0) & (scene.alpha < 0.7)
    assert np.all(trimap[soft] == UNKNOWN)
    # Most of the image is decided, and the disc's core is sure foreground.
    assert (trimap == UNKNOWN).mean() < 0.2
    assert (trimap == FOREGROUND).sum() > 0.5 * (scene.alpha == 1).sum()


def test_cast_shadow_is_background(shadowed):
    scene, _, seg = shadowed
    lit = make_plate_scene(seed=1).background  # the same scene without the shadow
    in_shadow = (scene.background < 0.85 * lit).all(axis=2) & (scene.alpha == 0)
    assert in_shadow.sum() > 200
    assert not np.any(seg.trimap[in_shadow] == FOREGROUND)
    assert seg.shadow[in_shadow].mean() > 0.5
    # The shadow is folded into the matched plate.
    far = in_shadow & (seg.trimap == BACKGROUND)
    assert np.abs(seg.background - scene.background)[far].mean() < 0.03


def test_confidence_map(shadowed):
    _, _, seg = shadowed
    assert seg.confidence_map.dtype == np.float32
    assert 0.0 <= seg.confidence_map.min() and seg.confidence_map.max() <= 1.0
    assert seg.confidence > 0.7 and seg.uncertain_fraction < 0.05


def test_subject_like_plate_is_uncertain():
    scene = make_plate_scene(camouflage=True, seed=2)
    seg = plate_trimap(scene.photo, match_plate(scene.photo, scene.plate), band=3, min_area=20)
    plain = make_plate_scene(seed=2)
    clear = plate_trimap(plain.photo, match_plate(plain.photo, plain.plate), band=3, min_area=20)
    assert seg.uncertain_fraction > 0.05 > clear.uncertain_fraction
    assert seg.confidence < clear.confidence - 0.05


def test_no_subject_is_an_error():
    scene = make_plate_scene(seed=3)
    empty = scene.background + np.random.default_rng(0).normal(0, 0.005, scene.photo.shape)
    empty = np.clip(empty, 0, 1).astype(np.float32)
    with pytest.raises(TrimapError, match="no subject found"):
        plate_trimap(empty, match_plate(empty, scene.plate))


def test_enclosed():
    mask = np.zeros((9, 9), bool)
    mask[2:7, 2:7] = True
    mask[4, 4] = False
    mask[0:2, 0] = False
    holes = enclosed(mask)
    assert holes[4, 4] and holes.sum() == 1
