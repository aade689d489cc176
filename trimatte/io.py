"""Reading and writing images at the edge of the library.

Readers return the convention of :mod:`trimatte.image` (float32 RGB in [0, 1],
float32 alpha, uint8 trimap) whatever the file holds: 8- or 16-bit PNG, JPEG
(EXIF orientation applied), grayscale or RGBA (the alpha channel is dropped with
a warning). Every failure raises :class:`~trimatte.errors.InputError` naming the
file.

Writers are atomic: the data goes to a temporary file in the target folder that
is renamed over the target only once it is complete, so a crash never leaves a
half-written output. The temporary file is named ``.NAME.PID.XXXXXX.tmp`` (PID of
the writing process); :func:`remove_stale_temp_files` removes those whose process
is gone, i.e. the litter of a killed process.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from trimatte.errors import InputError, TrimatteWarning
from trimatte.image import as_alpha, as_image, as_trimap

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

PathLike = str | os.PathLike


def _read_bytes(path: PathLike) -> np.ndarray:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        raise InputError("is a folder, expected an image file", path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path) from exc
    if not data:
        raise InputError("file is empty", path)
    return np.frombuffer(data, dtype=np.uint8)


@contextlib.contextmanager
def _opencv_silent() -> Iterator[None]:
    """Mute OpenCV's own log lines (e.g. "PNG input buffer is incomplete"): a failed
    decode is reported once, as an InputError naming the file."""
    cv_logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if cv_logging is None:  # pragma: no cover - OpenCV builds without cv2.utils.logging
        yield
        return
    level = cv_logging.getLogLevel()
    cv_logging.setLogLevel(cv_logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv_logging.setLogLevel(level)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _decode(data: np.ndarray, flags: int, path: PathLike) -> np.ndarray:
    if data[:8].tobytes() == _PNG_SIGNATURE:
        # A cut-off PNG has no complete end chunk ("IEND" and its CRC). Checked here
        # because libpng would print a complaint of its own besides our one line.
        tail = data[-65536:].tobytes()
        end = tail.rfind(b"IEND")
        if end < 0 or len(tail) < end + 8:
            raise InputError("not a readable image (the PNG file is truncated)", path)
    try:
        with _opencv_silent():
            array = cv2.imdecode(data, flags)
    except cv2.error as exc:  # pragma: no cover - OpenCV raises only on exotic files
        raise InputError(f"not a readable image ({exc.msg.strip()})", path) from exc
    if array is None or array.size == 0:
        raise InputError("not a readable image (corrupt file or unsupported format)", path)
    return array


def read_image(path: PathLike) -> np.ndarray:
    """Read an image file as float32 ``(H, W, 3)`` RGB in [0, 1].

    Grayscale files are repeated to three channels, 16-bit files keep their
    precision, EXIF orientation is applied, and an alpha channel is dropped with a
    :class:`~trimatte.errors.TrimatteWarning`.

    The file is decoded once when its header tells whether it has an alpha channel
    (JPEG never has one, PNG says so in its header), so a 24 MP photo costs its
    float32 array plus one 8-bit copy; other formats are decoded twice.

    Raises:
        InputError: The file is missing, empty, corrupt or not an image.
    """
    data = _read_bytes(path)
    has_alpha = _header_has_alpha(data)
    if has_alpha is None:
        raw = _decode(data, cv2.IMREAD_UNCHANGED, path)
        has_alpha = raw.ndim == 3 and raw.shape[2] == 4
        del raw
    if has_alpha:
        warnings.warn(
            f"{path}: has an alpha channel; it is ignored (trimatte reads RGB)",
            TrimatteWarning,
            stacklevel=2,
        )
    # IMREAD_COLOR applies the EXIF orientation; ANYDEPTH keeps 16-bit data.
    bgr = _decode(data, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH, path)
    del data
    if bgr.dtype not in (np.uint8, np.uint16, np.float32):
        raise InputError(f"unsupported pixel type {bgr.dtype}", path)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)  # in place: no second copy
    if rgb.dtype == np.float32:
        rgb = np.clip(np.nan_to_num(rgb), 0.0, 1.0)
    return as_image(rgb, name=str(path))


def _header_has_alpha(data: np.ndarray) -> bool | None:
    """Whether an encoded image has an alpha channel, from its header; None: unknown.

    JPEG has no alpha channel; a PNG's IHDR colour type 4 or 6 (gray or RGB with
    alpha) or a tRNS chunk (palette transparency) means one.
    """
    head = data[:4096].tobytes()
    if head[:3] == b"\xff\xd8\xff":
        return False
    if head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR" and len(head) > 25:
        if head[25] in (4, 6):
            return True
        return b"tRNS" in head.split(b"IDAT", 1)[0]
    return None


def read_alpha(path: PathLike) -> np.ndarray:
    """Read an alpha matte as float32 ``(H, W)`` in [0, 1].

    A one-channel file is the matte itself; a four-channel file contributes its
    alpha channel (as in the AISegment ``matting/`` PNGs); a three-channel file
    must be gray (equal channels).

    Raises:
        InputError: Missing, unreadable, or a colour image that is not a matte.
    """
    raw = _decode(_read_bytes(path), cv2.IMREAD_UNCHANGED, path)
    if raw.ndim == 3:
        if raw.shape[2] == 4:
            raw = raw[:, :, 3]
        elif raw.shape[2] == 3:
            if not (np.array_equal(raw[:, :, 0], raw[:, :, 1])
                    and np.array_equal(raw[:, :, 1], raw[:, :, 2])):
                raise InputError("alpha matte must be grayscale, found a colour image", path)
            raw = raw[:, :, 0]
        else:
            raw = raw[:, :, 0]
    if raw.dtype not in (np.uint8, np.uint16, np.float32):
        raise InputError(f"unsupported pixel type {raw.dtype}", path)
    return as_alpha(np.clip(raw, 0, None) if raw.dtype == np.float32 else raw, name=str(path))


def read_trimap(path: PathLike) -> np.ndarray:
    """Read a trimap as uint8 ``(H, W)`` with values {0, 128, 255}.

    Gray levels are snapped (< 64 background, >= 192 foreground, else unknown), so
    trimaps saved as JPEG or with anti-aliased brushes still load.

    Raises:
        InputError: Missing or unreadable file.
        TrimapError: The file holds a colour image.
    """
    raw = _decode(_read_bytes(path), cv2.IMREAD_UNCHANGED, path)
    if raw.ndim == 3 and raw.shape[2] == 4:
        raw = raw[:, :, :3]
    return as_trimap(raw, name=str(path))


def list_images(folder: PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name.

    Raises:
        InputError: ``folder`` does not exist ("folder not found"), is a file, or
            cannot be listed.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError("folder not found", folder)
    if not folder.is_dir():
        raise InputError("is a file, expected a folder", folder)
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise InputError(f"cannot list folder ({exc.strerror or exc})", folder) from exc
    return sorted(p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def find_by_stem(folder: PathLike, stem: str) -> Path | None:
    """The image in ``folder`` whose name without suffix is ``stem`` (PNG first)."""
    folder = Path(folder)
    for suffix in (".png", *IMAGE_SUFFIXES):
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


#: Name ending of the trimaps ``trimatte matte --save trimap`` writes (``X_trimap.png``).
TRIMAP_SUFFIX = "_trimap"


def find_trimap(folder: PathLike, stem: str, *, exclude: PathLike | None = None) -> Path | None:
    """The trimap of image ``stem`` in ``folder``: ``X_trimap.*`` (as written by
    ``trimatte matte --save trimap``) or else ``X.*``, never the file ``exclude``
    (the image itself, when images and trimaps share a folder)."""
    for name in (f"{stem}{TRIMAP_SUFFIX}", stem):
        found = find_by_stem(folder, name)
        if found is not None and not (exclude is not None and _same_file(found, exclude)):
            return found
    return None


def _same_file(a: PathLike, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


# ----------------------------------------------------------------------------- writing


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    Parent folders are created. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        # mkstemp makes the file private (0600); give it the usual mode for new files.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


#: ``.NAME.PID.XXXXXX.tmp``; files of older versions lack the PID (``.NAME.XXXXXX.tmp``).
_TEMP_NAME = re.compile(r"^\.(?P<name>.+?)(?:\.(?P<pid>\d+))?\.(?P<random>[^.]+)\.tmp$")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    except OSError:
        return False
    return True


def remove_stale_temp_files(
    folder: PathLike, *, include_own: bool = False, legacy_age: float = 600.0
) -> list[Path]:
    """Remove the temporary files that a killed writer left in ``folder``.

    :func:`atomic_write_bytes` names its temporary file ``.NAME.PID.XXXXXX.tmp``; a
    process killed between creating and renaming it (SIGKILL, power loss) leaves it
    behind. This removes those whose process no longer exists, so it is safe while
    other processes write into the same folder. Call it when a run starts using an
    output folder (``trimatte matte`` does for its outputs; a trainer for its
    checkpoint folder before resuming).

    Args:
        folder: Folder to clean (not recursive). A missing folder is fine.
        include_own: Also remove this process's temporary files; only when nothing in
            this process is writing (after an interrupted batch).
        legacy_age: Temporary files without a PID in their name (written by older
            versions) are removed once older than this many seconds.

    Returns:
        The files removed.
    """
    folder = Path(folder)
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    removed = []
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file() or entry.is_symlink():
            continue
        pid = match.group("pid")
        if pid is None:
            try:
                stale = now - entry.stat().st_mtime > legacy_age
            except OSError:
                continue
        elif int(pid) == os.getpid():
            stale = include_own
        else:
            stale = not _process_alive(int(pid))
        if stale:
            try:
                entry.unlink()
            except FileNotFoundError:
                continue
            except OSError:
                continue
            removed.append(entry)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _encode(path: Path, array: np.ndarray) -> bytes:
    suffix = path.suffix.lower() or ".png"
    ok, buffer = cv2.imencode(suffix, array)
    if not ok:
        raise InputError(f"cannot encode an image as {suffix}", path)
    return buffer.tobytes()


#: Rows converted to 8 bits at a time by the writers (bounds their temporary memory).
_STRIP_ROWS = 256


def _to_uint8_strips(array: np.ndarray, channels: int) -> np.ndarray:
    """Round float ``(H, W[, C])`` in [0, 1] to uint8, strip by strip (no full-size float
    temporaries), into a new ``(H, W, channels)`` array (``(H, W)`` when ``channels`` is 0)."""
    shape = array.shape[:2] + ((channels,) if channels else ())
    out = np.empty(shape, np.uint8)
    for y in range(0, array.shape[0], _STRIP_ROWS):
        strip = np.asarray(array[y:y + _STRIP_ROWS], dtype=np.float32) * np.float32(255.0)
        np.rint(strip, out=strip)
        np.clip(strip, 0, 255, out=strip)
        out[y:y + _STRIP_ROWS] = strip.reshape(out[y:y + _STRIP_ROWS].shape)
    return out


def _check_float_image(array: np.ndarray, path: Path, ndim: int) -> np.ndarray | None:
    """``array`` itself when it is already a float32/float64 image of ``ndim`` dimensions
    (3: RGB, 2: alpha) whose values lie in [0, 1] (checked strip by strip), else None."""
    array = np.asarray(array)
    if array.dtype not in (np.float32, np.float64) or array.ndim != ndim or array.size == 0:
        return None
    if ndim == 3 and array.shape[2] != 3:
        return None
    for y in range(0, array.shape[0], _STRIP_ROWS):
        strip = array[y:y + _STRIP_ROWS]
        low, high = float(strip.min()), float(strip.max())
        if not (0.0 <= low and high <= 1.0):  # also catches NaN
            return None
    return array


def write_image(path: PathLike, image: np.ndarray) -> Path:
    """Write a float32 RGB ``(H, W, 3)`` image in [0, 1] as 8-bit (format from suffix).

    A float image in range is converted strip by strip (its only full-size temporary
    is the 8-bit copy that the encoder needs).
    """
    path = Path(path)
    checked = _check_float_image(image, path, 3)
    if checked is None:
        checked = as_image(image, str(path))
    bgr = _to_uint8_strips(checked, 3)
    cv2.cvtColor(bgr, cv2.COLOR_RGB2BGR, dst=bgr)
    return atomic_write_bytes(path, _encode(path, bgr))


def write_alpha(path: PathLike, alpha: np.ndarray, bits: int = 8) -> Path:
    """Write an alpha matte ``(H, W)`` as a one-channel 8- or 16-bit PNG."""
    path = Path(path)
    if bits not in (8, 16):
        raise InputError(f"bits must be 8 or 16, got {bits}", "bits")
    checked = _check_float_image(alpha, path, 2)
    if checked is None:
        checked = as_alpha(alpha, str(path))
    if bits == 16:
        data = np.empty(checked.shape, np.uint16)
        for y in range(0, checked.shape[0], _STRIP_ROWS):
            strip = np.rint(np.asarray(checked[y:y + _STRIP_ROWS], np.float32) * 65535.0)
            data[y:y + _STRIP_ROWS] = np.clip(strip, 0, 65535)
    else:
        data = _to_uint8_strips(checked, 0)
    return atomic_write_bytes(path, _encode(path, data))


def write_trimap(path: PathLike, trimap: np.ndarray) -> Path:
    """Write a trimap ``(H, W)`` (0/128/255) as a one-channel 8-bit PNG."""
    path = Path(path)
    return atomic_write_bytes(path, _encode(path, as_trimap(trimap, str(path))))


def write_rgba(path: PathLike, image: np.ndarray, alpha: np.ndarray) -> Path:
    """Write ``image`` (H, W, 3) with ``alpha`` (H, W) as an 8-bit RGBA PNG.

    Float inputs in range are converted strip by strip straight into the one 8-bit
    BGRA array the encoder needs.
    """
    path = Path(path)
    rgb = _check_float_image(image, path, 3)
    if rgb is None:
        rgb = as_image(image, str(path))
    a = _check_float_image(alpha, path, 2)
    if a is None:
        a = as_alpha(alpha, str(path))
    if a.shape != rgb.shape[:2]:
        raise InputError(f"alpha {a.shape} and image {rgb.shape[:2]} differ in size", path)
    bgra = np.empty((*rgb.shape[:2], 4), np.uint8)
    for y in range(0, rgb.shape[0], _STRIP_ROWS):
        bgra[y:y + _STRIP_ROWS, :, :3] = _to_uint8_strips(rgb[y:y + _STRIP_ROWS, :, ::-1], 3)
        bgra[y:y + _STRIP_ROWS, :, 3] = _to_uint8_strips(a[y:y + _STRIP_ROWS], 0)
    return atomic_write_bytes(path, _encode(path, bgra))
