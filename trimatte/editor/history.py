"""Undo/redo history of the trimap editor, with a compact codec for each step.

A step records only the bounding box of the pixels an action changed in the
editor's *layers* (the trimap and the stroke layer: equally sized uint8
``(H, W)`` arrays), before and after, zlib-compressed, plus the band radius
before and after. :class:`History` keeps the undo and redo stacks and drops the
oldest steps once they exceed a memory or step budget. Undo and redo restore the
layers bit for bit.

No GUI code: the editor window, scripts and the web page share this history.

Example:
    >>> history = History()
    >>> before = (trimap.copy(), strokes.copy())  # doctest: +SKIP
    >>> ...  # change trimap / strokes in place  # doctest: +SKIP
    >>> history.push(make_step("paint", before, (trimap, strokes), band, band))  # doctest: +SKIP
    >>> step = history.undo()  # doctest: +SKIP
    >>> band = apply_step((trimap, strokes), step, undo=True)  # doctest: +SKIP
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trimatte.errors import InputError

#: Box ``(y0, y1, x0, x1)`` of a step that changed no pixel (only the band).
EMPTY_BOX = (0, 0, 0, 0)
DEFAULT_HISTORY_BYTES = 32 * 2**20
DEFAULT_HISTORY_STEPS = 200


@dataclass(frozen=True)
class Step:
    """One undoable change.

    Attributes:
        name: What the action was (``"paint"``, ``"grow band"``, ...), for messages.
        box: ``(y0, y1, x0, x1)`` of the changed pixels; :data:`EMPTY_BOX` if none.
        before: zlib of the layers' patch before, uint8 ``(y1-y0, x1-x0, n_layers)``.
        after: The same after the change.
        band_before: Band radius before, pixels.
        band_after: Band radius after, pixels.
    """

    name: str
    box: tuple[int, int, int, int]
    before: bytes
    after: bytes
    band_before: int
    band_after: int

    @property
    def nbytes(self) -> int:
        """Approximate memory held by this step."""
        return len(self.before) + len(self.after) + 128

    @property
    def changes_pixels(self) -> bool:
        """True if the step changes any pixel (not only the band)."""
        return self.box[1] > self.box[0]


def pack(layers: Sequence[np.ndarray], box: tuple[int, int, int, int]) -> bytes:
    """Compress the ``box`` = ``(y0, y1, x0, x1)`` patch of uint8 ``(H, W)`` layers."""
    y0, y1, x0, x1 = box
    patch = np.stack([layer[y0:y1, x0:x1] for layer in layers], axis=2)
    return zlib.compress(np.ascontiguousarray(patch, dtype=np.uint8).tobytes(), 1)


def unpack(data: bytes, box: tuple[int, int, int, int], n_layers: int) -> np.ndarray:
    """Inverse of :func:`pack`: uint8 ``(y1-y0, x1-x0, n_layers)``."""
    y0, y1, x0, x1 = box
    return np.frombuffer(zlib.decompress(data), np.uint8).reshape(y1 - y0, x1 - x0, n_layers)


def union_box(a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int]
              ) -> tuple[int, int, int, int]:
    """Smallest ``(y0, y1, x0, x1)`` box holding box ``b`` and box ``a`` (None: no box)."""
    if a is None:
        return b
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def changed_box(
    before: Sequence[np.ndarray],
    after: Sequence[np.ndarray],
    region: tuple[int, int, int, int] | None = None,
) -> tuple[int, int, int, int] | None:
    """Bounding box ``(y0, y1, x0, x1)`` of the pixels that differ in any layer, or None.

    Args:
        before: Layers before, each ``(H, W)``.
        after: The same layers after, same shapes.
        region: ``(y0, y1, x0, x1)`` known to hold every change (e.g. the boxes a
            drag painted), so only it is compared; default the whole image.
    """
    if len(before) != len(after) or not before:
        raise InputError(f"expected as many layers before as after, got {len(before)} and "
                         f"{len(after)}", "layers")
    height, width = before[0].shape[:2]
    y0, y1, x0, x1 = region if region is not None else (0, height, 0, width)
    if y1 <= y0 or x1 <= x0:
        return None
    changed = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for old, new in zip(before, after, strict=True):
        changed |= old[y0:y1, x0:x1] != new[y0:y1, x0:x1]
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(changed.any(axis=0))
    return y0 + int(rows[0]), y0 + int(rows[-1]) + 1, x0 + int(cols[0]), x0 + int(cols[-1]) + 1


def make_step(
    name: str,
    before: Sequence[np.ndarray],
    after: Sequence[np.ndarray],
    band_before: int,
    band_after: int,
    region: tuple[int, int, int, int] | None = None,
) -> Step | None:
    """The undo step turning layers ``before`` into ``after``, or None if nothing changed.

    Args:
        name: Name of the action.
        before: uint8 ``(H, W)`` layers before the action (e.g. ``(trimap, strokes)``).
        after: The same layers after it.
        band_before: Band radius before, pixels.
        band_after: Band radius after, pixels.
        region: Box holding every change, if known (see :func:`changed_box`).
    """
    box = changed_box(before, after, region)
    if box is None:
        if band_before == band_after:
            return None
        return Step(name, EMPTY_BOX, b"", b"", band_before, band_after)
    return Step(name, box, pack(before, box), pack(after, box), band_before, band_after)


def apply_step(layers: Sequence[np.ndarray], step: Step, *, undo: bool) -> int:
    """Write the before (``undo=True``) or after state of ``step`` into ``layers``, in place.

    Args:
        layers: uint8 ``(H, W)`` arrays in the order the step was made with.
        step: A step made by :func:`make_step` on layers of this size.
        undo: True to restore the state before the step, False to redo it.

    Returns:
        The band radius of that state.
    """
    if step.changes_pixels:
        y0, y1, x0, x1 = step.box
        patch = unpack(step.before if undo else step.after, step.box, len(layers))
        for i, layer in enumerate(layers):
            layer[y0:y1, x0:x1] = patch[:, :, i]
    return step.band_before if undo else step.band_after


class History:
    """Undo and redo stacks of :class:`Step`, bounded in memory and length.

    Args:
        max_bytes: Memory budget of undo + redo steps together (the newest undo
            step is always kept).
        max_steps: Most undo steps kept.

    Raises:
        InputError: A budget that is not positive.
    """

    def __init__(self, max_bytes: int = DEFAULT_HISTORY_BYTES,
                 max_steps: int = DEFAULT_HISTORY_STEPS) -> None:
        if max_bytes <= 0 or max_steps <= 0:
            raise InputError("history budget must be positive", "history_bytes/history_steps")
        self.max_bytes = int(max_bytes)
        self.max_steps = int(max_steps)
        self._undo: deque[Step] = deque()
        self._redo: deque[Step] = deque()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def nbytes(self) -> int:
        """Bytes held by the undo and redo steps."""
        return sum(s.nbytes for s in self._undo) + sum(s.nbytes for s in self._redo)

    def push(self, step: Step) -> None:
        """Record a new step: the redo stack is dropped and the budgets enforced."""
        self._undo.append(step)
        self._redo.clear()
        while len(self._undo) > self.max_steps:
            self._undo.popleft()
        while len(self._undo) > 1 and self.nbytes > self.max_bytes:
            self._undo.popleft()

    def undo(self) -> Step | None:
        """The step to undo (moved to the redo stack), or None if there is none."""
        if not self._undo:
            return None
        step = self._undo.pop()
        self._redo.append(step)
        return step

    def redo(self) -> Step | None:
        """The step to redo (moved back to the undo stack), or None if there is none."""
        if not self._redo:
            return None
        step = self._redo.pop()
        self._undo.append(step)
        return step

    def clear(self) -> None:
        """Forget every step."""
        self._undo.clear()
        self._redo.clear()


__all__ = [
    "DEFAULT_HISTORY_BYTES",
    "DEFAULT_HISTORY_STEPS",
    "EMPTY_BOX",
    "History",
    "Step",
    "apply_step",
    "changed_box",
    "make_step",
    "pack",
    "union_box",
    "unpack",
]
