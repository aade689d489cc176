"""Pure operations of the trimap editor on arrays: brush strokes, stroke layers, checks.

Nothing here keeps state or touches a window, so a GUI, a script or a web
service can call these functions directly (the web page of ``trimatte serve``
brushes trimaps with :func:`apply_stroke`). They import OpenCV's drawing
functions only, never a GUI toolkit.

Conventions (see :mod:`trimatte.image`): the trimap is uint8 ``(H, W)`` with 0
background, 128 unknown and 255 foreground; points are ``(x, y)`` image pixel
coordinates and rectangles ``(x, y, w, h)``.

The *stroke layer* remembers every painted pixel as a uint8 ``(H, W)`` code:
0 not painted, 1 background, 2 unknown, 3 foreground (:data:`STROKE_CODES`),
so that GrabCut can treat the user's strokes as definite scribbles and paint
them back on top of its result.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN

#: Trimap label of each brush, by name.
BRUSH_LABELS: dict[str, int] = {
    "foreground": FOREGROUND,
    "background": BACKGROUND,
    "unknown": UNKNOWN,
}
MIN_BRUSH_RADIUS = 1
MAX_BRUSH_RADIUS = 300

#: Stroke-layer code of "not painted".
NO_STROKE = 0
#: Stroke-layer code of each trimap label.
STROKE_CODES: dict[int, int] = {BACKGROUND: 1, UNKNOWN: 2, FOREGROUND: 3}
# The trimap label of each stroke code (index 0, "not painted", maps to 0).
_CODE_LABEL = np.array([0, BACKGROUND, UNKNOWN, FOREGROUND], dtype=np.uint8)


# ----------------------------------------------------------------------------- checks


def check_label(label: object, name: str = "label") -> int:
    """Return ``label`` as a trimap value (0, 128 or 255); names from :data:`BRUSH_LABELS` work.

    Raises:
        InputError: Anything else.
    """
    if isinstance(label, str) and label in BRUSH_LABELS:
        return BRUSH_LABELS[label]
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if int(label) in STROKE_CODES:
            return int(label)
    raise InputError(
        f"expected 0 (background), 128 (unknown), 255 (foreground) or one of "
        f"{sorted(BRUSH_LABELS)}, got {label!r}",
        name,
    )


def check_radius(radius: object, name: str = "radius") -> int:
    """Return a brush radius as whole pixels (rounded), at least :data:`MIN_BRUSH_RADIUS`.

    Raises:
        InputError: Not a finite number, or below the minimum after rounding.
    """
    try:
        value = float(radius)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {radius!r}", name) from None
    if not np.isfinite(value):
        raise InputError(f"must be finite, got {radius!r}", name)
    size = round(value)
    if size < MIN_BRUSH_RADIUS:
        raise InputError(f"must be at least {MIN_BRUSH_RADIUS}, got {radius!r}", name)
    return size


def clamp_radius(radius: object, name: str = "brush_radius") -> int:
    """A brush radius rounded and clamped to [:data:`MIN_BRUSH_RADIUS`, :data:`MAX_BRUSH_RADIUS`].

    Raises:
        InputError: Not a finite number.
    """
    try:
        value = float(radius)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {radius!r}", name) from None
    if not np.isfinite(value):
        raise InputError(f"must be finite, got {radius!r}", name)
    return int(np.clip(round(value), MIN_BRUSH_RADIUS, MAX_BRUSH_RADIUS))


def check_band_step(pixels: object) -> int:
    """A band grow/shrink step: a whole number of pixels, at least 1.

    Raises:
        InputError: Anything else.
    """
    from trimatte.trimap.validate import check_pixels

    value = check_pixels(pixels, "pixels")
    if value == 0:
        raise InputError("must be at least 1 pixel", "pixels")
    return value


def check_points(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Brush path points as a float64 ``(N, 2)`` array of ``(x, y)``; one ``(x, y)`` pair works.

    Raises:
        InputError: Not ``N >= 1`` pairs of finite numbers.
    """
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"expected (N, 2) points (x, y), got {points!r}", "points") from None
    if pts.ndim == 1 and pts.shape == (2,):
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise InputError(f"expected (N, 2) points (x, y), got shape {pts.shape}", "points")
    if not np.all(np.isfinite(pts)):
        raise InputError("points must be finite", "points")
    return pts


def check_rect(rect: Sequence[float], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Clip a rectangle ``(x, y, w, h)`` to an image of ``shape`` and return it as ints.

    Negative widths or heights (a rectangle dragged up or to the left) are
    normalised.

    Raises:
        InputError: Not four finite numbers, or smaller than 2x2 pixels inside the image.
    """
    try:
        x, y, w, h = (float(v) for v in rect)
    except (TypeError, ValueError):
        raise InputError(f"expected four numbers (x, y, w, h), got {rect!r}", "rect") from None
    if not all(np.isfinite(v) for v in (x, y, w, h)):
        raise InputError(f"rectangle values must be finite, got {rect!r}", "rect")
    x0, x1 = sorted((x, x + w))
    y0, y1 = sorted((y, y + h))
    height, width = shape[:2]
    x0, x1 = int(np.clip(round(x0), 0, width)), int(np.clip(round(x1), 0, width))
    y0, y1 = int(np.clip(round(y0), 0, height)), int(np.clip(round(y1), 0, height))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise InputError(
            f"rectangle {rect!r} covers less than 2x2 pixels of the {width}x{height} image; "
            "drag a rectangle around the subject",
            "rect",
        )
    return x0, y0, x1 - x0, y1 - y0


# ----------------------------------------------------------------------------- strokes


def stroke_window(shape: tuple[int, ...], points: np.ndarray, radius: int
                  ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The pixels a round brush of ``radius`` covers along a polyline, in their bounding box.

    Points are rounded to whole pixels and the brush is clipped at the image
    border; only the box around the stroke is drawn, so a stroke costs the same
    on a small and on a 30-megapixel image.

    Args:
        shape: Image shape ``(H, W, ...)``.
        points: float ``(N, 2)`` array of ``(x, y)`` image coordinates, N >= 1.
        radius: Brush radius in pixels (>= 1); a single point paints a disc of
            ``2 * radius + 1`` pixels across.

    Returns:
        ``(box, mask)``: ``box = (y0, y1, x0, x1)`` inside the image and a bool
        ``(y1 - y0, x1 - x0)`` mask of the covered pixels in it; None when the
        stroke misses the image.
    """
    height, width = shape[:2]
    pts = [(round(x), round(y)) for x, y in points]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = max(0, min(xs) - radius - 1), min(width, max(xs) + radius + 2)
    y0, y1 = max(0, min(ys) - radius - 1), min(height, max(ys) + radius + 2)
    if x0 >= x1 or y0 >= y1:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    local = [(x - x0, y - y0) for x, y in pts]
    for p in local:
        cv2.circle(mask, p, radius, 1, thickness=-1)
    for p, q in itertools.pairwise(local):
        # OpenCV's thick lines are thickness / 2 rounded up to each side: 2r matches the disc
        cv2.line(mask, p, q, 1, thickness=2 * radius)
    return (y0, y1, x0, x1), mask.astype(bool)


def stroke_mask(shape: tuple[int, ...], points: np.ndarray, radius: int) -> np.ndarray:
    """Pixels covered by a round brush of ``radius`` dragged along a polyline.

    The whole-image form of :func:`stroke_window` (same arguments).

    Returns:
        bool ``(H, W)`` mask.
    """
    mask = np.zeros(shape[:2], dtype=bool)
    window = stroke_window(shape, points, radius)
    if window is not None:
        (y0, y1, x0, x1), local = window
        mask[y0:y1, x0:x1] = local
    return mask


def paint_window(trimap: np.ndarray, strokes: np.ndarray,
                 window: tuple[tuple[int, int, int, int], np.ndarray], label: int) -> None:
    """Paint ``label`` and its stroke code where a :func:`stroke_window` mask is set.

    Works in place (the editor's live drag); :func:`apply_stroke` is the copying form.

    Args:
        trimap: uint8 ``(H, W)`` trimap, changed in place.
        strokes: uint8 ``(H, W)`` stroke layer, changed in place.
        window: ``(box, mask)`` from :func:`stroke_window`.
        label: Trimap value 0, 128 or 255.
    """
    (y0, y1, x0, x1), covered = window
    trimap[y0:y1, x0:x1][covered] = label
    strokes[y0:y1, x0:x1][covered] = STROKE_CODES[label]


def apply_stroke(
    trimap: np.ndarray,
    points: Sequence[Sequence[float]] | np.ndarray,
    radius: float,
    label: int | str,
    strokes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Brush a polyline onto a trimap, without changing the inputs.

    This is the one brush of the editor (window, scripts and web page alike).

    Args:
        trimap: uint8 ``(H, W)`` trimap (0/128/255).
        points: ``(N, 2)`` ``(x, y)`` image coordinates, N >= 1; points may lie
            outside the image (the brush is clipped).
        radius: Brush radius in pixels (rounded, >= 1).
        label: Trimap value (0, 128, 255) or brush name (``"foreground"``, ...).
        strokes: uint8 ``(H, W)`` stroke layer so far (see :data:`STROKE_CODES`),
            or None for none.

    Returns:
        ``(trimap, strokes)``: new uint8 ``(H, W)`` arrays; pixels within
        ``radius`` of the path hold ``label`` and its stroke code, all others are
        unchanged.

    Raises:
        InputError: Malformed points, radius or label, or a stroke layer of another size.
    """
    value = check_label(label)
    size = check_radius(radius)
    pts = check_points(points)
    new_trimap = np.array(trimap, dtype=np.uint8, copy=True)
    if strokes is None:
        new_strokes = np.zeros(new_trimap.shape, dtype=np.uint8)
    else:
        new_strokes = np.array(strokes, dtype=np.uint8, copy=True)
        if new_strokes.shape != new_trimap.shape:
            raise InputError(f"stroke layer has shape {new_strokes.shape}, the trimap "
                             f"{new_trimap.shape}", "strokes")
    window = stroke_window(new_trimap.shape, pts, size)
    if window is not None:
        paint_window(new_trimap, new_strokes, window, value)
    return new_trimap, new_strokes


def stroke_labels(strokes: np.ndarray) -> np.ndarray:
    """Trimap label of each stroke-layer pixel: uint8 ``(H, W)``, 0 where not painted too."""
    return _CODE_LABEL[strokes]


def scribbles(strokes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(fg, bg)``: bool ``(H, W)`` masks of the foreground and background strokes."""
    return strokes == STROKE_CODES[FOREGROUND], strokes == STROKE_CODES[BACKGROUND]


def paint_back(trimap: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """A copy of ``trimap`` with every stroke painted on top (uint8 ``(H, W)``)."""
    out = np.array(trimap, dtype=np.uint8, copy=True)
    painted = strokes != NO_STROKE
    out[painted] = _CODE_LABEL[strokes[painted]]
    return out


# ----------------------------------------------------------------------------- resolution


def downscale_trimap(trimap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Shrink a trimap conservatively to ``size`` = ``(width, height)``.

    A small pixel is foreground (background) only if every full-resolution
    pixel it covers is; everything else becomes unknown, so the unknown band
    never disappears when the image is shrunk.

    Args:
        trimap: uint8 ``(H, W)`` trimap.
        size: ``(width, height)`` of the result.

    Returns:
        uint8 ``(height, width)`` trimap.
    """
    out = np.full((size[1], size[0]), UNKNOWN, dtype=np.uint8)
    for label in (FOREGROUND, BACKGROUND):
        share = cv2.resize((trimap == label).astype(np.float32), size,
                           interpolation=cv2.INTER_AREA)
        out[share > 0.999] = label
    return out


def preview_size(shape: tuple[int, ...], max_side: int | None) -> tuple[int, int] | None:
    """``(width, height)`` of a working copy whose long side is at most ``max_side``.

    Returns None when no shrinking is needed (``max_side`` None or the image is
    small enough).

    Raises:
        InputError: ``max_side`` below 8 pixels.
    """
    if max_side is None:
        return None
    if int(max_side) < 8:
        raise InputError(f"must be at least 8 pixels, got {max_side}", "max_side")
    height, width = shape[:2]
    scale = min(1.0, int(max_side) / max(height, width))
    if scale >= 1.0:
        return None
    return max(2, round(width * scale)), max(2, round(height * scale))


def upsample_alpha(alpha: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Bring a low-resolution alpha to the trimap's size, exact where the trimap is known.

    Bilinear upsampling, clipping to [0, 1], then 1 on foreground and 0 on
    background pixels of the full-resolution ``trimap``.

    Args:
        alpha: float ``(h, w)`` matte in [0, 1].
        trimap: uint8 ``(H, W)`` trimap.

    Returns:
        float32 ``(H, W)`` alpha in [0, 1].
    """
    height, width = trimap.shape
    out = np.asarray(alpha, dtype=np.float32)
    if out.shape != trimap.shape:
        out = cv2.resize(out, (width, height), interpolation=cv2.INTER_LINEAR)
    out = np.clip(out, 0.0, 1.0)
    out[trimap == FOREGROUND] = 1.0
    out[trimap == BACKGROUND] = 0.0
    return out


__all__ = [
    "BRUSH_LABELS",
    "MAX_BRUSH_RADIUS",
    "MIN_BRUSH_RADIUS",
    "NO_STROKE",
    "STROKE_CODES",
    "apply_stroke",
    "check_band_step",
    "check_label",
    "check_points",
    "check_radius",
    "check_rect",
    "clamp_radius",
    "downscale_trimap",
    "paint_back",
    "paint_window",
    "preview_size",
    "scribbles",
    "stroke_labels",
    "stroke_mask",
    "stroke_window",
    "upsample_alpha",
]
