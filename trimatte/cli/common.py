"""Helpers shared by the sub-commands: exit codes, messages, inputs and parameters."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from trimatte.cli.outputs import is_own_output, recorded_outputs
from trimatte.errors import InputError
from trimatte.io import IMAGE_SUFFIXES, find_trimap, list_images

#: Exit codes of every sub-command (documented in docs/cli.md).
EXIT_OK = 0
EXIT_FAILED = 1  # some inputs failed; the others were processed
EXIT_USAGE = 2  # usage or configuration error; nothing was processed
EXIT_INTERRUPTED = 130  # Ctrl-C

#: What a build-time configuration error can be: trimatte's own (ConfigError is an
#: InputError), or a stage constructor's TypeError/ValueError.
CONFIG_ERRORS = (InputError, TypeError, ValueError)


def report(message: str) -> None:
    """Print an error line to stderr without breaking a tqdm progress bar."""
    _write(f"trimatte: error: {message}")


def warn(message: str) -> None:
    """Print a warning line to stderr."""
    _write(f"trimatte: warning: {message}")


def note(message: str) -> None:
    """Print an informative line to stderr."""
    _write(f"trimatte: {message}")


def _write(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(" ".join(line.splitlines()), file=sys.stderr)


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Print each warning raised inside the block as one ``trimatte: warning:`` line
    (e.g. a renamed parameter while the configuration is built), not Python's two."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for w in caught:
                warn(str(w.message))


def describe_error(exc: BaseException, about: Path | str | None = None) -> str:
    """One line for an exception raised while processing ``about`` (an input file).

    trimatte's errors already name their file; anything else (a write that failed,
    a library error on a strange file) is prefixed with ``about`` and its type.
    """
    from trimatte.errors import TrimatteError

    if isinstance(exc, TrimatteError):
        text = str(exc)
    elif isinstance(exc, MemoryError):
        text = "out of memory (try a smaller image, or fewer --workers)"
    elif isinstance(exc, OSError):
        where = exc.filename or about
        text = f"{where}: {exc.strerror or exc}"
        about = where
    else:
        text = f"failed ({type(exc).__name__}: {exc})"
    if about is not None and str(about) not in text:
        text = f"{about}: {text}"
    return " ".join(text.splitlines())


def _missing(path: Path, given: str) -> InputError:
    if given.endswith(("/", "\\")) or not path.suffix:
        return InputError("folder not found", path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return InputError("file not found", path)
    return InputError("no such file or folder", path)


def collect_images(inputs: list[str]) -> tuple[list[Path], list[str], list[str]]:
    """Expand files and folders into a de-duplicated list of image files.

    Folders are listed without the files a trimatte run wrote (see
    :func:`trimatte.cli.outputs.is_own_output`); a file named explicitly is always taken.

    Returns:
        ``(images, problems, notes)``: the images in the order given (folders sorted),
        one message per input that is missing, unreadable or an empty folder, and
        one note per folder in which earlier outputs were skipped.
    """
    found: list[Path] = []
    problems: list[str] = []
    notes: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            try:
                listed = list_images(path)
            except InputError as exc:
                problems.append(str(exc))
                continue
            recorded = recorded_outputs(path)
            skipped = [p for p in listed if is_own_output(p, recorded)]
            images = [p for p in listed if p not in skipped]
            if skipped:
                shown = ", ".join(p.name for p in skipped[:3])
                more = ", ..." if len(skipped) > 3 else ""
                notes.append(
                    f"{path}: skipped {len(skipped)} file(s) named like trimatte outputs "
                    f"({shown}{more}); name a file explicitly to process it"
                )
            if not images:
                problems.append(
                    str(InputError(f"folder holds no images ({', '.join(IMAGE_SUFFIXES)})", path))
                )
            found.extend(images)
        elif path.is_file():
            found.append(path)
        elif path.exists():
            problems.append(str(InputError("not a regular file", path)))
        else:
            problems.append(str(_missing(path, item)))
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return list(unique.values()), problems, notes


def check_unique_stems(paths: list[Path]) -> None:
    """Outputs are named after the input stem; two inputs with one stem would collide."""
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise InputError(
                f"has the same name as {seen[path.stem]}; their outputs would overwrite "
                "each other (rename one or run them separately)",
                path,
            )
        seen[path.stem] = path


def trimap_folder_or_file(trimap_arg: str | None, n_images: int) -> Path | None:
    """Check ``--trimap``: an existing folder, or a file when there is one image.

    Raises:
        InputError: Missing, or a single file given for several images (usage errors).
    """
    if trimap_arg is None:
        return None
    trimap = Path(trimap_arg)
    if trimap.is_dir():
        return trimap
    if not trimap.exists():
        raise InputError(str(_missing(trimap, trimap_arg).reason), f"--trimap {trimap}")
    if n_images > 1:
        raise InputError(
            "is a single file but several images were given; pass a folder", f"--trimap {trimap}"
        )
    return trimap


def trimap_for(image: Path, trimap: Path | None) -> Path | None:
    """The trimap file of ``image``: the file itself, or ``DIR/X_trimap.*`` / ``DIR/X.*``.

    Raises:
        InputError: The folder holds no trimap for ``image`` (names both patterns).
    """
    if trimap is None or not trimap.is_dir():
        return trimap
    found = find_trimap(trimap, image.stem, exclude=image)
    if found is None:
        raise InputError(
            f"no trimap named {image.stem}_trimap.png or {image.stem}.png in {trimap}", image
        )
    return found
