"""Synthetic photo + plate pairs with exact ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest


@dataclass
class PlateScene:
    photo: np.ndarray
    plate: np.ndarray
    alpha: np.ndarray
    background: np.ndarray  # the photo's true background (shadow included)
    foreground: np.ndarray
    matrix: np.ndarray  # photo pixel -> plate pixel (2x3)


def texture(shape: tuple[int, int], seed: int, sigma: float = 2.5,
            amplitude: float = 0.3) -> np.ndarray:
    """A smooth colour texture around 0.5 (something ECC can lock on to)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (*shape, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), sigma)
    smooth /= np.abs(smooth).max() + 1e-6
    return np.clip(0.5 + amplitude * smooth, 0, 1).astype(np.float32)


def make_plate_scene(*, size: tuple[int, int] = (120, 160), shift=(2.0, -1.5),
                     angle: float = 0.4, gain=(1.1, 1.0, 0.9), noise: float = 0.005,
                     fg_colour=(0.9, 0.15, 0.1), camouflage: bool = False,
                     shadow: float = 0.0, seed: int = 0) -> PlateScene:
    """A soft-edged disc over a texture, and the plate: the texture moved, re-exposed, noisy.

    ``camouflage=True`` makes the plate a faint texture and paints the disc's left
    half with the plate's mean colour, shaded by folds (the subject's colour equals the
    plate's where the shading is 1).
    """
    rng = np.random.default_rng(seed)
    h, w = size
    margin = 8
    big = texture((h + 2 * margin, w + 2 * margin), seed, amplitude=0.04 if camouflage else 0.3)
    scene = big[margin:margin + h, margin:margin + w]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    distance = np.hypot(yy - h / 2, xx - w / 2)
    alpha = np.clip((0.3 * min(h, w) - distance) / 2.0 + 0.5, 0, 1).astype(np.float32)
    fg = np.empty((h, w, 3), np.float32)
    fg[:] = fg_colour
    fg *= (0.85 + 0.15 * np.sin(xx / 5.0))[..., None]
    if camouflage:
        shading = (0.85 + 0.15 * np.sin(xx / 5.0))[..., None]
        fg[:, : w // 2] = (scene.mean(axis=(0, 1)) * shading)[:, : w // 2]
    background = scene.copy()
    if shadow:
        cast = cv2.GaussianBlur(np.roll(alpha, (8, 12), axis=(0, 1)), (0, 0), 6.0)
        background = scene * (1.0 - shadow * cast)[..., None]
    a = alpha[..., None]
    photo = a * fg + (1 - a) * background + rng.normal(0, noise, fg.shape)
    centre = ((w + 2 * margin) / 2, (h + 2 * margin) / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[:, 2] += shift
    moved = cv2.warpAffine(big, matrix, big.shape[1::-1], flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)[margin:margin + h, margin:margin + w]
    plate = moved * np.float32(gain) + rng.normal(0, noise, moved.shape)
    # The same warp in the cropped frame: x_plate = M (x + m) - m.
    crop = matrix.copy()
    crop[:, 2] = matrix[:, :2] @ [margin, margin] + matrix[:, 2] - margin
    return PlateScene(np.clip(photo, 0, 1).astype(np.float32),
                      np.clip(plate, 0, 1).astype(np.float32), alpha,
                      background.astype(np.float32), fg, crop)


@pytest.fixture(scope="module")
def scene() -> PlateScene:
    return make_plate_scene()
