"""trimatte.io at large sizes: one decode where the header allows it, strip-wise writers
that give the same bytes as a whole-array conversion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trimatte import io
from trimatte.errors import InputError
from trimatte.image import to_uint8


def _encoded(suffix: str, array: np.ndarray) -> np.ndarray:
    ok, buffer = cv2.imencode(suffix, array)
    assert ok
    return buffer.reshape(-1)


@pytest.mark.parametrize(("suffix", "array", "expected"), [
    (".jpg", np.zeros((4, 4, 3), np.uint8), False),
    (".png", np.zeros((4, 4, 3), np.uint8), False),
    (".png", np.zeros((4, 4), np.uint8), False),
    (".png", np.zeros((4, 4, 4), np.uint8), True),
    (".bmp", np.zeros((4, 4, 3), np.uint8), None),
])
def test_header_tells_alpha(suffix, array, expected):
    assert io._header_has_alpha(_encoded(suffix, array)) is expected


def test_decode_once_reads_the_same_pixels(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (600, 70, 3), dtype=np.uint8)
    path = tmp_path / "p.png"
    assert cv2.imwrite(str(path), bgr)
    calls = []
    real = io._decode
    monkeypatch.setattr(io, "_decode", lambda *a: calls.append(1) or real(*a))
    image = io.read_image(path)
    assert len(calls) == 1
    np.testing.assert_array_equal(to_uint8(image), bgr[:, :, ::-1])


def _old_bytes(kind: str, *arrays: np.ndarray) -> bytes:
    """What the writers produced with whole-array conversions."""
    if kind == "image":
        data = cv2.cvtColor(to_uint8(arrays[0]), cv2.COLOR_RGB2BGR)
    elif kind == "alpha":
        data = to_uint8(arrays[0])
    else:
        data = np.dstack([to_uint8(arrays[0])[:, :, ::-1], to_uint8(arrays[1])])
    return _encoded(".png", data).tobytes()


def test_strip_writers_match_whole_array_conversion(tmp_path):
    rng = np.random.default_rng(1)
    height = 2 * io._STRIP_ROWS + 37  # several strips, the last one partial
    image = rng.random((height, 33, 3)).astype(np.float32)
    image[0, 0] = [0.5 / 255, 1.5 / 255, 2.5 / 255]  # rounding ties
    alpha = rng.random((height, 33)).astype(np.float32)
    io.write_image(tmp_path / "i.png", image)
    io.write_alpha(tmp_path / "a.png", alpha)
    io.write_rgba(tmp_path / "c.png", image, alpha)
    assert (tmp_path / "i.png").read_bytes() == _old_bytes("image", image)
    assert (tmp_path / "a.png").read_bytes() == _old_bytes("alpha", alpha)
    assert (tmp_path / "c.png").read_bytes() == _old_bytes("rgba", image, alpha)
    # float64 and 16-bit alpha take the same path
    io.write_image(tmp_path / "d.png", image.astype(np.float64))
    assert (tmp_path / "d.png").read_bytes() == _old_bytes("image", image)
    io.write_alpha(tmp_path / "a16.png", alpha, bits=16)
    back = cv2.imread(str(tmp_path / "a16.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(back, np.rint(alpha * 65535.0).astype(np.uint16))


def test_writers_still_reject_out_of_range_values(tmp_path):
    image = np.full((4, 4, 3), 1.5, np.float32)
    with pytest.raises(InputError):
        io.write_image(tmp_path / "x.png", image)
    with pytest.raises(InputError):
        io.write_rgba(tmp_path / "y.png", np.zeros((4, 4, 3), np.float32),
                      np.full((4, 4), np.nan, np.float32))
    with pytest.raises(InputError, match="differ in size"):
        io.write_rgba(tmp_path / "z.png", np.zeros((4, 4, 3), np.float32),
                      np.zeros((4, 5), np.float32))
