"""Interactive trimap editor.

:mod:`trimatte.editor.state` holds the editor's state and actions and has no
GUI code (it is what the tests and scripted users drive);
:mod:`trimatte.editor.gui` is the thin OpenCV highgui window on top of it.
The GUI module is imported only when a window is wanted.

Example:
    >>> from trimatte.editor import EditorState
    >>> state = EditorState(image, trimap)  # doctest: +SKIP
    >>> state.paint([(10, 10), (60, 12)], "background")  # doctest: +SKIP
    >>> state.grow_band(2); state.undo()  # doctest: +SKIP
    >>> state.save("out", "cat")  # doctest: +SKIP
"""

from trimatte.editor.state import BRUSH_LABELS, RENDER_MODES, EditorState

__all__ = ["BRUSH_LABELS", "RENDER_MODES", "EditorState"]
