"""Tests of trimatte.foreground.estimation."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import ndimage

from trimatte.errors import InputError
from trimatte.foreground.estimation import estimate_foreground, estimate_foreground_background


def _synthetic_composite(size: int = 96, seed: int = 0):
    """Smooth known F and B, a soft-edged ring matte, and I = alpha F + (1 - alpha) B."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    fg = np.stack([0.8 - 0.3 * yy, 0.2 + 0.5 * xx, 0.3 + 0.2 * xx * yy], axis=2)
    bg = np.stack([0.1 + 0.3 * xx, 0.6 - 0.3 * yy, 0.9 - 0.4 * xx], axis=2)
    radius = np.hypot(yy - 0.5, xx - 0.5) * size
    alpha = np.clip((30 - radius) / 8 + 0.5, 0, 1)
    alpha = np.clip(alpha + ndimage.gaussian_filter(rng.normal(0, 0.3, alpha.shape), 1)
                    * ((alpha > 0) & (alpha < 1)), 0, 1).astype(np.float32)
    a3 = alpha[:, :, None]
    image = (a3 * fg + (1 - a3) * bg).astype(np.float32)
    return image, alpha, fg.astype(np.float32), bg.astype(np.float32)


def test_recovers_known_foreground_and_background():
    image, alpha, fg, bg = _synthetic_composite()
    est_f, est_b = estimate_foreground_background(image, alpha)
    region = alpha > 0.1
    error_f = np.abs(est_f - fg)[region].mean()
    # The naive answer (F = I) is what estimation must beat in the mixed region.
    mixed = region & (alpha < 0.9)
    assert error_f < 0.03
    assert np.abs(est_f - fg)[mixed].mean() < 0.5 * np.abs(image - fg)[mixed].mean()
    assert np.abs(est_b - bg)[alpha < 0.9].mean() < 0.03
    # The estimate explains the image.
    recomposed = alpha[:, :, None] * est_f + (1 - alpha[:, :, None]) * est_b
    assert np.abs(recomposed - image).max() < 0.02


def test_output_dtype_shape_range_and_opaque_pixels(disc_scene):
    image, alpha, _, _ = disc_scene
    foreground = estimate_foreground(image, alpha, regularization=1e-5)
    assert foreground.dtype == np.float32 and foreground.shape == image.shape
    assert foreground.min() >= 0.0 and foreground.max() <= 1.0
    opaque = alpha == 1.0
    assert opaque.any()
    np.testing.assert_array_equal(foreground[opaque], image[opaque])


def test_disc_foreground_colour_is_decontaminated(disc_scene):
    image, alpha, fg_colour, _ = disc_scene
    foreground = estimate_foreground(image, alpha)
    edge = (alpha > 0.2) & (alpha < 0.8)
    assert edge.sum() > 20
    assert np.abs(foreground[edge] - fg_colour).mean() < 0.05
    assert np.abs(image[edge] - fg_colour).mean() > 0.15  # the raw pixels are mixed


def test_accepts_uint8_and_tiny_images():
    image = np.full((1, 1, 3), 200, np.uint8)
    f, b = estimate_foreground_background(image, np.array([[128]], np.uint8))
    assert f.shape == b.shape == (1, 1, 3)
    a = 128 / 255
    np.testing.assert_allclose(a * f + (1 - a) * b, 200 / 255, atol=1e-3)
    f = estimate_foreground(np.zeros((2, 5, 3), np.float32), np.ones((2, 5), np.float32))
    assert f.shape == (2, 5, 3)


def test_bad_inputs_raise_input_errors():
    image = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(InputError) as info:
        estimate_foreground(image, np.zeros((4, 5), np.float32))
    assert info.value.source == "alpha"
    with pytest.raises(InputError, match="regularization"):
        estimate_foreground(image, np.zeros((4, 4), np.float32), regularization=0.0)
    with pytest.raises(InputError, match="big_iterations"):
        estimate_foreground(image, np.zeros((4, 4), np.float32), big_iterations=-1)


@pytest.mark.shared
def test_close_to_pymatting_on_am2k(shared_dir):
    pymatting = pytest.importorskip("pymatting")
    import cv2

    from trimatte.io import read_alpha, read_image

    image = read_image(shared_dir / "data/am2k/image/sample1.jpg")
    alpha = read_alpha(shared_dir / "data/am2k/alpha/sample1.png")
    image = cv2.resize(image, (300, 222), interpolation=cv2.INTER_AREA)
    alpha = np.clip(cv2.resize(alpha, (300, 222), interpolation=cv2.INTER_AREA), 0, 1)
    start = time.perf_counter()
    ours = estimate_foreground(image, alpha)
    elapsed = time.perf_counter() - start
    theirs = pymatting.estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64))
    region = alpha > 0.05
    assert np.abs(ours - theirs)[region].mean() < 0.01
    assert elapsed < 5.0
