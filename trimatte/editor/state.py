"""State and actions of the interactive trimap editor, with no GUI code.

:class:`EditorState` holds the image, the trimap being edited, the brush, the
user's strokes and a memory-bounded undo/redo history.  Every action is a plain
method call on arrays, so the whole editor logic is testable without a window;
:mod:`trimatte.editor.gui` is only a thin OpenCV layer that turns mouse and key
events into these calls and shows :meth:`EditorState.render`.

Conventions (see :mod:`trimatte.image`): the image is float32 ``(H, W, 3)`` RGB
in [0, 1]; the trimap is uint8 ``(H, W)`` with 0 background, 128 unknown and
255 foreground; points and rectangles are in image pixels, ``(x, y)`` and
``(x, y, w, h)``.

Strokes.  Every painted pixel is also remembered in a *stroke layer* with the
label it was painted with.  GrabCut treats foreground and background strokes as
definite scribbles, and after GrabCut has replaced the trimap all strokes are
painted back on top of it, so a correction is never lost by re-running GrabCut.
Band changes act on the trimap as shown.

History.  Each undoable action stores only the bounding box of the pixels it
changed, before and after, zlib-compressed; the oldest steps are dropped once
the history exceeds ``history_bytes`` or ``history_steps``.  Undo and redo
restore the trimap and the stroke layer bit for bit.
"""

from __future__ import annotations

import itertools
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from trimatte.errors import InputError, ModelUnavailableError, TrimapError
from trimatte.image import (
    BACKGROUND,
    FOREGROUND,
    UNKNOWN,
    as_image,
    as_trimap,
    check_same_size,
    to_uint8,
)

#: Trimap label of each brush, by name.
BRUSH_LABELS: dict[str, int] = {
    "foreground": FOREGROUND,
    "background": BACKGROUND,
    "unknown": UNKNOWN,
}
#: Overlay modes of :meth:`EditorState.render`.
RENDER_MODES: tuple[str, ...] = ("trimap", "alpha", "checkerboard", "colour", "image")
MIN_BRUSH_RADIUS = 1
MAX_BRUSH_RADIUS = 300
#: Longest side of the image the live alpha preview is computed on.
DEFAULT_PREVIEW_SIDE = 320

# Stroke layer codes: 0 means "not painted".
_NO_STROKE = 0
_STROKE_CODE = {BACKGROUND: 1, UNKNOWN: 2, FOREGROUND: 3}
_CODE_LABEL = np.array([0, BACKGROUND, UNKNOWN, FOREGROUND], dtype=np.uint8)

# Colours (RGB in [0, 1]) used to tint the trimap overlay.
_TINT = {
    FOREGROUND: np.array([0.1, 0.9, 0.2], np.float32),
    BACKGROUND: np.array([0.9, 0.1, 0.3], np.float32),
    UNKNOWN: np.array([1.0, 0.85, 0.0], np.float32),
}
_TINT_OPACITY = 0.45


# ----------------------------------------------------------------------------- pure helpers


def check_label(label: object, name: str = "label") -> int:
    """Return ``label`` as a trimap value (0, 128 or 255); names from :data:`BRUSH_LABELS` work.

    Raises:
        InputError: Anything else.
    """
    if isinstance(label, str) and label in BRUSH_LABELS:
        return BRUSH_LABELS[label]
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if int(label) in _STROKE_CODE:
            return int(label)
    raise InputError(
        f"expected 0 (background), 128 (unknown), 255 (foreground) or one of "
        f"{sorted(BRUSH_LABELS)}, got {label!r}",
        name,
    )


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


def stroke_mask(shape: tuple[int, ...], points: np.ndarray, radius: int) -> np.ndarray:
    """Pixels covered by a round brush of ``radius`` dragged along a polyline.

    Args:
        shape: Image shape ``(H, W, ...)``.
        points: float ``(N, 2)`` array of ``(x, y)`` image coordinates, N >= 1.
        radius: Brush radius in pixels (>= 1); a single point paints a disc of
            ``2 * radius + 1`` pixels across.

    Returns:
        bool ``(H, W)`` mask.
    """
    mask = np.zeros(shape[:2], dtype=np.uint8)
    pts = [(round(x), round(y)) for x, y in points]
    for p in pts:
        cv2.circle(mask, p, radius, 1, thickness=-1)
    for p, q in itertools.pairwise(pts):
        # OpenCV's thick lines are thickness / 2 rounded up to each side: 2r matches the disc
        cv2.line(mask, p, q, 1, thickness=2 * radius)
    return mask.astype(bool)


def downscale_trimap(trimap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Shrink a trimap conservatively to ``size`` = ``(width, height)``.

    A small pixel is foreground (background) only if every full-resolution
    pixel it covers is; everything else becomes unknown, so the unknown band
    never disappears when the image is shrunk.
    """
    out = np.full((size[1], size[0]), UNKNOWN, dtype=np.uint8)
    for label in (FOREGROUND, BACKGROUND):
        share = cv2.resize((trimap == label).astype(np.float32), size,
                           interpolation=cv2.INTER_AREA)
        out[share > 0.999] = label
    return out


def preview_alpha_of(
    image: np.ndarray,
    trimap: np.ndarray,
    max_side: int | None = DEFAULT_PREVIEW_SIDE,
    *,
    epsilon: float = 1e-7,
) -> np.ndarray:
    """Closed-form alpha computed on a downscaled copy, upsampled and clamped by the trimap.

    The image is shrunk so that its long side is at most ``max_side`` (area
    interpolation), the trimap conservatively (:func:`downscale_trimap`); the
    small matte is upsampled bilinearly, and then every pixel the full-resolution
    trimap marks as foreground or background is set to exactly 1 or 0.  With
    ``max_side=None`` (or an image already small enough) this is the
    full-resolution closed-form matte.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` trimap.
        max_side: Long side of the working copy in pixels (>= 8), or None.
        epsilon: Regulariser of closed-form matting.

    Returns:
        float32 ``(H, W)`` alpha in [0, 1].

    Raises:
        TrimapError: The trimap has no foreground or no background pixels.
    """
    from trimatte.matting.closed_form import closed_form_alpha
    from trimatte.trimap.validate import validate_trimap

    unknown = trimap == UNKNOWN
    if not unknown.any():
        return (trimap == FOREGROUND).astype(np.float32)
    validate_trimap(trimap, name="trimap", image_shape=image.shape)
    height, width = trimap.shape
    scale = 1.0
    if max_side is not None:
        if int(max_side) < 8:
            raise InputError(f"must be at least 8 pixels, got {max_side}", "max_side")
        scale = min(1.0, int(max_side) / max(height, width))
    if scale < 1.0:
        size = (max(2, round(width * scale)), max(2, round(height * scale)))
        small_image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_trimap = downscale_trimap(trimap, size)
        small_alpha = closed_form_alpha(np.clip(small_image, 0.0, 1.0), small_trimap,
                                        epsilon=epsilon)
        alpha = cv2.resize(small_alpha.astype(np.float32), (width, height),
                           interpolation=cv2.INTER_LINEAR)
    else:
        alpha = closed_form_alpha(image, trimap, epsilon=epsilon).astype(np.float32)
    alpha = np.clip(alpha, 0.0, 1.0)
    alpha[trimap == FOREGROUND] = 1.0
    alpha[trimap == BACKGROUND] = 0.0
    return alpha


def grabcut_with_strokes(
    image: np.ndarray,
    trimap: np.ndarray,
    strokes: np.ndarray,
    band: int,
    *,
    rect: tuple[int, int, int, int] | None = None,
    iterations: int = 5,
) -> np.ndarray:
    """A new trimap from GrabCut, seeded by the current trimap and the strokes.

    Without ``rect``, the current trimap split at the middle of its unknown band
    is GrabCut's *probable* foreground; foreground and background strokes are
    definite scribbles.  With ``rect`` GrabCut starts from the rectangle instead
    (still using the strokes).  The result is a band of ``band`` pixels around
    GrabCut's mask, with every stroke painted back on top.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` current trimap.
        strokes: uint8 ``(H, W)`` stroke layer (0 none, 1 bg, 2 unknown, 3 fg).
        band: Radius in pixels of the unknown band around the new boundary.
        rect: Optional ``(x, y, w, h)`` rectangle around the subject.
        iterations: GrabCut iterations.

    Returns:
        uint8 ``(H, W)`` trimap.

    Raises:
        TrimapError: No rectangle and nothing marked as foreground.
    """
    from trimatte.trimap.grabcut import grabcut_mask
    from trimatte.trimap.morphology import rebuild_band, trimap_from_mask

    fg_scribbles = strokes == _STROKE_CODE[FOREGROUND]
    bg_scribbles = strokes == _STROKE_CODE[BACKGROUND]
    if rect is not None:
        mask = grabcut_mask(image, rect=rect, fg_scribbles=fg_scribbles,
                            bg_scribbles=bg_scribbles, iterations=iterations)
    else:
        probable = rebuild_band(trimap, 0) == FOREGROUND
        if not (probable.any() or fg_scribbles.any()):
            raise TrimapError(
                "nothing is marked as foreground: paint some foreground on the subject "
                "or draw a GrabCut rectangle first",
                "trimap",
            )
        mask = grabcut_mask(image, mask=probable, fg_scribbles=fg_scribbles,
                            bg_scribbles=bg_scribbles, iterations=iterations)
    new = trimap_from_mask(mask, band)
    painted = strokes != _NO_STROKE
    new[painted] = _CODE_LABEL[strokes[painted]]
    return new


def automatic_trimap(image: np.ndarray, band: int) -> tuple[np.ndarray, str]:
    """The default automatic trimap of ``trimatte matte`` (the ``salient`` source).

    If that source is not available (not installed, or its weights are missing)
    GrabCut with the default rectangle is used instead, and the returned message
    says so.

    Returns:
        ``(trimap, message)``: uint8 ``(H, W)`` trimap and a one-line description
        for the status bar.
    """
    from trimatte.pipeline import MatteState

    name = "salient"
    try:
        from trimatte.api import DEFAULT_TRIMAP_METHOD
        from trimatte.registry import STAGES

        name = DEFAULT_TRIMAP_METHOD
        result = STAGES.build(name).run(MatteState(image=image))
        if result.trimap is None:
            raise InputError("produced no trimap", name)
        return as_trimap(result.trimap), f"automatic trimap ({name})"
    except (ImportError, InputError, ModelUnavailableError) as exc:
        reason = str(exc).splitlines()[0][:80]
        from trimatte.trimap.grabcut import grabcut_mask
        from trimatte.trimap.morphology import trimap_from_mask

        trimap = trimap_from_mask(grabcut_mask(image), band)
        return trimap, f"'{name}' trimap unavailable ({reason}); used GrabCut on a default rect"


def render_frame(
    image: np.ndarray,
    trimap: np.ndarray,
    alpha: np.ndarray,
    mode: str,
    *,
    colour: Sequence[float] = (1.0, 1.0, 1.0),
    square: int = 16,
) -> np.ndarray:
    """Draw one overlay mode as a uint8 BGR frame of the image's size.

    Modes (:data:`RENDER_MODES`): ``trimap`` (the trimap tinted over the image:
    green foreground, red background, yellow unknown), ``alpha`` (the matte in
    gray), ``checkerboard`` and ``colour`` (the image composited with ``alpha``
    over a checkerboard or over ``colour``, RGB in [0, 1]), ``image``.

    Returns:
        uint8 ``(H, W, 3)`` BGR array (OpenCV's channel order, ready to show).
    """
    if mode == "trimap":
        tint = np.empty_like(image)
        for label, rgb in _TINT.items():
            tint[trimap == label] = rgb
        rgb_frame = (1.0 - _TINT_OPACITY) * image + _TINT_OPACITY * tint
    elif mode == "alpha":
        rgb_frame = np.repeat(alpha[:, :, None], 3, axis=2)
    elif mode == "checkerboard":
        from trimatte.foreground.compositing import checkerboard, composite

        rgb_frame = composite(image, alpha, checkerboard(image.shape[:2], square=square))
    elif mode == "colour":
        from trimatte.foreground.compositing import composite

        rgb_frame = composite(image, alpha, np.asarray(colour, np.float32))
    elif mode == "image":
        rgb_frame = image
    else:
        raise InputError(f"unknown mode {mode!r}; expected one of {RENDER_MODES}", "mode")
    return np.ascontiguousarray(to_uint8(rgb_frame)[:, :, ::-1])


# ----------------------------------------------------------------------------- history


@dataclass(frozen=True)
class _Step:
    """One undoable change: the changed box of trimap and strokes, before and after."""

    name: str
    box: tuple[int, int, int, int]  # y0, y1, x0, x1
    before: bytes  # zlib of the (trimap, strokes) patch, shape (y1-y0, x1-x0, 2)
    after: bytes
    band_before: int
    band_after: int

    @property
    def nbytes(self) -> int:
        return len(self.before) + len(self.after) + 128


def _pack(trimap: np.ndarray, strokes: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    y0, y1, x0, x1 = box
    patch = np.stack([trimap[y0:y1, x0:x1], strokes[y0:y1, x0:x1]], axis=2)
    return zlib.compress(np.ascontiguousarray(patch).tobytes(), 1)


def _unpack(data: bytes, box: tuple[int, int, int, int]) -> np.ndarray:
    y0, y1, x0, x1 = box
    return np.frombuffer(zlib.decompress(data), np.uint8).reshape(y1 - y0, x1 - x0, 2)


# ----------------------------------------------------------------------------- the state


class EditorState:
    """Everything the trimap editor knows, and every action a user can take.

    Args:
        image: RGB image (anything :func:`trimatte.image.as_image` accepts).
        trimap: Starting trimap of the image's size (anything
            :func:`trimatte.image.as_trimap` accepts); ``None`` starts with every
            pixel unknown (e.g. before a GrabCut rectangle is drawn).
        image_path: File the image came from; :meth:`save` refuses to write over it.
        protected_paths: Further input files :meth:`save` must never overwrite
            (e.g. the trimap file the session started from).
        brush_radius: Initial brush radius in pixels (default 1.5% of the long side).
        band: Radius in pixels of the unknown band GrabCut draws (default 1% of the
            long side); band grow/shrink actions change it too.
        history_bytes: Memory budget of the undo + redo history.
        history_steps: Most undo steps kept.

    Attributes:
        brush_label: Trimap value the brush paints (0, 128 or 255).
        brush_radius: Brush radius in pixels.
        band: Current band radius in pixels.
        version: Increases with every change of the trimap (including undo/redo).
        message: Last status message (what the last action did), for the GUI.
    """

    def __init__(
        self,
        image: np.ndarray,
        trimap: np.ndarray | None = None,
        *,
        image_path: str | Path | None = None,
        protected_paths: Iterable[str | Path] = (),
        brush_radius: int | None = None,
        band: int | None = None,
        history_bytes: int = 32 * 2**20,
        history_steps: int = 200,
    ) -> None:
        from trimatte.trimap.morphology import band_width_for

        self.image = as_image(image, "image")
        height, width = self.image.shape[:2]
        if trimap is None:
            self._trimap = np.full((height, width), UNKNOWN, dtype=np.uint8)
        else:
            self._trimap = as_trimap(trimap, "trimap").copy()
            check_same_size(self.image.shape, self._trimap.shape, "trimap")
        self._strokes = np.zeros((height, width), dtype=np.uint8)
        self.image_path = Path(image_path) if image_path is not None else None
        self.protected_paths = [Path(p) for p in protected_paths]
        if self.image_path is not None:
            self.protected_paths.insert(0, self.image_path)
        self.brush_label = FOREGROUND
        self.brush_radius = MIN_BRUSH_RADIUS
        self.set_brush_radius(
            brush_radius if brush_radius is not None
            else max(2, round(0.015 * max(height, width)))
        )
        self.band = int(band) if band is not None else band_width_for(self.image.shape, 0.01)
        if self.band < 0:
            raise InputError(f"must be >= 0 pixels, got {band}", "band")
        if history_bytes <= 0 or history_steps <= 0:
            raise InputError("history budget must be positive", "history_bytes/history_steps")
        self.history_bytes = int(history_bytes)
        self.history_steps = int(history_steps)
        self._undo: deque[_Step] = deque()
        self._redo: deque[_Step] = deque()
        self._open: tuple[str, np.ndarray, np.ndarray, int] | None = None
        self.version = 0
        self.saved_version = 0
        self._alpha: np.ndarray | None = None
        self._alpha_version = -1
        self._alpha_full_res = False
        self.message = ""

    # ------------------------------------------------------------------ read-only views

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the image."""
        return self._trimap.shape  # type: ignore[return-value]

    @property
    def trimap(self) -> np.ndarray:
        """The current trimap, uint8 ``(H, W)`` (a read-only view; copy it to modify)."""
        view = self._trimap.view()
        view.flags.writeable = False
        return view

    @property
    def strokes(self) -> np.ndarray:
        """Stroke layer, uint8 ``(H, W)``: 0 unpainted, else the label painted last.

        Values are the trimap labels (0, 128, 255) where painted; use
        :attr:`painted` to tell a background stroke from an unpainted pixel.
        """
        return _CODE_LABEL[self._strokes]

    @property
    def painted(self) -> np.ndarray:
        """bool ``(H, W)``: True where the user has painted a stroke."""
        return self._strokes != _NO_STROKE

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def history_nbytes(self) -> int:
        """Bytes held by the undo and redo history."""
        return sum(s.nbytes for s in self._undo) + sum(s.nbytes for s in self._redo)

    @property
    def modified(self) -> bool:
        """True if the trimap changed since the last :meth:`save` (or since the start)."""
        return self.version != self.saved_version

    # ------------------------------------------------------------------ transactions

    def _begin(self, name: str) -> tuple[str, np.ndarray, np.ndarray, int]:
        return (name, self._trimap.copy(), self._strokes.copy(), self.band)

    def _commit(self, before: tuple[str, np.ndarray, np.ndarray, int]) -> bool:
        name, trimap_before, strokes_before, band_before = before
        changed = (trimap_before != self._trimap) | (strokes_before != self._strokes)
        if not changed.any():
            if band_before != self.band:  # nothing drawn, but the band setting moved
                self._push(_Step(name, (0, 0, 0, 0), b"", b"", band_before, self.band))
                return True
            return False
        rows = np.flatnonzero(changed.any(axis=1))
        cols = np.flatnonzero(changed.any(axis=0))
        box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
        step = _Step(
            name,
            box,
            _pack(trimap_before, strokes_before, box),
            _pack(self._trimap, self._strokes, box),
            band_before,
            self.band,
        )
        self._push(step)
        self.version += 1
        return True

    def _push(self, step: _Step) -> None:
        self._undo.append(step)
        self._redo.clear()
        while len(self._undo) > self.history_steps:
            self._undo.popleft()
        while len(self._undo) > 1 and self.history_nbytes > self.history_bytes:
            self._undo.popleft()

    def _apply(self, step: _Step, data: bytes, band: int) -> None:
        if step.box[1] > step.box[0]:
            y0, y1, x0, x1 = step.box
            patch = _unpack(data, step.box)
            self._trimap[y0:y1, x0:x1] = patch[:, :, 0]
            self._strokes[y0:y1, x0:x1] = patch[:, :, 1]
            self.version += 1
        self.band = band

    # ------------------------------------------------------------------ brush

    def set_brush_radius(self, radius: float) -> int:
        """Set the brush radius (clamped to [1, 300] pixels) and return it.

        Raises:
            InputError: Not a finite number.
        """
        try:
            value = float(radius)
        except (TypeError, ValueError):
            raise InputError(f"must be a number, got {radius!r}", "brush_radius") from None
        if not np.isfinite(value):
            raise InputError(f"must be finite, got {radius!r}", "brush_radius")
        self.brush_radius = int(np.clip(round(value), MIN_BRUSH_RADIUS, MAX_BRUSH_RADIUS))
        return self.brush_radius

    def set_brush_label(self, label: int | str) -> int:
        """Choose what the brush paints: 0/128/255 or ``"background"``/``"unknown"``/…"""
        self.brush_label = check_label(label, "brush")
        return self.brush_label

    def begin_stroke(self) -> None:
        """Start a drag: the :meth:`paint` calls until :meth:`end_stroke` are one undo step."""
        if self._open is None:
            self._open = self._begin("paint")

    def end_stroke(self) -> bool:
        """Finish a drag started with :meth:`begin_stroke`; True if anything changed."""
        if self._open is None:
            return False
        before, self._open = self._open, None
        return self._commit(before)

    def paint(
        self,
        points: Sequence[Sequence[float]] | np.ndarray,
        label: int | str | None = None,
        radius: float | None = None,
    ) -> bool:
        """Paint a polyline of ``(x, y)`` points with a round brush.

        Painted pixels take ``label`` in the trimap and are remembered as strokes.
        Outside a :meth:`begin_stroke` / :meth:`end_stroke` pair every call is its
        own undo step.

        Args:
            points: ``(N, 2)`` image coordinates ``(x, y)``, N >= 1; points may lie
                outside the image (the brush is clipped).
            label: Trimap value or brush name; default :attr:`brush_label`.
            radius: Brush radius in pixels; default :attr:`brush_radius`.

        Returns:
            True if any pixel changed.

        Raises:
            InputError: Malformed points, label or radius.
        """
        value = self.brush_label if label is None else check_label(label)
        size = self.brush_radius if radius is None else round(float(radius))
        if size < MIN_BRUSH_RADIUS:
            raise InputError(f"must be at least {MIN_BRUSH_RADIUS}, got {radius!r}", "radius")
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim == 1 and pts.shape == (2,):
            pts = pts[None, :]
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
            raise InputError(f"expected (N, 2) points (x, y), got shape {pts.shape}", "points")
        if not np.all(np.isfinite(pts)):
            raise InputError("points must be finite", "points")
        covered = stroke_mask(self.shape, pts, size)
        before = None if self._open is not None else self._begin("paint")
        self._trimap[covered] = value
        self._strokes[covered] = _STROKE_CODE[value]
        if before is None:
            changed = bool(covered.any())
            if changed:
                self.version += 1  # keep previews in step while a drag is open
            return changed
        return self._commit(before)

    def clear_strokes(self) -> bool:
        """Forget every stroke (the trimap stays as it is); undoable."""
        self.end_stroke()
        before = self._begin("clear strokes")
        self._strokes[:] = _NO_STROKE
        return self._commit(before)

    # ------------------------------------------------------------------ whole-trimap actions

    def set_trimap(self, trimap: np.ndarray, name: str = "set trimap") -> bool:
        """Replace the trimap (one undo step); True if anything changed.

        Raises:
            TrimapError: Malformed trimap or wrong size.
        """
        new = as_trimap(trimap, "trimap")
        check_same_size(self.image.shape, new.shape, "trimap")
        self.end_stroke()
        before = self._begin(name)
        self._trimap[:] = new
        changed = self._commit(before)
        self.message = f"{name}" if changed else f"{name}: no change"
        return changed

    def reset(self, trimap: np.ndarray, message: str = "") -> None:
        """Start over from ``trimap``: strokes and history are cleared, nothing is unsaved.

        For a starting trimap that arrives after the state was made (e.g. an
        automatic trimap computed while the window was already open).

        Raises:
            TrimapError: Malformed trimap or wrong size.
        """
        new = as_trimap(trimap, "trimap")
        check_same_size(self.image.shape, new.shape, "trimap")
        self._open = None
        self._trimap[:] = new
        self._strokes[:] = _NO_STROKE
        self._undo.clear()
        self._redo.clear()
        self.version += 1
        self.saved_version = self.version
        self.message = message

    def grow_band(self, pixels: int = 1) -> bool:
        """Widen the unknown band by ``pixels`` (erodes foreground and background).

        Raises:
            InputError: ``pixels`` is not a positive whole number.
        """
        return self._adjust_band(self._check_step(pixels), "grow band")

    def shrink_band(self, pixels: int = 1) -> bool:
        """Narrow the unknown band by ``pixels`` (unknown pixels go to the nearest side).

        Raises:
            InputError: ``pixels`` is not a positive whole number.
        """
        return self._adjust_band(-self._check_step(pixels), "shrink band")

    @staticmethod
    def _check_step(pixels: int) -> int:
        from trimatte.trimap.validate import check_pixels

        value = check_pixels(pixels, "pixels")
        if value == 0:
            raise InputError("must be at least 1 pixel", "pixels")
        return value

    def _adjust_band(self, pixels: int, name: str) -> bool:
        from trimatte.trimap.morphology import adjust_band

        self.end_stroke()
        before = self._begin(name)
        self._trimap[:] = adjust_band(self._trimap, pixels)
        self.band = max(0, self.band + pixels)
        changed = self._commit(before)
        self.message = f"{name} by {abs(pixels)} px (band {self.band} px)"
        return changed

    def prepare_grabcut(
        self,
        rect: Sequence[float] | None = None,
        iterations: int = 5,
    ) -> Callable[[], np.ndarray]:
        """A zero-argument function computing GrabCut's new trimap on copies of the inputs.

        Lets a GUI run GrabCut in a background thread and hand the result to
        :meth:`set_trimap` afterwards. See :func:`grabcut_with_strokes`.
        """
        checked = None if rect is None else check_rect(rect, self.shape)
        return partial(
            grabcut_with_strokes,
            self.image,
            self._trimap.copy(),
            self._strokes.copy(),
            self.band,
            rect=checked,
            iterations=iterations,
        )

    def grabcut_from_strokes(self, iterations: int = 5) -> bool:
        """Re-run GrabCut seeded by the current trimap and the strokes; one undo step."""
        self.end_stroke()
        return self.set_trimap(self.prepare_grabcut(None, iterations)(), "GrabCut from strokes")

    def grabcut_from_rect(self, rect: Sequence[float], iterations: int = 5) -> bool:
        """Run GrabCut from a rectangle ``(x, y, w, h)`` (and the strokes); one undo step.

        Raises:
            InputError: The rectangle is degenerate or outside the image.
        """
        self.end_stroke()
        return self.set_trimap(self.prepare_grabcut(rect, iterations)(), "GrabCut from rectangle")

    # ------------------------------------------------------------------ undo / redo

    def undo(self) -> bool:
        """Undo the last change; False if there is nothing to undo."""
        self.end_stroke()
        if not self._undo:
            self.message = "nothing to undo"
            return False
        step = self._undo.pop()
        self._apply(step, step.before, step.band_before)
        self._redo.append(step)
        self.message = f"undo {step.name}"
        return True

    def redo(self) -> bool:
        """Redo the last undone change; False if there is nothing to redo."""
        self.end_stroke()
        if not self._redo:
            self.message = "nothing to redo"
            return False
        step = self._redo.pop()
        self._apply(step, step.after, step.band_after)
        self._undo.append(step)
        self.message = f"redo {step.name}"
        return True

    # ------------------------------------------------------------------ alpha

    @property
    def alpha(self) -> np.ndarray | None:
        """The last computed alpha (preview or full resolution), possibly stale, or None."""
        return self._alpha

    @property
    def alpha_is_current(self) -> bool:
        """True if :attr:`alpha` was computed from the current trimap."""
        return self._alpha is not None and self._alpha_version == self.version

    def prepare_preview(self, max_side: int | None = DEFAULT_PREVIEW_SIDE
                        ) -> tuple[int, Callable[[], np.ndarray]]:
        """``(version, compute)``: a function computing the alpha preview on copies.

        Run ``compute()`` anywhere (e.g. a worker thread), then hand its result
        to :meth:`set_alpha` with ``version``.
        """
        return self.version, partial(preview_alpha_of, self.image, self._trimap.copy(),
                                     max_side)

    def set_alpha(self, alpha: np.ndarray, version: int, full_res: bool = False) -> None:
        """Store an alpha computed for trimap ``version`` (kept even if now stale)."""
        self._alpha = alpha
        self._alpha_version = version
        self._alpha_full_res = full_res

    def preview_alpha(self, max_side: int | None = DEFAULT_PREVIEW_SIDE) -> np.ndarray:
        """Alpha from closed-form matting on a downscaled copy, guided by the full trimap.

        See :func:`preview_alpha_of`; ``max_side=None`` computes at full resolution.
        The result is cached until the trimap changes.

        Returns:
            float32 ``(H, W)`` alpha in [0, 1].

        Raises:
            TrimapError: No foreground or no background in the trimap.
        """
        full = max_side is None or int(max_side) >= max(self.shape)
        if self.alpha_is_current and (self._alpha_full_res or not full):
            return self._alpha  # type: ignore[return-value]
        version, compute = self.prepare_preview(max_side)
        self.set_alpha(compute(), version, full_res=full)
        return self._alpha  # type: ignore[return-value]

    def display_alpha(self) -> np.ndarray:
        """Alpha to show: the last computed one, else the trimap (unknown as 0.5)."""
        if self._alpha is not None:
            return self._alpha
        return self._trimap.astype(np.float32) / 255.0

    # ------------------------------------------------------------------ output

    def render(self, mode: str = "trimap", *, colour: Sequence[float] = (1.0, 1.0, 1.0),
               ) -> np.ndarray:
        """The image with an overlay, as a uint8 BGR ``(H, W, 3)`` frame.

        Modes are :data:`RENDER_MODES`; alpha-based modes use :meth:`display_alpha`
        (no computation happens here). See :func:`render_frame`.
        """
        return render_frame(self.image, self._trimap, self.display_alpha(), mode, colour=colour)

    def output_paths(self, outdir: str | Path, stem: str | None = None) -> dict[str, Path]:
        """Where :meth:`save` writes: ``OUTDIR/<stem>_trimap.png``, ``_alpha.png``, ``_cutout.png``.
        """
        if stem is None:
            stem = self.image_path.stem if self.image_path is not None else "edited"
        if not stem or "/" in stem or "\\" in stem:
            raise InputError(f"must be a plain file name, got {stem!r}", "stem")
        outdir = Path(outdir)
        return {kind: outdir / f"{stem}_{kind}.png" for kind in ("trimap", "alpha", "cutout")}

    def save(self, outdir: str | Path, stem: str | None = None, *, refine: bool = True
             ) -> dict[str, Path]:
        """Write the trimap, the alpha matte and an RGBA cutout, atomically.

        Args:
            outdir: Output folder (created if needed).
            stem: File name stem; default the input image's stem.
            refine: Compute the alpha at full resolution (slow on big images);
                False saves the current preview instead.

        Returns:
            ``{"trimap": path, "alpha": path, "cutout": path}``.

        Raises:
            InputError: An output would overwrite an input file.
            TrimapError: The trimap cannot be matted (no foreground or background).
        """
        from trimatte.foreground.estimation import estimate_foreground
        from trimatte.io import write_alpha, write_rgba, write_trimap

        self.end_stroke()
        paths = self.output_paths(outdir, stem)
        protected = {p.resolve() for p in self.protected_paths}
        for path in paths.values():
            if path.resolve() in protected:
                raise InputError(
                    "would overwrite an input file; choose another output folder or name",
                    path,
                )
        if refine:
            alpha = self.preview_alpha(max_side=None)
        elif self.alpha_is_current:
            alpha = self._alpha
        else:
            alpha = self.preview_alpha()
        version = self.version
        foreground = estimate_foreground(self.image, alpha)
        write_trimap(paths["trimap"], self._trimap)
        write_alpha(paths["alpha"], alpha)
        write_rgba(paths["cutout"], foreground, alpha)
        self.saved_version = version
        self.message = f"saved {len(paths)} files to {Path(outdir)}"
        return paths


__all__ = [
    "BRUSH_LABELS",
    "DEFAULT_PREVIEW_SIDE",
    "RENDER_MODES",
    "EditorState",
    "automatic_trimap",
    "check_label",
    "check_rect",
    "downscale_trimap",
    "grabcut_with_strokes",
    "preview_alpha_of",
    "render_frame",
    "stroke_mask",
]
