"""Batch jobs over HTTP: create, poll, per-item files, zip, cancel, delete, bad items."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile

import cv2
import numpy as np

from tests.server.conftest import FAST, disc_png, wait_job
from trimatte.server.limits import Limits


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_job_end_to_end(client):
    files = [("files", ("a.png", disc_png(48, seed=1))),
             ("files", ("../../escape/b.jpg", disc_png(48, seed=2, suffix=".jpg"))),
             ("files", ("notes.txt", b"just some text")),
             ("files", ("photos.zip", zip_of({"dir/a.png": disc_png(48, seed=4),
                                              "dir/.DS_Store": b"\0\0",
                                              "__MACOSX/dir/._a.png": b"junk"})))]
    response = client.post("/v1/jobs", files=files, data={**FAST, "outputs": "alpha,cutout"})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert response.json()["images"] == 4
    state = wait_job(client, job_id)
    assert state["status"] == "done" and state["progress"] == 1.0
    assert state["counts"]["done"] == 3 and state["counts"]["failed"] == 1
    names = [item["name"] for item in state["items"]]
    assert names == ["a.png", "b.jpg", "notes.txt", "a.png"]
    failed = state["items"][2]
    assert failed["status"] == "failed" and "not an image" in failed["error"]
    first, last = state["items"][0], state["items"][3]
    alpha = client.get(first["outputs"]["alpha"])
    assert alpha.status_code == 200
    assert cv2.imdecode(np.frombuffer(alpha.content, np.uint8), -1).shape == (48, 48)
    assert client.get(first["input"]).content == disc_png(48, seed=1)
    assert client.get(last["outputs"]["cutout"]).status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(client.get(state["result"]).content))
    assert sorted(archive.namelist()) == sorted([
        "a_alpha.png", "a_cutout.png", "b_alpha.png", "b_cutout.png",
        "a_2_alpha.png", "a_2_cutout.png", "report.json"])  # same stem twice: no overwrite
    report = json.loads(archive.read("report.json"))
    assert [r["status"] for r in report] == ["done", "done", "failed", "done"]
    for name in archive.namelist():
        if name.endswith(".png"):
            assert cv2.imdecode(np.frombuffer(archive.read(name), np.uint8), -1) is not None
    assert any(j["id"] == job_id for j in client.get("/v1/jobs").json())
    deleted = client.delete(f"/v1/jobs/{job_id}")
    assert deleted.json()["status"] == "deleted"
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404


def test_job_lookups_never_touch_paths(client):
    for bad in ("../../etc", "0" * 31 + "g", "..%2F..%2Fetc%2Fpasswd"):
        assert client.get(f"/v1/jobs/{bad}").status_code == 404
    assert client.get(f"/v1/jobs/{'0' * 32}/result.zip").status_code == 404
    job_id = client.post("/v1/jobs", files=[("files", ("a.png", disc_png(40)))],
                         data=FAST).json()["id"]
    wait_job(client, job_id)
    assert client.get(f"/v1/jobs/{job_id}/items/5/alpha").status_code == 404
    assert client.get(f"/v1/jobs/{job_id}/items/0/..%2F..%2Fjob.json").status_code == 404
    assert client.get(f"/v1/jobs/{job_id}/items/0/composite").status_code == 404


def test_job_bad_requests(client):
    assert client.post("/v1/jobs", data=FAST).status_code == 422  # no files
    files = [("files", ("a.png", disc_png(40)))]
    response = client.post("/v1/jobs", files=files, data={"pipeline": "nope"})
    assert response.status_code == 422 and "unknown pipeline" in response.json()["detail"]
    response = client.post("/v1/jobs", files=[("files", ("x.zip", b"PK\x03\x04broken"))])
    assert response.status_code == 415
    assert client.get("/health").json()["queued_images"] == 0


def test_zip_bomb_stops_at_the_request_limit(make_client):
    client = make_client(limits=Limits(max_request_bytes=200_000, max_upload_bytes=100_000))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(5):  # ~100 bytes each packed, 90 kB each unpacked
            archive.writestr(f"{i}.png", b"\x89PNG\r\n\x1a\n" + bytes(90_000))
    assert len(buffer.getvalue()) < 5_000
    response = client.post("/v1/jobs", files=[("files", ("bomb.zip", buffer.getvalue()))])
    assert response.status_code == 413 and "unpacks to more than" in response.json()["detail"]


def test_cancel_a_running_job(client):
    release = threading.Event()
    store = client.app.state.store
    original = store.write_outputs

    def slow_write(job_id, index, outputs):  # hold the job after its first image
        release.wait(10)
        return original(job_id, index, outputs)

    store.write_outputs = slow_write
    files = [("files", (f"{i}.png", disc_png(56, seed=i))) for i in range(6)]
    job_id = client.post("/v1/jobs", files=files, data=FAST).json()["id"]
    assert client.get(f"/v1/jobs/{job_id}/result.zip").status_code == 409
    threading.Timer(0.5, release.set).start()
    state = client.delete(f"/v1/jobs/{job_id}").json()
    assert state["status"] == "cancelled"
    assert state["counts"]["cancelled"] >= 1
    # the image being written when the job was cancelled may still finish: wait for it
    deadline = time.monotonic() + 30
    final = client.get(f"/v1/jobs/{job_id}").json()
    while final["counts"]["done"] + final["counts"]["cancelled"] < 6:
        assert time.monotonic() < deadline, (final["counts"],
                                              [i.get("error") for i in final.get("items", [])])
        time.sleep(0.1)
        final = client.get(f"/v1/jobs/{job_id}").json()
    assert final["counts"]["done"] + final["counts"]["cancelled"] == 6
    assert final["status"] == "cancelled"
    assert client.get(f"/v1/jobs/{job_id}/result.zip").status_code == 200
