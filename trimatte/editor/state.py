"""The trimap editor's state object: the arrays being edited and every user action.

:class:`EditorState` holds the image, the trimap being edited, the brush, the
user's strokes (a *stroke layer* remembering what each painted pixel was painted
with), the undo/redo :class:`~trimatte.editor.history.History` and the matting
:class:`~trimatte.pipeline.Pipeline`. Each action is one method call: the array
work is done by :mod:`trimatte.editor.operations`, the matting by the pipelines
of :mod:`trimatte.editor.pipelines`. No GUI code: :mod:`trimatte.editor.gui`
turns mouse and key events into these calls; a script or a web page makes the
same calls. Conventions as in :mod:`trimatte.image`; points are ``(x, y)``
image pixels, rectangles ``(x, y, w, h)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from trimatte.editor import operations as ops
from trimatte.editor.history import (
    DEFAULT_HISTORY_BYTES,
    DEFAULT_HISTORY_STEPS,
    EMPTY_BOX,
    History,
    apply_step,
    make_step,
    union_box,
)
from trimatte.editor.outputs import check_not_inputs, output_paths, write_outputs
from trimatte.editor.pipelines import (
    DEFAULT_PREVIEW_SIDE,
    EDITOR_MATTING,
    editor_pipeline,
    grabcut_with_strokes,
    preview_alpha_of,
    run_matte,
    run_outputs,
)
from trimatte.editor.render import render_frame
from trimatte.errors import InputError
from trimatte.image import FOREGROUND, UNKNOWN, as_image, as_trimap, check_same_size
from trimatte.pipeline import MatteState

_Open = tuple[str, np.ndarray, np.ndarray, int]  # action, trimap, strokes, band before


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
        matting: Registered name of the alpha stage of the editor's pipeline
            (default ``"closed-form"``).
        matting_params: Parameters of that stage.

    Attributes:
        history: The undo/redo :class:`~trimatte.editor.history.History`.
        pipeline: The :class:`~trimatte.pipeline.Pipeline` the trimap is matted
            with (:func:`~trimatte.editor.pipelines.editor_pipeline`).
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
        history_bytes: int = DEFAULT_HISTORY_BYTES,
        history_steps: int = DEFAULT_HISTORY_STEPS,
        matting: str = EDITOR_MATTING,
        matting_params: dict[str, Any] | None = None,
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
        self.brush_radius = ops.MIN_BRUSH_RADIUS
        self.set_brush_radius(
            brush_radius if brush_radius is not None
            else max(2, round(0.015 * max(height, width)))
        )
        self.band = int(band) if band is not None else band_width_for(self.image.shape, 0.01)
        if self.band < 0:
            raise InputError(f"must be >= 0 pixels, got {band}", "band")
        self.history = History(history_bytes, history_steps)
        self.pipeline = editor_pipeline(matting, matting_params)
        self._open: _Open | None = None
        self._touched: tuple[int, int, int, int] | None = None  # box the open drag painted
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
        return ops.stroke_labels(self._strokes)

    @property
    def painted(self) -> np.ndarray:
        """bool ``(H, W)``: True where the user has painted a stroke."""
        return self._strokes != ops.NO_STROKE

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    @property
    def history_nbytes(self) -> int:
        """Bytes held by the undo and redo history."""
        return self.history.nbytes

    @property
    def modified(self) -> bool:
        """True if the trimap changed since the last :meth:`save` (or since the start)."""
        return self.version != self.saved_version

    # ------------------------------------------------------------------ transactions

    def _begin(self, name: str) -> _Open:
        return (name, self._trimap.copy(), self._strokes.copy(), self.band)

    def _commit(self, before: _Open, region: tuple[int, int, int, int] | None = None) -> bool:
        name, trimap_before, strokes_before, band_before = before
        step = make_step(name, (trimap_before, strokes_before), (self._trimap, self._strokes),
                         band_before, self.band, region)
        if step is None:
            return False
        self.history.push(step)
        if step.changes_pixels:
            self.version += 1
        return True

    # ------------------------------------------------------------------ brush

    def set_brush_radius(self, radius: float) -> int:
        """Set the brush radius (clamped to [1, 300] pixels) and return it.

        Raises:
            InputError: Not a finite number.
        """
        self.brush_radius = ops.clamp_radius(radius, "brush_radius")
        return self.brush_radius

    def set_brush_label(self, label: int | str) -> int:
        """Choose what the brush paints: 0/128/255 or ``"background"``/``"unknown"``/…"""
        self.brush_label = ops.check_label(label, "brush")
        return self.brush_label

    def begin_stroke(self) -> None:
        """Start a drag: the :meth:`paint` calls until :meth:`end_stroke` are one undo step."""
        if self._open is None:
            self._open, self._touched = self._begin("paint"), None

    def end_stroke(self) -> bool:
        """Finish a drag started with :meth:`begin_stroke`; True if anything changed."""
        if self._open is None:
            return False
        before, self._open = self._open, None
        return self._commit(before, self._touched or EMPTY_BOX)

    def paint(
        self,
        points: Sequence[Sequence[float]] | np.ndarray,
        label: int | str | None = None,
        radius: float | None = None,
    ) -> bool:
        """Paint a polyline of ``(x, y)`` points with a round brush; True if any pixel changed.

        As :func:`~trimatte.editor.operations.apply_stroke` (``points`` ``(N, 2)``,
        may lie outside the image), with ``label`` and ``radius`` defaulting to
        :attr:`brush_label` and :attr:`brush_radius`. Outside a :meth:`begin_stroke`
        / :meth:`end_stroke` pair every call is its own undo step.

        Raises:
            InputError: Malformed points, label or radius.
        """
        value = self.brush_label if label is None else ops.check_label(label)
        size = self.brush_radius if radius is None else ops.check_radius(radius)
        window = ops.stroke_window(self.shape, ops.check_points(points), size)
        before = None if self._open is not None else self._begin("paint")
        if window is not None:
            ops.paint_window(self._trimap, self._strokes, window, value)
        if before is None:
            changed = window is not None and bool(window[1].any())
            if changed:
                self._touched = union_box(self._touched, window[0])
                self.version += 1  # keep previews in step while a drag is open
            return changed
        return self._commit(before, window[0] if window is not None else EMPTY_BOX)

    def clear_strokes(self) -> bool:
        """Forget every stroke (the trimap stays as it is); undoable."""
        self.end_stroke()
        before = self._begin("clear strokes")
        self._strokes[:] = ops.NO_STROKE
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
        """Start over from ``trimap`` (e.g. an automatic trimap that arrived late).

        Strokes and history are cleared, and nothing is unsaved.

        Raises:
            TrimapError: Malformed trimap or wrong size.
        """
        new = as_trimap(trimap, "trimap")
        check_same_size(self.image.shape, new.shape, "trimap")
        self._open = None
        self._trimap[:] = new
        self._strokes[:] = ops.NO_STROKE
        self.history.clear()
        self.version += 1
        self.saved_version = self.version
        self.message = message

    def grow_band(self, pixels: int = 1) -> bool:
        """Widen the unknown band by ``pixels`` (erodes foreground and background).

        Raises:
            InputError: ``pixels`` is not a positive whole number.
        """
        return self._adjust_band(ops.check_band_step(pixels), "grow band")

    def shrink_band(self, pixels: int = 1) -> bool:
        """Narrow the unknown band by ``pixels`` (unknown pixels go to the nearest side).

        Raises:
            InputError: ``pixels`` is not a positive whole number.
        """
        return self._adjust_band(-ops.check_band_step(pixels), "shrink band")

    def _adjust_band(self, pixels: int, name: str) -> bool:
        from trimatte.trimap.morphology import adjust_band

        self.end_stroke()
        before = self._begin(name)
        self._trimap[:] = adjust_band(self._trimap, pixels)
        self.band = max(0, self.band + pixels)
        changed = self._commit(before)
        self.message = f"{name} by {abs(pixels)} px (band {self.band} px)"
        return changed

    def prepare_grabcut(self, rect: Sequence[float] | None = None, iterations: int = 5
                        ) -> Callable[[], np.ndarray]:
        """A zero-argument function computing GrabCut's new trimap on copies of the inputs.

        For a background thread; hand its result to :meth:`set_trimap`. See
        :func:`~trimatte.editor.pipelines.grabcut_with_strokes`.
        """
        checked = None if rect is None else ops.check_rect(rect, self.shape)
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
        return self._step_history(undo=True)

    def redo(self) -> bool:
        """Redo the last undone change; False if there is nothing to redo."""
        return self._step_history(undo=False)

    def _step_history(self, *, undo: bool) -> bool:
        self.end_stroke()
        word = "undo" if undo else "redo"
        step = self.history.undo() if undo else self.history.redo()
        if step is None:
            self.message = f"nothing to {word}"
            return False
        self.band = apply_step((self._trimap, self._strokes), step, undo=undo)
        if step.changes_pixels:
            self.version += 1
        self.message = f"{word} {step.name}"
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
                                     max_side, pipeline=self.pipeline)

    def set_alpha(self, alpha: np.ndarray, version: int, full_res: bool = False) -> None:
        """Store an alpha computed for trimap ``version`` (kept even if now stale)."""
        self._alpha = alpha
        self._alpha_version = version
        self._alpha_full_res = full_res

    def preview_alpha(self, max_side: int | None = DEFAULT_PREVIEW_SIDE) -> np.ndarray:
        """The pipeline's float32 ``(H, W)`` alpha on a downscaled copy, cached per trimap.

        See :func:`~trimatte.editor.pipelines.preview_alpha_of`; ``max_side=None``
        computes at full resolution.

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

    def matte(self, refine: bool = True) -> MatteState:
        """Run the editor's pipeline on the current trimap.

        Args:
            refine: Full-resolution alpha (one already refined for this trimap is
                reused); False uses the current preview (computed if needed).

        Returns:
            The final :class:`~trimatte.pipeline.MatteState` (see
            :func:`~trimatte.editor.pipelines.run_matte`).

        Raises:
            TrimapError: The trimap cannot be matted (no foreground or background).
        """
        self.end_stroke()
        version, trimap = self.version, self._trimap.copy()
        if refine and not (self.alpha_is_current and self._alpha_full_res):
            result = run_matte(self.pipeline, self.image, trimap)
            self.set_alpha(result.alpha, version, full_res=True)
            return result
        alpha = self._alpha if self.alpha_is_current else self.preview_alpha()
        return run_outputs(self.pipeline, self.image, trimap, alpha)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ output

    def render(self, mode: str = "trimap", *, colour: Sequence[float] = (1.0, 1.0, 1.0),
               ) -> np.ndarray:
        """The image with an overlay, as a uint8 BGR ``(H, W, 3)`` frame.

        Modes are :data:`~trimatte.editor.render.RENDER_MODES`; alpha-based modes
        use :meth:`display_alpha` (no computation happens here). See
        :func:`~trimatte.editor.render.render_frame`.
        """
        return render_frame(self.image, self._trimap, self.display_alpha(), mode, colour=colour)

    def output_paths(self, outdir: str | Path, stem: str | None = None) -> dict[str, Path]:
        """Where :meth:`save` writes: ``OUTDIR/<stem>_trimap.png``, ``_alpha.png``, ``_cutout.png``.

        ``stem`` defaults to the input image's stem (``"edited"`` without one).
        """
        if stem is None:
            stem = self.image_path.stem if self.image_path is not None else "edited"
        return output_paths(outdir, stem)

    def save(self, outdir: str | Path, stem: str | None = None, *, refine: bool = True
             ) -> dict[str, Path]:
        """Run the pipeline (:meth:`matte`) and write its trimap, alpha and RGBA cutout.

        Each file is written atomically, and only after the pipeline has finished.

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
        self.end_stroke()
        paths = self.output_paths(outdir, stem)
        check_not_inputs(paths.values(), self.protected_paths)
        version = self.version
        write_outputs(paths, self.matte(refine))
        self.saved_version = version
        self.message = f"saved {len(paths)} files to {Path(outdir)}"
        return paths


__all__ = ["EditorState"]
