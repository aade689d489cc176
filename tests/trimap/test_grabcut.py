"""Tests of trimatte.trimap.grabcut on a coloured disc over a textured background."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trimatte.errors import InputError, TrimapError
from trimatte.trimap.grabcut import grabcut_mask, grabcut_mask_from_trimap, grabcut_trimap
from trimatte.trimap.morphology import trimap_from_mask

FG, UNK, BG = 255, 128, 0
SIZE = 96


def textured_disc_scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An orange disc on a blocky blue/green/gray texture with noise; returns (image, disc)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    disc = np.hypot(yy - 45, xx - 52) < 24
    blocks = rng.uniform(0.0, 1.0, (SIZE // 8, SIZE // 8, 3)).astype(np.float32)
    blocks[..., 0] *= 0.35  # keep the texture away from the disc's strong red
    background = cv2.resize(blocks, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    background += rng.normal(0.0, 0.04, background.shape).astype(np.float32)
    disc_colour = np.array([0.95, 0.5, 0.1], np.float32)
    foreground = disc_colour + rng.normal(0.0, 0.04, background.shape).astype(np.float32)
    image = np.where(disc[..., None], foreground, background)
    return np.clip(image, 0.0, 1.0).astype(np.float32), disc


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def scene():
    return textured_disc_scene()


def scribbles(disc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fg = np.zeros_like(disc)
    fg[43:48, 40:65] = True  # a stroke across the disc
    bg = np.zeros_like(disc)
    bg[4:7, 5:90] = True  # strokes in the background
    bg[85:88, 10:80] = True
    assert not (fg & ~disc).any() and not (bg & disc).any()
    return fg, bg


def test_rect_gives_the_disc(scene):
    image, disc = scene
    before = image.copy()
    mask = grabcut_mask(image, rect=(22, 15, 62, 60))
    assert mask.dtype == bool and mask.shape == disc.shape
    assert iou(mask, disc) > 0.9
    np.testing.assert_array_equal(image, before)


def test_scribbles_alone_give_the_disc(scene):
    image, disc = scene
    fg, bg = scribbles(disc)
    fg_before, bg_before = fg.copy(), bg.copy()
    mask = grabcut_mask(image, fg_scribbles=fg, bg_scribbles=bg)
    assert iou(mask, disc) > 0.9
    np.testing.assert_array_equal(fg, fg_before)
    np.testing.assert_array_equal(bg, bg_before)


def test_default_rect_and_rough_mask(scene):
    image, disc = scene
    default = grabcut_mask(image)
    np.testing.assert_array_equal(default, grabcut_mask(image, rect=(5, 5, 86, 86)))
    np.testing.assert_array_equal(grabcut_mask(image, margin=0.25),
                                  grabcut_mask(image, rect=(24, 24, 48, 48)))
    assert iou(default, disc) > 0.7  # a loose rect on a busy texture: only roughly right
    rough = cv2.dilate(disc.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    rough_before = rough.copy()
    assert iou(grabcut_mask(image, mask=rough), disc) > 0.9
    np.testing.assert_array_equal(rough, rough_before)
    as_array = grabcut_mask(image, rect=np.array([22, 15, 62, 60]), mask=rough)
    np.testing.assert_array_equal(as_array, grabcut_mask(image, rect=(22, 15, 62, 60), mask=rough))
    assert iou(as_array, disc) > 0.9


def test_uint8_images_are_accepted_and_results_are_reproducible(scene):
    image, _ = scene
    first = grabcut_mask(image, rect=(22, 15, 62, 60))
    again = grabcut_mask(np.rint(image * 255).astype(np.uint8), rect=(22, 15, 62, 60))
    np.testing.assert_array_equal(first, again)


def test_scribbles_override_the_rect(scene):
    image, disc = scene
    fg = np.zeros_like(disc)
    fg[5:8, 5:8] = True  # outside the rect, in the background
    bg = np.zeros_like(disc)
    bg[44:47, 50:53] = True  # in the middle of the disc
    mask = grabcut_mask(image, rect=(22, 15, 62, 60), fg_scribbles=fg, bg_scribbles=bg)
    assert mask[fg].all() and not mask[bg].any()


def test_from_trimap(scene):
    image, disc = scene
    trimap = trimap_from_mask(disc, 6)
    before = trimap.copy()
    mask = grabcut_mask_from_trimap(image, trimap)
    assert iou(mask, disc) > 0.9
    assert mask[trimap == FG].all() and not mask[trimap == BG].any()
    np.testing.assert_array_equal(trimap, before)


def test_from_trimap_needs_a_mattable_trimap(scene):
    image, disc = scene
    with pytest.raises(TrimapError, match="no definite-foreground"):
        grabcut_mask_from_trimap(image, np.where(disc, UNK, BG).astype(np.uint8))
    with pytest.raises(TrimapError, match="does not match"):
        grabcut_mask_from_trimap(image, np.zeros((10, 10), np.uint8))


def test_grabcut_trimap_band_and_scribbles(scene):
    image, disc = scene
    fg, bg = scribbles(disc)
    edge_fg = np.zeros_like(disc)
    edge_fg[45, 28:31] = True  # just inside the disc's left edge: inside the band
    mask, trimap = grabcut_trimap(image, band=5, fg_scribbles=fg | edge_fg, bg_scribbles=bg)
    assert iou(mask, disc) > 0.9
    assert (trimap[edge_fg] == FG).all() and (trimap[bg] == BG).all()
    expected = trimap_from_mask(mask, 5)
    changed = trimap != expected
    assert not (changed & ~(fg | edge_fg | bg)).any()
    with pytest.raises(InputError, match="unexpected"):
        grabcut_trimap(image, rectangle=(0, 0, 5, 5))


@pytest.mark.parametrize(
    ("rect", "pattern"),
    [
        ((0, 0, 0, 10), "empty"),
        ((-1, 0, 10, 10), "not inside"),
        ((50, 50, 60, 10), "not inside"),
        ((1, 2, 3), "4 numbers"),
        ((0.5, 0, 10, 10), "whole number"),
        (5, "x, y, w, h"),
    ],
)
def test_bad_rect(scene, rect, pattern):
    with pytest.raises(InputError, match=pattern):
        grabcut_mask(scene[0], rect=rect)


def test_bad_hints(scene):
    image, disc = scene
    with pytest.raises(InputError, match="mask: size"):
        grabcut_mask(image, mask=np.ones((10, 10), bool))
    with pytest.raises(InputError, match="fg_scribbles: size"):
        grabcut_mask(image, fg_scribbles=np.ones((10, 10), bool))
    with pytest.raises(InputError, match="both fg_scribbles and bg_scribbles"):
        grabcut_mask(image, fg_scribbles=disc, bg_scribbles=disc)
    with pytest.raises(InputError, match="iterations"):
        grabcut_mask(image, iterations=0)
    with pytest.raises(InputError, match="margin"):
        grabcut_mask(image, margin=0.5)
    with pytest.raises(InputError, match="image"):
        grabcut_mask(np.zeros((10, 10, 2), np.float32))


def test_nothing_to_learn_from(scene):
    image, _ = scene
    with pytest.raises(InputError, match=r"no pixel is marked .*background"):
        grabcut_mask(image, rect=(0, 0, SIZE, SIZE))
    with pytest.raises(InputError, match=r"no pixel is marked .*foreground"):
        grabcut_mask(image, mask=np.zeros((SIZE, SIZE), bool))


def test_degenerate_result_is_reported():
    flat = np.full((48, 48, 3), 0.5, np.float32)
    with pytest.raises(InputError, match="every pixel background"):
        grabcut_mask(flat, rect=(10, 10, 28, 28))


def test_rect_on_a_real_photo(shared_dir):
    """AM-2k sample8 at 320 px, rect = the matte's bounding box + 8 px (measured IoU 0.983)."""
    from trimatte.io import read_alpha, read_image

    root = shared_dir / "data" / "am2k"
    image = read_image(root / "image" / "sample8.jpg")
    alpha = read_alpha(root / "alpha" / "sample8.png")
    scale = 320 / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    truth = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) >= 0.5
    ys, xs = np.nonzero(truth)
    x0, y0 = max(0, xs.min() - 8), max(0, ys.min() - 8)
    x1, y1 = min(size[0], xs.max() + 9), min(size[1], ys.max() + 9)
    mask = grabcut_mask(image, rect=(int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    assert iou(mask, truth) > 0.95
