"""HTTP API: every endpoint, good and bad requests (TestClient, a thread Dask worker)."""

from __future__ import annotations

import io
import json
import zipfile

import cv2
import numpy as np
import pytest

from tests.server.conftest import FAST, disc_png
from tests.server.test_limits import bomb_png
from trimatte.server.limits import Limits


def png(array: np.ndarray) -> bytes:
    return cv2.imencode(".png", array)[1].tobytes()


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def test_health_pipelines_docs(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["workers"] == 1
    info = client.get("/v1/pipelines").json()
    assert "grabcut-hard" in info["pipelines"] and "closed-form" in info["stages"]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/matte", "/v1/jobs", "/v1/jobs/{job_id}", "/health"} <= set(paths)
    page = client.get("/")
    assert page.status_code == 200 and "trimatte" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/..%2Fapp.py").status_code == 404


def test_matte_matches_the_cli(client, tmp_path):
    from trimatte.cli.main import main

    data = disc_png(56, seed=3)
    response = client.post("/v1/matte", files={"image": ("photo.png", data)},
                           data={**FAST, "outputs": "alpha"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert "photo_alpha.png" in response.headers["content-disposition"]
    assert set(json.loads(response.headers["x-trimatte-timings"])) >= {"alpha:grabcut-hard"}
    (tmp_path / "photo.png").write_bytes(data)
    assert main(["matte", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out"),
                 "--trimap-method", "grabcut", "--matting", "grabcut-hard",
                 "--rect", FAST["rect"], "--save", "alpha", "--workers", "1"]) == 0
    assert response.content == (tmp_path / "out" / "photo_alpha.png").read_bytes()


def test_matte_zip_with_trimap_and_background(client):
    data = disc_png(56)
    trimap = np.zeros((56, 56), np.uint8)
    cv2.circle(trimap, (28, 28), 20, 128, -1)
    cv2.circle(trimap, (28, 28), 12, 255, -1)
    background = disc_png(40, seed=9, suffix=".jpg")
    response = client.post(
        "/v1/matte",
        files={"image": ("p.jpg", data), "trimap": ("t.png", png(trimap)),
               "background_image": ("bg.jpg", background)},
        data={"pipeline": "grabcut-hard", "outputs": "alpha,cutout,trimap,composite"})
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["p_alpha.png", "p_composite.png", "p_cutout.png",
                                          "p_trimap.png"]
    assert np.array_equal(decode(archive.read("p_trimap.png")), trimap)  # the given trimap
    assert decode(archive.read("p_cutout.png")).shape == (56, 56, 4)
    composite = decode(archive.read("p_composite.png"))
    assert composite.shape == (56, 56, 3)
    assert np.abs(composite[2, 2].astype(int) - [230, 230, 230]).max() > 10  # not white


@pytest.mark.parametrize("case, status, words", [
    ("non-image", 415, "not an image"),
    ("bomb", 413, "pixels"),
    ("oversized", 413, "bytes"),
    ("unknown pipeline", 422, "unknown pipeline"),
    ("bad config", 422, "unknown stage"),
    ("broken config", 422, "cannot parse"),
    ("config without alpha", 422, "no alpha stage"),
    ("path in config", 422, "file path"),
    ("path as background", 422, "file path"),
    ("existing file as background", 422, "file path"),
    ("bad colour", 422, "colour"),
    ("bad rect", 422, "X,Y,W,H"),
    ("bad outputs", 422, "unknown output"),
    ("trimap of another size", 422, "trimap"),
])
def test_matte_bad_requests(make_client, case, status, words):
    client = make_client(limits=Limits(max_upload_bytes=20_000, max_pixels=100_000))
    files = {"image": ("p.png", disc_png(56))}
    data = dict(FAST)
    if case == "non-image":
        files = {"image": ("p.png", b"GIF89a not really")}
    elif case == "bomb":
        files = {"image": ("p.png", bomb_png(30_000, 30_000))}
    elif case == "oversized":
        files = {"image": ("p.png", disc_png(56) + b"\0" * 30_000)}
    elif case == "unknown pipeline":
        data["pipeline"] = "../../etc/passwd"
    elif case == "bad config":
        data["config"] = json.dumps({"stages": [{"name": "no-such-stage"}]})
    elif case == "broken config":
        data["config"] = "stages: [unclosed"
    elif case == "config without alpha":
        data["config"] = "stages:\n  - name: grabcut\n"
    elif case == "path in config":
        data["config"] = json.dumps({"stages": [
            {"name": "grabcut"}, {"name": "grabcut-hard"},
            {"name": "composite", "params": {"background": "/etc/hosts"}}]})
    elif case == "path as background":
        data["background"] = "../../photos/secret.png"
    elif case == "existing file as background":
        data["background"] = "setup.cfg"
    elif case == "bad colour":
        data["background"] = "ultraviolet"
    elif case == "bad rect":
        data["rect"] = "1,2,three"
    elif case == "bad outputs":
        data["outputs"] = "alpha,/etc/passwd"
    elif case == "trimap of another size":
        files["trimap"] = ("t.png", png(np.full((20, 20), 128, np.uint8)))
    response = client.post("/v1/matte", files=files, data=data)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail
    assert words in detail
    assert "/tmp/" not in detail and "trimatte-" not in detail  # no server paths


def test_body_limit_and_token(make_client):
    client = make_client(token="s3cret", limits=Limits(max_request_bytes=50_000))
    files = {"image": ("p.png", disc_png(56))}
    assert client.post("/v1/matte", files=files, data=FAST).status_code == 401
    assert client.get("/v1/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    auth = {"Authorization": "Bearer s3cret"}
    assert client.post("/v1/matte", files=files, data={**FAST, "outputs": "alpha"},
                       headers=auth).status_code == 200
    big = client.post("/v1/matte", files={"image": ("p.png", b"\0" * 60_000)}, headers=auth)
    assert big.status_code == 413
    assert client.get("/health").status_code == 200  # health and page need no token
    assert "access-control-allow-origin" not in client.get(
        "/health", headers={"Origin": "http://evil.example"}).headers


def test_busy_answers_503_with_retry_after(make_client):
    client = make_client(limits=Limits(max_active_requests=1, max_queued_images=3,
                                       retry_after_s=7))
    client.app.state.gate.active = 1  # one request already in progress
    response = client.post("/v1/matte", files={"image": ("p.png", disc_png(56))}, data=FAST)
    assert response.status_code == 503 and response.headers["retry-after"] == "7"
    # refused before the body is read: even a request that is not an upload at all
    response = client.post("/v1/refine", content=b"x" * 100)
    assert response.status_code == 503 and "busy" in response.json()["detail"]
    client.app.state.gate.active = 0
    files = [("files", (f"{i}.png", disc_png(40, seed=i))) for i in range(4)]
    response = client.post("/v1/jobs", files=files, data=FAST)
    assert response.status_code == 503 and response.headers["retry-after"] == "7"
    assert client.get("/health").json()["queued_images"] == 0  # nothing was queued


def test_refine_applies_editor_strokes(client):
    from tests.server.conftest import disc_png as photo

    trimap = np.full((56, 56), 128, np.uint8)
    trimap[:6], trimap[-6:] = 0, 0
    trimap[24:32, 24:32] = 255
    strokes = [{"label": "background", "radius": 3, "points": [[2, 30], [10, 30]]},
               {"label": "foreground", "radius": 2, "points": [[28, 20]]}]
    response = client.post(
        "/v1/refine",
        files={"image": ("p.png", photo(56)), "trimap": ("t.png", png(trimap))},
        data={"strokes": json.dumps(strokes), "pipeline": "grabcut-hard",
              "outputs": "alpha"})
    assert response.status_code == 200, response.text
    import base64

    outputs = {k: decode(base64.b64decode(v)) for k, v in response.json()["outputs"].items()}
    assert set(outputs) == {"alpha", "trimap"}
    edited = outputs["trimap"]
    assert (edited[27:34, 2:11] == 0).all() and edited[20, 28] == 255
    assert edited[45, 45] == 128  # untouched
    bad = client.post("/v1/refine", files={"image": ("p.png", photo(56)),
                                           "trimap": ("t.png", png(trimap))},
                      data={"strokes": json.dumps([{"label": "purple", "points": [[1, 1]]}])})
    assert bad.status_code == 422 and "strokes[0].label" in bad.json()["detail"]
    assert client.post("/v1/refine", files={"image": ("p.png", photo(56)),
                                            "trimap": ("t.png", b"nope")},
                       data={"strokes": "[]"}).status_code == 415
