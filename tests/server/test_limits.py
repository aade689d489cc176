"""Upload checks: magic bytes, header-only size reads, pixel limits, safe names, no paths."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.server.conftest import disc_png
from trimatte.server.limits import (
    Limits,
    RequestRejected,
    check_image_bytes,
    check_no_paths,
    header_size,
    safe_filename,
    sniff_format,
)


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height`` pixels (a decompression bomb)."""
    data = bytearray(disc_png(8))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_sniff_format_by_content_not_name():
    assert sniff_format(disc_png()) == "png"
    assert sniff_format(disc_png(suffix=".jpg")) == "jpeg"
    assert sniff_format(disc_png(suffix=".bmp")) == "bmp"
    assert sniff_format(disc_png(suffix=".tif")) == "tiff"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff_format(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff_format(b"") is None


def test_header_size_reads_the_header_only():
    assert header_size(disc_png(56), "a.png") == (56, 56)
    # 144 megapixels claimed by a file of ~100 bytes: answered from the header alone
    assert header_size(bomb_png(12_000, 12_000), "bomb.png") == (12_000, 12_000)


def test_decompression_bomb_is_refused_before_decoding():
    limits = Limits(max_pixels=1_000_000)
    with pytest.raises(RequestRejected) as info:
        check_image_bytes(bomb_png(20_000, 20_000), "bomb.png", limits)
    assert info.value.status == 413
    assert "bomb.png" in str(info.value)
    with pytest.raises(RequestRejected) as info:  # beyond Pillow's own limit too
        check_image_bytes(bomb_png(200_000, 200_000), "huge.png", limits)
    assert info.value.status == 413


def test_check_image_bytes_limits():
    limits = Limits(max_upload_bytes=10_000, max_pixels=56 * 56)
    assert check_image_bytes(disc_png(56), "ok.png", limits) == (56, 56)
    with pytest.raises(RequestRejected, match="pixels") as info:
        check_image_bytes(disc_png(57), "big.png", limits)
    assert info.value.status == 413
    with pytest.raises(RequestRejected, match="bytes") as info:
        check_image_bytes(disc_png(56) + b"\0" * 10_000, "fat.png", limits)
    assert info.value.status == 413
    with pytest.raises(RequestRejected, match="not an image") as info:
        check_image_bytes(b"#!/bin/sh\nrm -rf /\n", "x.png", limits)
    assert info.value.status == 415
    with pytest.raises(RequestRejected, match="empty"):
        check_image_bytes(b"", "e.png", limits)
    with pytest.raises(RequestRejected, match="not a readable image") as info:
        check_image_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "cut.png", limits)
    assert info.value.status == 415


@pytest.mark.parametrize("name, expected", [
    ("photo.jpg", "photo.jpg"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("/abs/path/x.png", "x.png"),
    (".hidden.png", "hidden.png"),
    ("a b/c d.png", "c_d.png"),
    ("..", "image"),
    ("", "image"),
    (None, "image"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@given(st.text(max_size=60))
def test_safe_filename_never_leaves_the_folder(name):
    safe = safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert len(safe) <= 120 and safe not in (".", "..")


@pytest.mark.parametrize("value", [
    "/etc/passwd", "../secret.png", "~/x.png", "C:\\x.png", ".env", "README.md", "a/b",
    {"stages": [{"name": "composite", "params": {"background": "/etc/hosts"}}]},
])
def test_check_no_paths_refuses_paths(value):
    with pytest.raises(RequestRejected, match="file path") as info:
        check_no_paths(value, "config")
    assert info.value.status == 422


@pytest.mark.parametrize("value", ["white", "#2080ff", "12,34,56", "closed-form", 1e-7, None,
                                   {"stages": [{"name": "closed-form", "params": {}}]}])
def test_check_no_paths_allows_names_and_colours(value):
    check_no_paths(value, "config")
