"""``--workers N`` gives the same files and messages as a sequential run (issue 13, item 3)."""

import re

import numpy as np

from tests.cli.conftest import snapshot, write_scene


def test_two_workers_write_the_same_files_and_messages_as_one(tmp_path, cli):
    images, trimaps = tmp_path / "images", tmp_path / "trimaps"
    write_scene(images, names=("a", "b", "c", "d"), trimaps=trimaps)
    (images / "b.png").write_bytes(b"broken")  # a failure in the middle
    (trimaps / "c.png").write_bytes(np.full(8, 7, np.uint8).tobytes())
    runs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        code, stdout, err = cli("matte", images, "-o", out, "--trimap", trimaps,
                                "--matting", "closed-form", "--save", "alpha,cutout",
                                "--workers", workers, "--contact-sheet", out / "sheet.png")
        files = {p.relative_to(out): data for p, data in snapshot(out).items()}
        timeless = re.sub(r"in \d+\.\d s", "in _ s", stdout.replace(str(out), "OUT"))
        messages = [line.replace(str(out), "OUT") for line in err.splitlines()
                    if line.startswith("trimatte:")]
        runs[workers] = (code, files, timeless, messages)
    assert runs["1"][0] == 1
    assert runs["1"] == runs["2"]
    assert len(runs["1"][3]) == 2  # b (not an image) and c (bad trimap), in input order
    assert "b.png" in runs["1"][3][0] and "c.png" in runs["1"][3][1]
