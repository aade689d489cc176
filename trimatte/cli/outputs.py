"""Where a command writes, checked before it starts.

Three rules hold for every file a sub-command writes:

1. **It is checked before any image is processed.** Folders are created (or found
   to be folders) and probed for write permission; file targets must not be
   folders and must have an extension that can be written. A problem raises
   :class:`~trimatte.errors.InputError` naming the path and the cause, and the
   command exits with code 2 having done nothing.
2. **It never replaces an input.** Targets are compared with every input (images,
   trimaps, ground truth, a background image, a pipeline config) by file identity
   (``os.path.samefile``: symlinks, hard links and ``..`` all resolve) and by real
   path for files that do not exist yet.
3. **It is recognisable as trimatte's.** Per-image outputs end in one of
   :data:`OUTPUT_SUFFIXES`, and every file a run writes is named in the hidden
   record ``.trimatte-outputs`` of its folder. When a folder is given as input,
   files that match either rule are skipped (with a note), so a second run into
   the input folder does not matte the first run's outputs; a file named
   explicitly is always processed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from trimatte.errors import InputError
from trimatte.io import IMAGE_SUFFIXES

__all__ = [
    "OUTPUT_SUFFIXES",
    "RECORD_NAME",
    "InputSet",
    "check_file_target",
    "check_folder",
    "is_own_output",
    "record_outputs",
    "recorded_outputs",
]

#: Output kind of ``trimatte matte --save`` → ending of its file name.
OUTPUT_SUFFIXES = {
    "alpha": "_alpha.png",
    "trimap": "_trimap.png",
    "foreground": "_fg.png",
    "cutout": "_cutout.png",
    "composite": "_composite.png",
}

#: Hidden file in an output folder naming, one per line, the files runs wrote there.
RECORD_NAME = ".trimatte-outputs"


def recorded_outputs(folder: Path) -> set[str]:
    """Names of the files that trimatte runs recorded writing into ``folder``."""
    try:
        text = (Path(folder) / RECORD_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return {line for line in text.splitlines() if line}


def is_own_output(path: Path, recorded: set[str] | None = None) -> bool:
    """True if ``path`` is named like a trimatte output or recorded as one.

    Args:
        path: A file in some folder.
        recorded: :func:`recorded_outputs` of its folder, if already read.
    """
    path = Path(path)
    if path.name.lower().endswith(tuple(OUTPUT_SUFFIXES.values())):
        return True
    if recorded is None:
        recorded = recorded_outputs(path.parent)
    return path.name in recorded


def record_outputs(paths: Iterable[Path]) -> None:
    """Add ``paths`` to the ``.trimatte-outputs`` record of their folders.

    Appends only names not yet recorded, in one ``O_APPEND`` write per folder, so
    concurrent runs do not clobber each other. A folder whose record cannot be
    written is skipped silently: the record helps to recognise outputs, it is not
    needed to produce them.
    """
    by_folder: dict[Path, list[str]] = {}
    for path in paths:
        by_folder.setdefault(Path(path).parent, []).append(Path(path).name)
    for folder, names in by_folder.items():
        known = recorded_outputs(folder)
        new = [n for n in dict.fromkeys(names) if n not in known and "\n" not in n]
        if not new:
            continue
        data = "".join(f"{n}\n" for n in new).encode("utf-8")
        try:
            fd = os.open(folder / RECORD_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError:
            continue


class InputSet:
    """The files a run reads, to tell whether a target path would replace one."""

    def __init__(self, paths: Iterable[Path | str | None] = ()) -> None:
        self._by_id: dict[tuple[int, int], Path] = {}
        self._by_real: dict[str, Path] = {}
        for path in paths:
            if path is not None:
                self.add(Path(path))

    def add(self, path: Path) -> None:
        """Remember ``path`` (a file that will be read)."""
        self._by_real[os.path.realpath(path)] = path
        try:
            st = os.stat(path)
        except OSError:
            return
        self._by_id[(st.st_dev, st.st_ino)] = path

    def find(self, target: Path) -> Path | None:
        """The input that writing ``target`` would replace, or None."""
        try:
            st = os.stat(target)
        except OSError:
            pass
        else:
            hit = self._by_id.get((st.st_dev, st.st_ino))
            if hit is not None:
                return hit
        return self._by_real.get(os.path.realpath(target))


def _probe(folder: Path) -> None:
    """Create and delete a file in ``folder`` (permission bits lie to root)."""
    fd, tmp = tempfile.mkstemp(prefix=f".trimatte-probe.{os.getpid()}.", suffix=".tmp", dir=folder)
    os.close(fd)
    os.unlink(tmp)


def check_folder(folder: Path, what: str) -> None:
    """Make sure ``folder`` exists (creating it) and can be written into.

    Args:
        folder: The folder.
        what: How the user named it, for the message (e.g. ``"output folder"``).

    Raises:
        InputError: Naming ``folder`` and the cause.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{what} exists and is not a folder", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(
            f"cannot create the {what}: a part of the path is a file", folder
        ) from None
    except OSError as exc:
        raise InputError(f"cannot create the {what} ({exc.strerror or exc})", folder) from None
    try:
        _probe(folder)
    except OSError as exc:
        raise InputError(f"cannot write into the {what} ({exc.strerror or exc})", folder) from None


def check_file_target(
    path: Path,
    what: str,
    inputs: InputSet,
    *,
    suffixes: tuple[str, ...] | None = None,
    image: bool = False,
) -> None:
    """Check a file a command will write: not a folder, not an input, writable.

    Args:
        path: The file to write.
        what: How the user named it (e.g. ``"--contact-sheet"``).
        inputs: The run's inputs.
        suffixes: Allowed extensions (lower case, with the dot), if restricted.
        image: The file is an image: its extension must be one OpenCV can write.

    Raises:
        InputError: Naming ``path`` and the cause.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} is a folder; give a file name", path)
    suffix = path.suffix.lower()
    if suffixes is not None and suffix not in suffixes:
        raise InputError(
            f"{what} needs one of the extensions {', '.join(suffixes)}, got {suffix or 'none'!r}",
            path,
        )
    if image:
        import cv2

        if suffix not in IMAGE_SUFFIXES or not cv2.haveImageWriter(str(path)):
            raise InputError(
                f"{what}: cannot write images of type {suffix or 'none'!r}; "
                f"use {', '.join(IMAGE_SUFFIXES)}",
                path,
            )
    clash = inputs.find(path)
    if clash is not None:
        raise InputError(
            f"{what} would overwrite the input {clash}; choose another file", path
        )
    check_folder(path.parent if str(path.parent) else Path("."), f"folder of {what}")
