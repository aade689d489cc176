"""Pictures for people: trimap overlays and contact sheets.

Everything returns uint8 ``(H, W, 3)`` RGB arrays ready for
:func:`trimatte.io.write_image` (after ``/ 255``) or ``cv2.imwrite`` (after RGB→BGR).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from trimatte.image import as_alpha, as_image, as_trimap, to_uint8

#: Tints used for trimap overlays (RGB in [0, 1]).
TRIMAP_COLOURS = {0: (0.1, 0.2, 0.9), 128: (1.0, 0.85, 0.0), 255: (0.1, 0.85, 0.2)}


def trimap_overlay(image: np.ndarray, trimap: np.ndarray, opacity: float = 0.45) -> np.ndarray:
    """The image tinted by trimap class: blue background, yellow unknown, green foreground.

    Returns:
        float32 ``(H, W, 3)`` RGB in [0, 1].
    """
    image = as_image(image)
    trimap = as_trimap(trimap)
    tint = np.zeros_like(image)
    for value, colour in TRIMAP_COLOURS.items():
        tint[trimap == value] = colour
    return (1 - opacity) * image + opacity * tint


def cutout_on_checkerboard(foreground: np.ndarray, alpha: np.ndarray, square: int = 12):
    """The cutout composited over a grey checkerboard, float32 ``(H, W, 3)``."""
    from trimatte.foreground.compositing import checkerboard, composite

    return composite(foreground, alpha, checkerboard(alpha.shape, square=square))


def _fit(tile: np.ndarray, height: int) -> np.ndarray:
    scale = height / tile.shape[0]
    width = max(1, round(tile.shape[1] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(tile, (width, height), interpolation=interpolation)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """``tile`` with ``text`` in white on black at its top left, wrapped at spaces to
    the tile's width (a long caption on a narrow portrait stays readable)."""
    tile = tile.copy()
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.35, tile.shape[0] / 500)
    thickness = max(1, round(scale * 2))

    def width(line: str) -> int:
        return cv2.getTextSize(line, font, scale, thickness)[0][0]

    lines: list[str] = []
    for word in text.split(" "):
        if lines and width(f"{lines[-1]} {word}") + 6 <= tile.shape[1]:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    (_, h), base = cv2.getTextSize("Ag", font, scale, thickness)
    step = h + base + 2
    cv2.rectangle(tile, (0, 0), (max(map(width, lines)) + 6, step * len(lines) + 4), (0, 0, 0),
                  -1)
    for number, line in enumerate(lines):
        cv2.putText(tile, line, (3, h + 3 + number * step), font, scale, (255, 255, 255),
                    thickness, cv2.LINE_AA)
    return tile


def contact_sheet(
    rows: Sequence[dict[str, np.ndarray]],
    *,
    row_height: int = 240,
    labels: Sequence[str] | None = None,
    gap: int = 4,
) -> np.ndarray:
    """One row per image: image | trimap overlay | alpha | cutout on a checkerboard.

    Args:
        rows: Dicts with ``image`` (required) and any of ``trimap``, ``alpha``,
            ``foreground``; missing panels are left out of that row.
        row_height: Height of each row in pixels.
        labels: Optional caption per row (drawn on the first panel).
        gap: White space between panels.

    Returns:
        uint8 ``(H, W, 3)`` RGB image.
    """
    rendered = []
    for index, row in enumerate(rows):
        image = as_image(row["image"])
        panels = [image]
        if row.get("trimap") is not None:
            panels.append(trimap_overlay(image, row["trimap"]))
        if row.get("alpha") is not None:
            alpha = as_alpha(row["alpha"])
            panels.append(np.repeat(alpha[..., None], 3, axis=2))
            fg = row.get("foreground")
            panels.append(cutout_on_checkerboard(image if fg is None else fg, alpha))
        tiles = [_fit(to_uint8(p), row_height) for p in panels]
        if labels is not None:
            tiles[0] = _label(tiles[0], labels[index])
        spacer = np.full((row_height, gap, 3), 255, np.uint8)
        line = [tiles[0]]
        for tile in tiles[1:]:
            line += [spacer, tile]
        rendered.append(np.hstack(line))
    width = max(r.shape[1] for r in rendered)
    padded = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=255)
              for r in rendered]
    return np.vstack(padded)
