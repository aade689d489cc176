"""Limits and input checks of the matting server, with no web framework in them.

Everything a client sends is checked here before any pixel is decoded:

* size: every upload is capped (:attr:`Limits.max_upload_bytes`), and so is a
  whole request body (see :class:`trimatte.server.app.BodyLimit`);
* format: only PNG, JPEG, BMP, TIFF and WebP files are decoded, recognised by
  their magic bytes, whatever their name says;
* pixels: the width and height are read from the file *header* (Pillow's lazy
  ``Image.open`` parses the header only), and a file over
  :attr:`Limits.max_pixels` is refused before it is decoded, so a small file
  that would decode to gigabytes (a decompression bomb) costs nothing;
* names: upload file names are reduced to a safe base name, and no text
  parameter may name a server-side path (see :func:`check_no_paths`).
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from trimatte.errors import InputError

#: Magic bytes of the image formats the server decodes.
_MAGIC: tuple[tuple[str, bytes, int], ...] = (
    ("png", b"\x89PNG\r\n\x1a\n", 0),
    ("jpeg", b"\xff\xd8\xff", 0),
    ("bmp", b"BM", 0),
    ("tiff", b"II*\x00", 0),
    ("tiff", b"MM\x00*", 0),
    ("webp", b"WEBP", 8),
)
IMAGE_FORMATS = tuple(dict.fromkeys(name for name, _, _ in _MAGIC))
ZIP_MAGIC = b"PK\x03\x04"


class RequestRejected(InputError):
    """A request the server refuses; ``status`` is the HTTP status code to answer with."""

    def __init__(self, message: str, source: object | None = None, status: int = 422) -> None:
        super().__init__(message, source)
        self.status = status


class Busy(RequestRejected):
    """The server is at its queue limit: answer 503 with ``Retry-After``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, "server", status=503)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """What one server accepts.

    Attributes:
        max_upload_bytes: Largest single uploaded file (an image, trimap, plate or zip).
        max_request_bytes: Largest request body (all files of a batch together).
        max_pixels: Largest image, width x height, read from the header before decoding.
        max_files: Most images in one batch job.
        max_queued_images: Most images accepted but not yet finished, over all jobs;
            past it new jobs get 503 with Retry-After.
        max_active_requests: Most single-image requests (``/v1/matte``, ``/v1/refine``)
            being processed at once; past it they get 503.
        retry_after_s: The Retry-After the server sends with a 503.
        request_timeout_s: Longest wait for one single-image request (then 504).
    """

    max_upload_bytes: int = 25 * 2**20
    max_request_bytes: int = 512 * 2**20
    max_pixels: int = 40_000_000
    max_files: int = 1000
    max_queued_images: int = 2000
    max_active_requests: int = 8
    retry_after_s: int = 5
    request_timeout_s: int = 600

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_request_bytes", "max_pixels", "max_files",
                     "max_queued_images", "max_active_requests", "retry_after_s",
                     "request_timeout_s"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"must be at least 1, got {getattr(self, name)}", name)


def sniff_format(data: bytes) -> str | None:
    """The image format of ``data`` from its magic bytes (``"png"``, ``"jpeg"``, ...), or None."""
    for name, magic, offset in _MAGIC:
        if data[offset: offset + len(magic)] == magic:
            if name == "webp" and data[:4] != b"RIFF":
                continue
            return name
    return None


def header_size(data: bytes, name: str) -> tuple[int, int]:
    """``(width, height)`` read from the image header, without decoding the pixels.

    Raises:
        RequestRejected: 415 when the header cannot be parsed.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own bomb warning: we check below
            with Image.open(io.BytesIO(data)) as image:
                return int(image.width), int(image.height)
    except Image.DecompressionBombError:
        # Pillow refuses headers over twice its own limit; report ours instead.
        raise RequestRejected(
            f"image header claims over {2 * (Image.MAX_IMAGE_PIXELS or 0)} pixels, far over "
            "the limit (decompression bomb?)", name, status=413
        ) from None
    except Exception as exc:  # any parse failure: not an image we take
        raise RequestRejected(
            f"not a readable image ({type(exc).__name__}: {str(exc)[:80]})", name, status=415
        ) from None


def check_image_bytes(data: bytes, name: str, limits: Limits) -> tuple[int, int]:
    """Check one uploaded image before it is decoded; returns ``(width, height)``.

    Raises:
        RequestRejected: Empty (422), too large (413), not an image format we decode
            (415), or more pixels than :attr:`Limits.max_pixels` (413).
    """
    if not data:
        raise RequestRejected("file is empty", name)
    if len(data) > limits.max_upload_bytes:
        raise RequestRejected(
            f"file is {len(data)} bytes, over the limit of {limits.max_upload_bytes}",
            name, status=413,
        )
    if sniff_format(data) is None:
        raise RequestRejected(
            f"not an image: only {', '.join(IMAGE_FORMATS)} files are accepted "
            "(recognised by their content, not their name)",
            name, status=415,
        )
    width, height = header_size(data, name)
    if width < 1 or height < 1:
        raise RequestRejected(f"image header says {width}x{height} pixels", name, status=415)
    if width * height > limits.max_pixels:
        raise RequestRejected(
            f"image is {width}x{height} = {width * height} pixels, over the limit of "
            f"{limits.max_pixels} (checked from the header, before decoding)",
            name, status=413,
        )
    return width, height


def safe_filename(name: str | None, fallback: str = "image") -> str:
    """A base name safe to create inside a folder of ours, from a client's file name.

    Folders (``a/b/c.png``, ``..\\x.png``) are dropped, characters outside
    letters, digits, ``-_.`` become ``_``, and hidden or empty names get ``fallback``.
    """
    text = unicodedata.normalize("NFKC", name or "")
    text = PureWindowsPath(PurePosixPath(text.replace("\x00", "")).name).name
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:120]
    return text or fallback


_PATH_LIKE = re.compile(r"[/\\\x00]|^~|^\.|\.\.")


def check_no_paths(value: Any, where: str) -> None:
    """Refuse any string inside ``value`` that could name a server-side file.

    Stage parameters such as a composite's ``background`` accept either a colour or
    a file path; over the network only the colour is allowed (background images are
    uploads). A string is refused when it contains a path separator, starts with
    ``~`` or ``.``, contains ``..``, or names an existing file or folder.

    Raises:
        RequestRejected: 422 naming the offending parameter.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            check_no_paths(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_no_paths(item, f"{where}[{index}]")
    elif isinstance(value, str):
        exists = False
        try:
            exists = bool(value) and len(value) < 256 and Path(value).exists()
        except (OSError, ValueError):
            exists = True
        if _PATH_LIKE.search(value) or exists:
            raise RequestRejected(
                f"{value[:60]!r} looks like a file path; the server never reads files named "
                "by a request (send images as uploads, colours as names or #rrggbb)",
                where,
            )
