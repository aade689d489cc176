"""Fuzz ``matte`` and ``eval`` with random bytes, truncated files and odd sizes.

Whatever the files hold, a run must end with an exit code (no traceback), leave every
input as it was, and leave no partial or temporary file: each file in an output folder
is a complete image. Runs in-process on tiny images with cheap stages (given trimaps,
closed-form); derandomised so that CI is reproducible.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import snapshot
from trimatte.cli.main import main
from trimatte.cli.outputs import RECORD_NAME

sizes = st.tuples(st.integers(1, 14), st.integers(1, 14))


@st.composite
def image_bytes(draw, kind: str, size: tuple[int, int]) -> bytes:
    """An encoded image (``kind`` "image", "trimap" or "alpha"), often spoiled."""
    spoil = draw(st.sampled_from(["none", "none", "none", "truncate", "random", "empty", "size"]))
    if spoil == "random":
        return draw(st.binary(min_size=1, max_size=64))
    if spoil == "empty":
        return b""
    h, w = draw(sizes) if spoil == "size" else size
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "trimap":
        array = rng.choice(np.array([0, 128, 255], np.uint8), size=(h, w))
    elif kind == "alpha":
        array = rng.integers(0, 256, (h, w), dtype=np.uint8)
    else:
        channels = draw(st.sampled_from([1, 3, 4]))
        depth = draw(st.sampled_from([np.uint8, np.uint16]))
        array = rng.integers(0, np.iinfo(depth).max, (h, w, channels), dtype=depth).squeeze()
    suffix = ".png" if kind != "image" or array.dtype != np.uint8 else draw(
        st.sampled_from([".png", ".jpg", ".bmp"])
    )
    ok, buffer = cv2.imencode(suffix, array)
    data = buffer.tobytes() if ok else b""
    if spoil == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    return data


@st.composite
def datasets(draw):
    names = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    data = {}
    for name in names:
        size = draw(sizes)
        data[name] = {kind: draw(image_bytes(kind, size)) for kind in ("image", "trimap", "alpha")}
    return data


def check_outputs(folder: Path) -> None:
    if not folder.exists():
        return
    for path in folder.rglob("*"):
        assert not path.name.endswith(".tmp"), f"temporary file left: {path}"
        if path.name == RECORD_NAME:
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        else:
            assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is not None, f"partial: {path}"


def assert_one_line_messages(capsys) -> None:
    """stderr holds only ``trimatte:`` lines (and progress bars): no traceback, no noise
    from OpenCV or libpng."""
    err = capsys.readouterr().err
    for line in err.replace("\r", "\n").splitlines():
        if line.strip() and not line.startswith(("evaluating", "matting")):
            assert line.startswith("trimatte: "), err


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=datasets())
def test_matte_and_eval_survive_any_file(data, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for sub in ("images", "trimaps", "alphas"):
            (root / sub).mkdir()
        for name, files in data.items():
            (root / "images" / f"{name}.png").write_bytes(files["image"])
            (root / "trimaps" / f"{name}.png").write_bytes(files["trimap"])
            (root / "alphas" / f"{name}.png").write_bytes(files["alpha"])
        before = snapshot(root / "images", root / "trimaps", root / "alphas")

        code = main(["matte", str(root / "images"), "-o", str(root / "out"),
                     "--trimap", str(root / "trimaps"), "--matting", "closed-form",
                     "--save", "alpha,cutout,trimap", "--workers", "1",
                     "--contact-sheet", str(root / "sheet" / "s.png")])
        assert code in (0, 1)
        assert_one_line_messages(capsys)
        code = main(["eval", "--images", str(root / "images"), "--alphas", str(root / "alphas"),
                     "--trimaps", str(root / "trimaps"), "--matting", "closed-form",
                     "--save-pred", str(root / "pred"), "--json", str(root / "s.json")])
        assert code in (0, 1)
        assert_one_line_messages(capsys)

        assert snapshot(root / "images", root / "trimaps", root / "alphas") == before
        for folder in ("out", "sheet", "pred"):
            check_outputs(root / folder)
        assert not list(root.glob("*.tmp"))
        if (root / "s.json").exists():
            json.loads((root / "s.json").read_text())
