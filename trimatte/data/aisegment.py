"""The AISegment "Matting Human Datasets" folder layout.

The Kaggle release of AISegment.com's 34,427 half-length portraits is laid out as::

    <root>/clip_img/<id>/clip_<id>/<name>.jpg     photos
    <root>/matting/<id>/matting_<id>/<name>.png   RGBA PNGs whose 4th channel is the alpha

where ``<id>`` is a shooting session such as ``1803151818``. A photo and its matte
are matched by ``<id>`` and ``<name>``. Photos without a matte, mattes without a
photo and (with ``verify=True``) files that do not decode or mattes without an
alpha channel are reported as :class:`~trimatte.data.folders.PairProblem` and skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

from trimatte.data.folders import IMAGE_SUFFIXES, MattePair, PairProblem, PathLike, verify_pairs
from trimatte.errors import InputError

log = logging.getLogger(__name__)


def _index(root: Path, kind: str) -> dict[tuple[str, str], Path]:
    """``{(session id, stem): path}`` of ``root/<kind>/<id>/<kind>_<id>/*``."""
    top = "clip_img" if kind == "clip" else "matting"
    found: dict[tuple[str, str], Path] = {}
    for session in sorted(p for p in (root / top).iterdir() if p.is_dir()):
        inner = session / f"{kind}_{session.name}"
        if not inner.is_dir():
            continue
        for path in sorted(inner.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                found[(session.name, path.stem)] = path
    return found


def aisegment_pairs(
    root: PathLike, verify: bool = True, progress: bool = True
) -> tuple[list[MattePair], list[PairProblem]]:
    """Find the (photo, matte) pairs of an AISegment folder.

    Args:
        root: Folder holding ``clip_img/`` and ``matting/``.
        verify: Decode every file and reject unreadable ones and mattes that are not
            4-channel RGBA (slow on the full 34k set: about a minute per core).
        progress: Show a progress bar while verifying.

    Returns:
        The pairs (names ``"<id>/<stem>"``, sorted) and the problems found; every
        problem is also logged as a warning.

    Raises:
        InputError: ``root`` lacks ``clip_img/`` or ``matting/``.
    """
    root = Path(root)
    for sub in ("clip_img", "matting"):
        if not (root / sub).is_dir():
            raise InputError(
                f"not an AISegment folder: no {sub}/ (expected clip_img/<id>/clip_<id>/*.jpg "
                "and matting/<id>/matting_<id>/*.png)",
                root,
            )
    clips = _index(root, "clip")
    mattes = _index(root, "matting")
    pairs = [
        MattePair(f"{sid}/{stem}", clips[(sid, stem)], mattes[(sid, stem)])
        for sid, stem in sorted(clips.keys() & mattes.keys())
    ]
    problems = [PairProblem(clips[k], "no matte for this photo") for k in sorted(
        clips.keys() - mattes.keys())]
    problems += [PairProblem(mattes[k], "no photo for this matte") for k in sorted(
        mattes.keys() - clips.keys())]
    if verify:
        pairs, bad = verify_pairs(pairs, alpha_channels=4, progress=progress)
        problems += bad
    for problem in problems:
        log.warning("skipping AISegment file %s", problem)
    return pairs, problems
