import os
import warnings

import cv2
import numpy as np
import pytest

from trimatte import io
from trimatte.errors import InputError, TrimatteWarning


def _write(path, array):
    assert cv2.imwrite(str(path), array)
    return path


def test_read_image_8bit_png_is_rgb(tmp_path):
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 2] = 255  # red in BGR
    image = io.read_image(_write(tmp_path / "red.png", bgr))
    assert image.dtype == np.float32 and image.shape == (4, 5, 3)
    np.testing.assert_allclose(image[0, 0], [1.0, 0.0, 0.0])


def test_read_image_16bit_keeps_precision(tmp_path):
    bgr = np.full((3, 3, 3), 257 * 100 + 1, np.uint16)
    image = io.read_image(_write(tmp_path / "deep.png", bgr))
    np.testing.assert_allclose(image, (257 * 100 + 1) / 65535, rtol=1e-6)


def test_read_image_gray(tmp_path):
    image = io.read_image(_write(tmp_path / "g.png", np.full((3, 4), 128, np.uint8)))
    assert image.shape == (3, 4, 3)


def test_read_image_rgba_warns_and_drops_alpha(tmp_path):
    bgra = np.zeros((3, 3, 4), np.uint8)
    bgra[..., 3] = 10
    with pytest.warns(TrimatteWarning, match="alpha channel"):
        image = io.read_image(_write(tmp_path / "rgba.png", bgra))
    assert image.shape == (3, 3, 3)


def test_read_image_applies_exif_orientation(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    # 2 rows x 3 columns, left column white; orientation 6 = rotate 90° clockwise to display.
    data = np.zeros((2, 3, 3), np.uint8)
    data[:, 0] = 255
    img = pil.fromarray(data)
    exif = img.getexif()
    exif[0x0112] = 6
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif, quality=100)
    image = io.read_image(path)
    assert image.shape == (3, 2, 3)
    assert image[0].mean() > 0.8  # the white column became the top row


@pytest.mark.parametrize("reader", [io.read_image, io.read_alpha, io.read_trimap])
def test_missing_corrupt_and_empty_files_name_the_file(tmp_path, reader):
    with pytest.raises(InputError, match="not found") as info:
        reader(tmp_path / "nope.png")
    assert "nope.png" in str(info.value)
    corrupt = tmp_path / "bad.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match="not a readable image"):
        reader(corrupt)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        reader(empty)
    with pytest.raises(InputError, match="folder"):
        reader(tmp_path)


def test_read_alpha_from_rgba_uses_fourth_channel(tmp_path):
    bgra = np.zeros((2, 2, 4), np.uint8)
    bgra[..., 3] = 51
    np.testing.assert_allclose(io.read_alpha(_write(tmp_path / "m.png", bgra)), 0.2)


def test_read_alpha_16bit_and_colour_rejected(tmp_path):
    np.testing.assert_allclose(
        io.read_alpha(_write(tmp_path / "a16.png", np.full((2, 2), 65535, np.uint16))), 1.0
    )
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[..., 1] = 9
    with pytest.raises(InputError, match="grayscale"):
        io.read_alpha(_write(tmp_path / "c.png", colour))


def test_write_alpha_round_trip_8_and_16_bit(tmp_path):
    alpha = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    io.write_alpha(tmp_path / "a8.png", alpha)
    io.write_alpha(tmp_path / "a16.png", alpha, bits=16)
    assert np.abs(io.read_alpha(tmp_path / "a8.png") - alpha).max() <= 0.5 / 255 + 1e-6
    assert np.abs(io.read_alpha(tmp_path / "a16.png") - alpha).max() <= 1e-4
    assert cv2.imread(str(tmp_path / "a8.png"), cv2.IMREAD_UNCHANGED).ndim == 2


def test_write_rgba_and_trimap(tmp_path):
    image = np.random.default_rng(0).random((4, 4, 3)).astype(np.float32)
    alpha = np.full((4, 4), 0.5, np.float32)
    raw = cv2.imread(str(io.write_rgba(tmp_path / "c.png", image, alpha)), cv2.IMREAD_UNCHANGED)
    assert raw.shape == (4, 4, 4) and (raw[..., 3] == 128).all()
    trimap = np.array([[0, 128], [255, 128]], np.uint8)
    written = io.write_trimap(tmp_path / "t.png", trimap)
    np.testing.assert_array_equal(io.read_trimap(written), trimap)


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        io.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_atomic_write_gives_files_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = io.atomic_write_bytes(tmp_path / "f.bin", b"x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_write_image_creates_folders(tmp_path):
    out = io.write_image(tmp_path / "a" / "b" / "x.jpg", np.zeros((2, 2, 3), np.float32))
    assert out.is_file()


def test_list_images_and_find_by_stem(tmp_path):
    for name in ("b.jpg", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in io.list_images(tmp_path)] == ["a.png", "b.jpg"]
    assert io.find_by_stem(tmp_path, "b").name == "b.jpg"
    assert io.find_by_stem(tmp_path, "zzz") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match="expected a folder"):
            io.list_images(tmp_path / "a.png")
        with pytest.raises(InputError, match="missing: folder not found"):
            io.list_images(tmp_path / "missing")


def test_find_trimap_accepts_both_names_and_never_the_image(tmp_path):
    (tmp_path / "x.png").write_bytes(b"x")
    assert io.find_trimap(tmp_path, "x") == tmp_path / "x.png"
    assert io.find_trimap(tmp_path, "x", exclude=tmp_path / "x.png") is None
    (tmp_path / "x_trimap.png").write_bytes(b"x")
    assert io.find_trimap(tmp_path, "x", exclude=tmp_path / "x.png") == tmp_path / "x_trimap.png"


def test_atomic_write_names_its_temporary_file_after_the_process(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(io.os, "replace", lambda a, b: seen.append(a) or real_replace(a, b))
    io.atomic_write_bytes(tmp_path / "f.bin", b"data")
    (name,) = [os.path.basename(p) for p in seen]
    assert name.startswith(f".f.bin.{os.getpid()}.") and name.endswith(".tmp")


def test_remove_stale_temp_files_keeps_live_writers(tmp_path):
    import subprocess
    import sys
    import time

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    names = {
        f".a.png.{dead_pid}.abc123.tmp": True,  # its writer is gone
        ".a.png.1.abc123.tmp": False,  # pid 1 is alive
        f".a.png.{os.getpid()}.abc123.tmp": False,  # ours, maybe in flight
        ".legacy.pt.abc123.tmp": True,  # no pid, old
        ".fresh.pt.abc123.tmp": False,  # no pid, young
        "a.png": False,
        ".hidden.tmp": False,
    }
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    old = time.time() - 3600
    os.utime(tmp_path / ".legacy.pt.abc123.tmp", (old, old))
    removed = {p.name for p in io.remove_stale_temp_files(tmp_path)}
    assert removed == {n for n, stale in names.items() if stale}
    assert {p.name for p in tmp_path.iterdir()} == {n for n, s in names.items() if not s}
    own = {p.name for p in io.remove_stale_temp_files(tmp_path, include_own=True)}
    assert own == {f".a.png.{os.getpid()}.abc123.tmp"}
    assert io.remove_stale_temp_files(tmp_path / "missing") == []
