"""The pipelines the editor runs: its matting pipeline, the live preview, GrabCut, the start.

The editor does not call matting, foreground estimation or trimap sources
itself: it builds :class:`trimatte.pipeline.Pipeline` objects with
:func:`trimatte.api.build_pipeline` and runs them on the trimap being edited.

* :func:`editor_pipeline`: given trimap -> alpha stage (by name, default
  closed-form) -> multi-level foreground -> RGBA cutout. Saving writes its result.
* :func:`preview_alpha_of`: the same alpha stage(s) on a downscaled copy.
* :func:`grabcut_with_strokes`: the ``grabcut`` trimap source seeded by the
  trimap and the user's strokes.
* :func:`automatic_trimap`: the trimap source of ``trimatte matte``'s default
  pipeline, with GrabCut as the fall-back.

No GUI code: a web page re-runs the matte of an edited trimap with these too.
"""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from trimatte.editor.operations import (
    downscale_trimap,
    paint_back,
    preview_size,
    scribbles,
    upsample_alpha,
)
from trimatte.errors import InputError, ModelUnavailableError, TrimapError
from trimatte.image import FOREGROUND, UNKNOWN, as_trimap
from trimatte.pipeline import MatteState, Pipeline

LOGGER = logging.getLogger(__name__)

#: Alpha stage the editor uses unless told otherwise (fast enough for a live preview).
EDITOR_MATTING = "closed-form"
#: Longest side of the image the live alpha preview is computed on.
DEFAULT_PREVIEW_SIDE = 320

_TRIMAP_ROLES = ("trimap", "trimap_refine")
_ALPHA_ROLES = ("alpha", "alpha_refine")
_OUTPUT_ROLES = ("foreground", "composite")


def editor_pipeline(matting: str = EDITOR_MATTING,
                    matting_params: dict[str, Any] | None = None) -> Pipeline:
    """The pipeline the editor mattes its trimap with.

    Given trimap -> ``matting`` (a registered alpha stage: ``"closed-form"``,
    ``"dim"``, ...) -> ``multilevel-foreground`` -> ``cutout`` (RGBA).

    Raises:
        InputError: Unknown stage name or bad parameters (as
            :func:`trimatte.api.build_pipeline`).
    """
    from trimatte.api import build_pipeline

    pipeline = build_pipeline(trimap_method=None, matting=matting, matting_params=matting_params,
                              foreground="multilevel-foreground", composite="cutout")
    pipeline.stage("alpha")  # a name of another role would leave the editor without alpha
    return pipeline


def roles_of(pipeline: Pipeline, roles: tuple[str, ...]) -> Pipeline:
    """A pipeline of the stages of ``pipeline`` whose role is in ``roles``, in order."""
    return Pipeline([stage for stage in pipeline.stages if stage.role in roles])


def trimap_alpha(trimap: np.ndarray) -> np.ndarray:
    """The matte of a trimap without unknown pixels: float32 ``(H, W)``, 1 on foreground."""
    return (trimap == FOREGROUND).astype(np.float32)


def preview_alpha_of(
    image: np.ndarray,
    trimap: np.ndarray,
    max_side: int | None = DEFAULT_PREVIEW_SIDE,
    *,
    pipeline: Pipeline | None = None,
) -> np.ndarray:
    """The pipeline's alpha computed on a downscaled copy, upsampled and clamped by the trimap.

    The image is shrunk so that its long side is at most ``max_side`` (area
    interpolation), the trimap conservatively (:func:`downscale_trimap`); the
    alpha stages of ``pipeline`` run on them, the small matte is upsampled
    bilinearly, and every pixel the full-resolution trimap marks as foreground or
    background is set to exactly 1 or 0 (:func:`upsample_alpha`). With
    ``max_side=None`` (or an image already small enough) the alpha stages run at
    full resolution; so they do when the shrunk trimap loses all its foreground
    or background (a thin subject).

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` trimap.
        max_side: Long side of the working copy in pixels (>= 8), or None.
        pipeline: Pipeline whose ``alpha`` and ``alpha_refine`` stages are run;
            default :func:`editor_pipeline`.

    Returns:
        float32 ``(H, W)`` alpha in [0, 1].

    Raises:
        TrimapError: The trimap has no foreground or no background pixels.
    """
    from trimatte.trimap.validate import validate_trimap

    if not (trimap == UNKNOWN).any():
        return trimap_alpha(trimap)
    validate_trimap(trimap, name="trimap", image_shape=image.shape)
    alpha_only = roles_of(pipeline if pipeline is not None else editor_pipeline(), _ALPHA_ROLES)
    size = preview_size(trimap.shape, max_side)
    if size is not None:
        small_image = np.clip(cv2.resize(image, size, interpolation=cv2.INTER_AREA), 0.0, 1.0)
        small_trimap = downscale_trimap(trimap, size)
        try:
            return upsample_alpha(alpha_only(small_image, small_trimap).alpha, trimap)
        except TrimapError as exc:
            LOGGER.info("preview at %s lost a trimap label (%s); using full resolution",
                        size, exc)
    return upsample_alpha(alpha_only(image, trimap).alpha, trimap)


def warm_up(pipeline: Pipeline) -> None:
    """Run the alpha stages of ``pipeline`` once on a tiny image.

    Imports what they need and loads their weights (deep stages cache them), so
    the first real preview is quick, and a GUI can do this in its main thread.

    Raises:
        TrimatteError: As the stages raise it (e.g. weights that are unavailable).
    """
    image = np.zeros((16, 16, 3), np.float32)
    image[4:12, 4:12] = 1.0
    trimap = np.zeros((16, 16), np.uint8)
    trimap[3:13, 3:13] = UNKNOWN
    trimap[6:10, 6:10] = FOREGROUND
    preview_alpha_of(image, trimap, None, pipeline=pipeline)


def run_outputs(pipeline: Pipeline, image: np.ndarray, trimap: np.ndarray,
                alpha: np.ndarray) -> MatteState:
    """Run the foreground and composite stages of ``pipeline`` on an alpha already known.

    For saving a preview or an alpha already refined, without computing it again.

    Args:
        pipeline: The editor's pipeline.
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` trimap the alpha belongs to.
        alpha: float32 ``(H, W)`` alpha in [0, 1].

    Returns:
        The final state: ``.alpha``, ``.foreground``, ``.composite`` (and timings).
    """
    import time

    state = MatteState(image=image, trimap=trimap, alpha=alpha)
    for stage in roles_of(pipeline, _OUTPUT_ROLES).stages:
        start = time.perf_counter()
        state = stage(state)
        state.timings[stage.label] = time.perf_counter() - start
    return state


def run_matte(pipeline: Pipeline, image: np.ndarray, trimap: np.ndarray) -> MatteState:
    """Run the whole editor pipeline on ``trimap``.

    A trimap without unknown pixels is its own matte (the alpha stage is
    skipped, as closed-form would return it anyway).

    Returns:
        The final state: ``.trimap``, ``.alpha`` (float32 ``(H, W)``),
        ``.foreground`` (float32 ``(H, W, 3)``), ``.composite`` (RGBA float32
        ``(H, W, 4)``) and ``.timings``.

    Raises:
        TrimapError: The trimap cannot be matted (no foreground or no background).
    """
    if not (trimap == UNKNOWN).any():
        return run_outputs(pipeline, image, trimap, trimap_alpha(trimap))
    return pipeline(image, trimap)


def _grabcut_pipeline(band: int, iterations: int) -> Pipeline:
    from trimatte.api import build_pipeline

    pipeline = build_pipeline(trimap_method="grabcut", trimap_params={
        "band_radius": band, "iterations": iterations}, foreground=None, composite=None)
    return roles_of(pipeline, ("trimap",))


def grabcut_with_strokes(
    image: np.ndarray,
    trimap: np.ndarray,
    strokes: np.ndarray,
    band: int,
    *,
    rect: tuple[int, int, int, int] | None = None,
    iterations: int = 5,
) -> np.ndarray:
    """A new trimap from the ``grabcut`` trimap source, seeded by the trimap and the strokes.

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
    from trimatte.trimap.morphology import rebuild_band

    fg_scribbles, bg_scribbles = scribbles(strokes)
    hints: dict[str, Any] = {"fg_scribbles": fg_scribbles, "bg_scribbles": bg_scribbles}
    if rect is not None:
        hints["rect"] = rect
    else:
        probable = rebuild_band(trimap, 0) == FOREGROUND
        if not (probable.any() or fg_scribbles.any()):
            raise TrimapError(
                "nothing is marked as foreground: paint some foreground on the subject "
                "or draw a GrabCut rectangle first",
                "trimap",
            )
        hints["mask"] = probable
    result = _grabcut_pipeline(band, iterations)(image, **hints)
    return paint_back(as_trimap(result.trimap), strokes)


def automatic_trimap(image: np.ndarray, band: int) -> tuple[np.ndarray, str]:
    """The automatic trimap of ``trimatte matte``: its default pipeline's trimap stages.

    If that source is not available (not installed, or its weights are missing)
    the ``grabcut`` source with its default rectangle is used instead, and the
    returned message says so.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        band: Band radius in pixels of the GrabCut fall-back.

    Returns:
        ``(trimap, message)``: uint8 ``(H, W)`` trimap and a one-line description
        for the status bar.
    """
    from trimatte.api import default_pipeline

    name = "default"
    try:
        source = roles_of(default_pipeline(), _TRIMAP_ROLES)
        name = source.stage("trimap").registry_name or name
        result = source(image)
        if result.trimap is None:
            raise InputError("produced no trimap", name)
        return as_trimap(result.trimap), f"automatic trimap ({name})"
    except (ImportError, InputError, ModelUnavailableError) as exc:
        reason = str(exc).splitlines()[0][:80]
        trimap = _grabcut_pipeline(band, 5)(image).trimap
        return (as_trimap(trimap),
                f"'{name}' trimap unavailable ({reason}); used GrabCut on a default rect")


__all__ = [
    "DEFAULT_PREVIEW_SIDE",
    "EDITOR_MATTING",
    "automatic_trimap",
    "editor_pipeline",
    "grabcut_with_strokes",
    "preview_alpha_of",
    "roles_of",
    "run_matte",
    "run_outputs",
    "trimap_alpha",
    "warm_up",
]
