"""Jobs survive a restart: state reloaded, unfinished images run again, no corrupt files."""

from __future__ import annotations

import io
import json
import zipfile

import cv2
import numpy as np

from tests.server.conftest import disc_png, wait_job
from trimatte.server.jobs import JobStore
from trimatte.server.work import resolve_pipeline


def interrupted_job(root):
    """A job as a server killed mid-run leaves it: one image done, one running with a
    half-written result (temporary file), one queued, and one done whose file is gone."""
    store = JobStore(root)
    wanted = ["alpha"]
    config = resolve_pipeline("grabcut-hard", None, wanted)
    files = [(f"{i}.png", disc_png(40, seed=i), None) for i in range(4)]
    job = store.create(files, config=config, wanted=wanted, pipeline="grabcut-hard",
                       options={"rect": [1, 1, 38, 38]})
    job_id = job["id"]
    results = root / job_id / "results"
    store.write_outputs(job_id, 0, {"alpha": b"\x89PNG finished earlier"})
    store.update_item(job_id, 0, status="done", outputs={"alpha": "0_alpha.png"})
    (results / ".1_alpha.png.abc123.tmp").write_bytes(b"\x89PNG half writ")
    store.update_item(job_id, 1, status="running")
    store.update_item(job_id, 3, status="done", outputs={"alpha": "3_alpha.png"})
    store.update(job_id, status="running")
    (root / ("0" * 32)).mkdir()
    (root / ("0" * 32) / "job.json").write_text("{ not json")  # a state file that is garbage
    return job_id


def test_recover_requeues_unfinished_items(tmp_path):
    job_id = interrupted_job(tmp_path)
    store = JobStore(tmp_path)
    assert store.recover() == [job_id]
    job = store.get(job_id)
    assert [item["status"] for item in job["items"]] == ["done", "queued", "queued", "queued"]
    assert job["status"] == "queued" and job["restarts"] == 1
    assert not list((tmp_path / job_id / "results").glob(".*.tmp"))
    saved = json.loads((tmp_path / job_id / "job.json").read_text())
    assert saved["items"][1]["status"] == "queued"


def test_restarted_server_finishes_the_job(make_client, tmp_path):
    job_id = interrupted_job(tmp_path / "jobs")
    client = make_client(jobs_dir=tmp_path / "jobs")  # a new server on the same folder
    state = wait_job(client, job_id)
    assert state["status"] == "done" and state["restarts"] == 1
    assert [item["status"] for item in state["items"]] == ["done"] * 4
    archive = zipfile.ZipFile(io.BytesIO(client.get(state["result"]).content))
    assert sorted(archive.namelist()) == ["0_alpha.png", "1_alpha.png", "2_alpha.png",
                                          "3_alpha.png", "report.json"]
    for name in ("1_alpha.png", "2_alpha.png", "3_alpha.png"):
        alpha = cv2.imdecode(np.frombuffer(archive.read(name), np.uint8), -1)
        assert alpha.shape == (40, 40) and alpha.max() == 255
    assert archive.read("0_alpha.png") == b"\x89PNG finished earlier"  # kept, not redone
    assert client.get(f"/v1/jobs/{'0' * 32}").status_code == 404  # the garbage one: skipped
