"""One image of a ``trimatte matte`` batch: read, run the pipeline, write the outputs.

:func:`run_job` is module level and picklable, so it runs the same inline or in a
worker process of :func:`trimatte.batch.map_in_order` (and on the server's workers).
It writes only what the pipeline's :class:`~trimatte.pipeline.MatteState` holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trimatte.errors import InputError
from trimatte.io import (
    read_image,
    read_trimap,
    write_alpha,
    write_image,
    write_rgba,
    write_trimap,
)
from trimatte.pipeline import MatteState, Pipeline
from trimatte.trimap.confidence import Confidence

__all__ = ["MatteDone", "MatteJob", "run_job", "thumbnail_row", "write_output"]


@dataclass(frozen=True)
class MatteJob:
    """One image of the batch: where to read it (and its trimap) and what to write."""

    image: Path
    trimap: Path | None
    outputs: tuple[tuple[str, Path], ...]
    thumbnail: bool = False
    plate: Path | None = None  # --background-plate for this image


@dataclass
class MatteDone:
    """What a finished job hands back: stage timings, a contact-sheet row, the confidence."""

    timings: dict[str, float]
    row: dict[str, Any] | None
    confidence: Confidence | None = None


def run_job(pipeline: Pipeline, hints: dict[str, Any], job: MatteJob) -> MatteDone:
    """Read one image (and trimap), run ``pipeline``, write the requested outputs.

    Module level and picklable, so it runs the same in a worker process or inline.

    Raises:
        InputError: A bad input or a write that failed, naming the file.
    """
    # One list holds the only reference to the decoded image and hands it over, so that
    # the pipeline's own float32 copy is the only full-size image left while it runs
    # (24 MP: -288 MB). ``pipeline.__call__`` explicitly: calling the instance keeps
    # the arguments referenced by the caller until it returns.
    image = [read_image(job.image)]
    trimap = read_trimap(job.trimap) if job.trimap is not None else None
    if job.plate is not None:
        hints = {**hints, "plate": str(job.plate), "source": str(job.image)}
    try:
        state = pipeline.__call__(image.pop(), trimap, **hints)
    except InputError as exc:
        if job.trimap is not None and exc.source == "trimap":  # name the trimap's file
            raise type(exc)(exc.reason, job.trimap) from None
        raise
    if state.alpha is None:
        raise InputError("the pipeline produced no alpha", job.image)
    for what, path in job.outputs:
        try:
            write_output(what, path, state)
        except OSError as exc:
            raise InputError(f"cannot write ({exc.strerror or exc})", path) from None
    label = job.image.name
    if state.confidence is not None:
        label = f"{label}: {state.confidence.describe()}"
    row = thumbnail_row(state, label) if job.thumbnail else None
    return MatteDone(timings=dict(state.timings), row=row, confidence=state.confidence)


def write_output(what: str, path: Path, state: MatteState) -> None:
    """Write one output kind of ``state`` to ``path`` (atomically)."""
    if what == "alpha":
        write_alpha(path, state.alpha)
        return
    sources = {"trimap": state.trimap, "foreground": state.foreground,
               "cutout": state.foreground, "composite": state.composite}
    if sources[what] is None:
        raise InputError(f"the pipeline made no {what} to save", path)
    if what == "trimap":
        write_trimap(path, state.trimap)
    elif what == "foreground":
        write_image(path, state.foreground)
    elif what == "cutout":
        write_rgba(path, state.foreground, state.alpha)
    elif state.composite.shape[-1] == 4:  # a config's cutout stage: RGBA
        write_rgba(path, state.composite[..., :3], state.composite[..., 3])
    else:
        write_image(path, state.composite)


def thumbnail_row(state: MatteState, label: str, height: int = 200) -> dict[str, Any]:
    """Downscaled panels of one result for the contact sheet (keeps memory small)."""
    import cv2
    import numpy as np

    h, w = state.image.shape[:2]
    scale = min(1.0, height / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))

    def shrink(array, nearest=False):
        if array is None:
            return None
        mode = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
        return np.clip(cv2.resize(array, size, interpolation=mode), 0, 255 if nearest else 1)

    return {
        "image": shrink(state.image),
        "trimap": shrink(state.trimap, nearest=True),
        "alpha": shrink(state.alpha),
        "foreground": shrink(state.foreground),
        "label": label,
    }
