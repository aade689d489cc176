"""``trimatte matte --scheduler``: the CLI's batch on a Dask cluster writes the same files."""

from __future__ import annotations

from tests.server.conftest import FAST, disc_png
from trimatte.cli.main import main

FLAGS = ["--trimap-method", "grabcut", "--matting", "grabcut-hard", "--rect", FAST["rect"],
         "--save", "alpha,cutout"]


def test_matte_on_a_dask_scheduler_matches_local(tmp_path, capsys):
    from distributed import LocalCluster

    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(3):
        (photos / f"p{seed}.png").write_bytes(disc_png(56, seed=seed))
    (photos / "broken.png").write_bytes(b"not an image")
    assert main(["matte", str(photos), "-o", str(tmp_path / "local"), "--workers", "1",
                 *FLAGS]) == 1  # one bad file: reported, the rest written
    local_err = capsys.readouterr().err
    with LocalCluster(n_workers=1, processes=False, dashboard_address="127.0.0.1:0") as cluster:
        assert main(["matte", str(photos), "-o", str(tmp_path / "dask"), "--scheduler",
                     cluster.scheduler_address, *FLAGS]) == 1
    dask_err = capsys.readouterr().err
    written = sorted(p.name for p in (tmp_path / "local").glob("*.png"))
    assert len(written) == 6
    assert written == sorted(p.name for p in (tmp_path / "dask").glob("*.png"))
    for name in written:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()
    assert "broken.png" in local_err and "broken.png" in dask_err


def test_bad_scheduler_is_one_line(tmp_path, capsys):
    (tmp_path / "p.png").write_bytes(disc_png(40))
    assert main(["matte", str(tmp_path / "p.png"), "-o", str(tmp_path / "out"),
                 "--scheduler", "localhost:8786", *FLAGS]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "tcp://" in err[0]
