"""The editor's output files: their names, the never-overwrite-an-input check, the writing.

Writing only stores what the pipeline produced (a
:class:`~trimatte.pipeline.MatteState`) with the atomic writers of
:mod:`trimatte.io`; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from trimatte.errors import InputError
from trimatte.pipeline import MatteState

#: The files the editor saves, in the order they are written.
OUTPUT_KINDS: tuple[str, ...] = ("trimap", "alpha", "cutout")


def output_paths(outdir: str | Path, stem: str) -> dict[str, Path]:
    """``{"trimap": OUTDIR/<stem>_trimap.png, "alpha": ..._alpha.png, "cutout": ..._cutout.png}``.

    Raises:
        InputError: ``stem`` is empty or holds a path separator.
    """
    if not stem or "/" in stem or "\\" in stem:
        raise InputError(f"must be a plain file name, got {stem!r}", "stem")
    outdir = Path(outdir)
    return {kind: outdir / f"{stem}_{kind}.png" for kind in OUTPUT_KINDS}


def check_not_inputs(paths: Iterable[Path], protected: Iterable[Path]) -> None:
    """Refuse output ``paths`` that resolve to one of the ``protected`` input files.

    Raises:
        InputError: Naming the first output that would overwrite an input.
    """
    inputs = {Path(p).resolve() for p in protected}
    for path in paths:
        if Path(path).resolve() in inputs:
            raise InputError(
                "would overwrite an input file; choose another output folder or name", path
            )


def write_outputs(paths: dict[str, Path], result: MatteState) -> dict[str, Path]:
    """Write a pipeline result's trimap, alpha (8-bit) and RGBA cutout, each atomically.

    Args:
        paths: As returned by :func:`output_paths`.
        result: Final state of the editor's pipeline: uint8 ``(H, W)`` ``trimap``,
            float32 ``(H, W)`` ``alpha`` and float32 ``(H, W, 4)`` RGBA ``composite``.

    Returns:
        ``paths``.

    Raises:
        InputError: The result lacks one of them (a pipeline without a ``cutout`` stage).
    """
    from trimatte.io import write_alpha, write_rgba, write_trimap

    cutout = result.composite
    if result.trimap is None or result.alpha is None or cutout is None \
            or cutout.ndim != 3 or cutout.shape[2] != 4:
        raise InputError("the editor's pipeline must produce a trimap, an alpha and an "
                         "RGBA 'cutout'", "pipeline")
    write_trimap(paths["trimap"], result.trimap)
    write_alpha(paths["alpha"], result.alpha)
    write_rgba(paths["cutout"], cutout[:, :, :3], cutout[:, :, 3])
    return paths


__all__ = ["OUTPUT_KINDS", "check_not_inputs", "output_paths", "write_outputs"]
