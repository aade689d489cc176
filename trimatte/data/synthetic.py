"""Foregrounds whose alpha is known by construction.

Real matting data is scarce (29 training foregrounds in ``../shared``); these generators
add the structures real mattes are made of, each with an exact alpha:

=====================  ================================================================
generator              what it draws
=====================  ================================================================
:func:`strands`        thin anti-aliased curves of sub-pixel to few-pixel width (hair,
                       fur, whiskers), alpha = covered area of each pixel
:func:`blurred_shape`  hard-edged blobs and polygons seen through defocus or motion
                       blur (alpha = the blurred mask)
:func:`translucent`    smooth semi-transparent fields (smoke, glass, veils)
:func:`mesh`           nets, meshes and lace: periodic thin lines, rotated and warped
=====================  ================================================================

Coverage is computed by drawing at :data:`SUPERSAMPLE` times the resolution and
averaging blocks (area downsampling), so alpha is the exact fraction of each pixel
the drawn shape covers. Colours come from a ``texture`` the caller passes (a crop of a
real photo), so the statistics of ``F`` look like photographs.

Every function takes a :class:`numpy.random.Generator` and is a pure function of its
state. Shapes: ``size`` is ``(H, W)``; alpha float32 ``(H, W)`` in [0, 1]; foreground
float32 ``(H, W, 3)`` in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = [
    "GENERATORS",
    "SUPERSAMPLE",
    "blurred_shape",
    "mesh",
    "smooth_noise",
    "strands",
    "tinted_texture",
    "translucent",
]

#: Drawing resolution factor for anti-aliased coverage.
SUPERSAMPLE = 4


def _area_down(canvas: np.ndarray, factor: int) -> np.ndarray:
    """Mean of ``factor`` x ``factor`` blocks: float32 coverage of a supersampled canvas."""
    height, width = canvas.shape[0] // factor, canvas.shape[1] // factor
    blocks = canvas[: height * factor, : width * factor].reshape(height, factor, width, factor)
    return blocks.mean(axis=(1, 3)).astype(np.float32)


def smooth_noise(size: tuple[int, int], rng: np.random.Generator, scale: float) -> np.ndarray:
    """float32 ``(H, W)`` smooth random field in [0, 1] with features about ``scale`` px wide."""
    height, width = size
    coarse = (max(2, int(height / scale) + 2), max(2, int(width / scale) + 2))
    field = rng.random(coarse).astype(np.float32)
    field = cv2.resize(field, (width, height), interpolation=cv2.INTER_CUBIC)
    low, high = float(field.min()), float(field.max())
    return ((field - low) / (high - low + 1e-6)).astype(np.float32)


def tinted_texture(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photo crop recoloured towards a random hue and brightness (hair, fur, fabric colours)."""
    tint = rng.uniform(0.05, 1.0, size=3).astype(np.float32)
    gray = texture.mean(axis=2, keepdims=True)
    mix = float(rng.uniform(0.3, 0.9))
    out = mix * gray * tint * 1.6 + (1 - mix) * texture
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _bezier_points(rng: np.random.Generator, height: int, width: int, steps: int) -> np.ndarray:
    """Points (float, ``(steps, 2)`` x/y) of a random cubic Bezier curve crossing the canvas."""
    start = rng.uniform([0, 0], [width, height])
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction) + 1e-9
    length = rng.uniform(0.3, 1.2) * max(height, width)
    end = start + direction * length
    bend = rng.normal(scale=0.25 * length, size=(2, 2))
    c1 = start + (end - start) / 3 + bend[0]
    c2 = start + 2 * (end - start) / 3 + bend[1]
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) ** 3 * start + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2
            + t**3 * end)


def strands(size: tuple[int, int], rng: np.random.Generator, texture: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Hair, fur or whiskers: many thin curves, most of them narrower than a pixel.

    A dense tuft (a solid core with strands leaving it) or loose strands, chosen at
    random. Returns ``(foreground, alpha)``.
    """
    height, width = size
    factor = SUPERSAMPLE
    canvas = np.zeros((height * factor, width * factor), np.uint8)
    if rng.random() < 0.6:  # a core the strands grow out of
        centre = (int(rng.uniform(0.2, 0.8) * width * factor),
                  int(rng.uniform(0.2, 0.8) * height * factor))
        axes = (int(rng.uniform(0.1, 0.35) * width * factor),
                int(rng.uniform(0.1, 0.35) * height * factor))
        cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    count = int(rng.integers(20, 160))
    for _ in range(count):
        points = _bezier_points(rng, height, width, 24) * factor
        thickness = max(1, round(rng.uniform(0.15, 2.0) * factor))
        cv2.polylines(canvas, [np.round(points).astype(np.int32)], False, 255, thickness,
                      cv2.LINE_8)
    alpha = _area_down(canvas.astype(np.float32) / 255.0, factor)
    foreground = tinted_texture(texture, rng)
    return foreground, np.clip(alpha, 0.0, 1.0)


def _shape_mask(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """float32 ``(H, W)`` coverage of a random polygon or ellipse (anti-aliased)."""
    height, width = size
    factor = SUPERSAMPLE
    canvas = np.zeros((height * factor, width * factor), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.5:
            count = int(rng.integers(3, 9))
            centre = rng.uniform([0.2, 0.2], [0.8, 0.8]) * [width * factor, height * factor]
            radius = rng.uniform(0.1, 0.45) * min(height, width) * factor
            angles = np.sort(rng.uniform(0, 2 * np.pi, count))
            radii = radius * rng.uniform(0.5, 1.0, count)
            points = centre + np.stack([np.cos(angles) * radii, np.sin(angles) * radii], 1)
            cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], 255)
        else:
            centre = (int(rng.uniform(0.2, 0.8) * width * factor),
                      int(rng.uniform(0.2, 0.8) * height * factor))
            axes = (int(rng.uniform(0.08, 0.4) * width * factor),
                    int(rng.uniform(0.08, 0.4) * height * factor))
            cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    return _area_down(canvas.astype(np.float32) / 255.0, factor)


def blurred_shape(size: tuple[int, int], rng: np.random.Generator, texture: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A hard-edged object through defocus (disc kernel) or motion blur (line kernel).

    The alpha is the blurred coverage mask; the foreground is the texture blurred
    with the same kernel, so ``I = alpha F + (1 - alpha) B`` is what a camera records
    of a blurred opaque object to first order.
    """
    mask = _shape_mask(size, rng)
    radius = float(rng.uniform(1.0, 8.0))
    side = 2 * int(np.ceil(radius)) + 1
    kernel = np.zeros((side, side), np.float32)
    centre = (side // 2, side // 2)
    if rng.random() < 0.5:
        cv2.circle(kernel, centre, round(radius), 1.0, -1)
    else:
        angle = rng.uniform(0, np.pi)
        offset = (round(np.cos(angle) * radius), round(np.sin(angle) * radius))
        cv2.line(kernel, (centre[0] - offset[0], centre[1] - offset[1]),
                 (centre[0] + offset[0], centre[1] + offset[1]), 1.0, 1)
    kernel /= kernel.sum()
    alpha = cv2.filter2D(mask, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    foreground = cv2.filter2D(tinted_texture(texture, rng), -1, kernel,
                              borderType=cv2.BORDER_REFLECT)
    return np.clip(foreground, 0, 1).astype(np.float32), np.clip(alpha, 0.0, 1.0)


def translucent(size: tuple[int, int], rng: np.random.Generator, texture: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Smoke, glass or a veil: a smooth field of partial opacity inside a soft shape."""
    field = smooth_noise(size, rng, scale=float(rng.uniform(8, 60)))
    low, high = sorted(rng.uniform(0.05, 0.9, 2))
    alpha = low + (high - low) * field
    shape = cv2.GaussianBlur(_shape_mask(size, rng), (0, 0), float(rng.uniform(0.5, 6)))
    alpha = alpha * shape
    if rng.random() < 0.5:  # a veil's flat colour, or smoke's grey
        colour = rng.uniform(0.2, 1.0, 3).astype(np.float32)
        foreground = np.broadcast_to(colour, (*size, 3)).astype(np.float32)
        foreground = np.clip(foreground * (0.85 + 0.3 * field[..., None]), 0, 1)
    else:
        foreground = tinted_texture(texture, rng)
    return foreground.astype(np.float32), np.clip(alpha, 0.0, 1.0).astype(np.float32)


def mesh(size: tuple[int, int], rng: np.random.Generator, texture: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray]:
    """A net, mesh or lace: two families of thin lines, rotated and gently warped,
    inside a random shape."""
    height, width = size
    factor = SUPERSAMPLE
    big = (height * factor, width * factor)
    ys, xs = np.mgrid[0 : big[0], 0 : big[1]].astype(np.float32)
    spacing = float(rng.uniform(3, 14)) * factor
    thickness = float(rng.uniform(0.2, 1.5)) * factor
    warp = smooth_noise(big, rng, scale=big[0] / 2) * float(rng.uniform(0, 3)) * spacing
    lines = np.zeros(big, np.float32)
    base = rng.uniform(0, np.pi)
    for angle in (base, base + rng.uniform(np.pi / 4, 3 * np.pi / 4)):
        coordinate = xs * np.cos(angle) + ys * np.sin(angle) + warp
        distance = np.abs((coordinate % spacing) - spacing / 2)
        lines = np.maximum(lines, (distance < thickness / 2).astype(np.float32))
    coverage = _area_down(lines, factor)
    region = _shape_mask(size, rng)
    if rng.random() < 0.5:
        region = np.maximum(region, 1.0 - _shape_mask(size, rng))
    alpha = np.clip(coverage * region, 0.0, 1.0)
    return tinted_texture(texture, rng), alpha.astype(np.float32)


#: The synthetic generators by name: ``name -> f(size, rng, texture) -> (fg, alpha)``.
GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "strands": strands,
    "blurred_shape": blurred_shape,
    "translucent": translucent,
    "mesh": mesh,
}
