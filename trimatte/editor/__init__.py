"""Interactive trimap editor.

The editor's logic has no GUI code and imports no GUI toolkit, so scripts and
the web page of ``trimatte serve`` use it as the editor window does:

* :mod:`~trimatte.editor.operations`: pure functions on arrays (brush strokes,
  the stroke layer, checks, conservative downscaling);
* :mod:`~trimatte.editor.history`: the undo/redo history and its compact codec;
* :mod:`~trimatte.editor.pipelines`: the :class:`~trimatte.pipeline.Pipeline`
  the edited trimap is matted with, the live preview, GrabCut, the start trimap;
* :mod:`~trimatte.editor.render` and :mod:`~trimatte.editor.outputs`: the
  overlay frames, and the files a save writes;
* :mod:`~trimatte.editor.state`: :class:`EditorState`, which ties them together.

:mod:`trimatte.editor.gui` (the OpenCV window) and :mod:`trimatte.editor.canvas`
(its drawing) are imported only when a window is wanted.

Example:
    >>> from trimatte.editor import EditorState
    >>> state = EditorState(image, trimap)  # doctest: +SKIP
    >>> state.paint([(10, 10), (60, 12)], "background")  # doctest: +SKIP
    >>> state.grow_band(2); state.undo()  # doctest: +SKIP
    >>> state.save("out", "cat")  # doctest: +SKIP
"""

from trimatte.editor.history import History, Step, apply_step, make_step
from trimatte.editor.operations import BRUSH_LABELS, apply_stroke, stroke_mask
from trimatte.editor.pipelines import (
    DEFAULT_PREVIEW_SIDE,
    automatic_trimap,
    editor_pipeline,
    grabcut_with_strokes,
    preview_alpha_of,
    run_matte,
)
from trimatte.editor.render import RENDER_MODES, render_frame
from trimatte.editor.state import EditorState

__all__ = [
    "BRUSH_LABELS",
    "DEFAULT_PREVIEW_SIDE",
    "RENDER_MODES",
    "EditorState",
    "History",
    "Step",
    "apply_step",
    "apply_stroke",
    "automatic_trimap",
    "editor_pipeline",
    "grabcut_with_strokes",
    "make_step",
    "preview_alpha_of",
    "render_frame",
    "run_matte",
    "stroke_mask",
]
