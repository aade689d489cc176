"""HTTP routes of the matting server (see :func:`trimatte.server.app.create_app`).

Every ``/v1`` route reads its uploads through :func:`read_upload` (size cap) and
:func:`~trimatte.server.limits.check_image_bytes` (format and pixel limits, from
the header) before anything is queued, and resolves the pipeline with
:func:`~trimatte.server.work.resolve_pipeline` first, so a bad request fails in
milliseconds with one line, never after minutes of work.
"""

from __future__ import annotations

import base64
import hmac
import io
import json
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from trimatte import __version__
from trimatte.cli.matte import parse_rect
from trimatte.cli.outputs import OUTPUT_SUFFIXES as SUFFIX
from trimatte.errors import InputError
from trimatte.foreground.compositing import parse_color
from trimatte.server.jobs import ACTIVE, check_job_id
from trimatte.server.limits import (
    ZIP_MAGIC,
    Busy,
    Limits,
    RequestRejected,
    check_image_bytes,
    check_no_paths,
    safe_filename,
)
from trimatte.server.work import (
    OUTPUTS,
    PIPELINES,
    check_strokes,
    matte_bytes,
    parse_outputs,
    refine_bytes,
    resolve_pipeline,
)

STATIC = Path(__file__).parent / "static"
router = APIRouter()
api = APIRouter()


def auth(token: str | None) -> list:
    """The dependency list of ``/v1``: a Bearer token check when ``token`` is set."""
    if not token:
        return []
    expected = f"Bearer {token}".encode()

    def check(request: Request) -> None:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong API token (Authorization: Bearer ...)",
                                headers={"WWW-Authenticate": "Bearer"})

    return [Depends(check)]


# ----------------------------------------------------------------------------- helpers


async def read_upload(upload: UploadFile, limits: Limits, what: str) -> tuple[str, bytes]:
    """``(safe name, bytes)`` of an upload, refusing it (413) past the upload limit."""
    data = await upload.read(limits.max_upload_bytes + 1)
    name = safe_filename(upload.filename, what)
    if len(data) > limits.max_upload_bytes:
        raise RequestRejected(f"file is over the limit of {limits.max_upload_bytes} bytes",
                              name, status=413)
    return name, data


async def read_image_upload(upload: UploadFile | None, limits: Limits, what: str
                            ) -> tuple[str, bytes] | None:
    if upload is None:
        return None
    name, data = await read_upload(upload, limits, what)
    check_image_bytes(data, name, limits)
    return name, data


def check_background(background: str | None) -> str | None:
    """A colour (name, #rrggbb, r,g,b); never a file name (images come as uploads)."""
    if background is not None:
        check_no_paths(background, "background")
        parse_color(background)
    return background


def rect_of(rect: str | None) -> tuple[int, int, int, int] | None:
    check_no_paths(rect or "", "rect")
    return parse_rect(rect) if rect else None


def _state(request: Request) -> Any:
    return request.app.state


def _run(state: Any, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """One task on the engine, waited for at most the request timeout (then 504)."""
    timeout = state.settings.limits.request_timeout_s
    try:
        return state.engine.run(fn, *args, timeout=timeout, **kwargs)
    except TimeoutError:
        raise RequestRejected(f"no result within {timeout} s", "server", status=504) from None


# ----------------------------------------------------------------------------- page, health


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    if name not in files:
        raise HTTPException(404, "not found")
    return FileResponse(files[name])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Liveness, the Dask engine, and how busy the server is."""
    state = _state(request)
    return {
        "status": "ok",
        "version": __version__,
        "engine": state.engine.describe(),
        "workers": state.engine.n_workers(),
        "queued_images": state.store.queued_images(),
        "active_requests": state.gate.active,
    }


@api.get("/pipelines")
def pipelines() -> dict[str, Any]:
    """Named pipelines (the CLI's stage flags), outputs, and stage names for configs."""
    from trimatte.pipeline import STAGES

    return {"pipelines": PIPELINES, "default": "default", "outputs": list(OUTPUTS),
            "stages": STAGES.names()}


# ----------------------------------------------------------------------------- one image


@api.post("/matte", responses={200: {"content": {"image/png": {}, "application/zip": {}}}})
async def matte(
    request: Request,
    image: Annotated[UploadFile, File(description="the photo (PNG, JPEG, BMP, TIFF, WebP)")],
    trimap: Annotated[UploadFile | None, File(description="trimap (0/128/255)")] = None,
    background_image: Annotated[UploadFile | None, File(description="composite background")
                                ] = None,
    plate: Annotated[UploadFile | None, File(description="clean plate of the scene")] = None,
    pipeline: Annotated[str | None, Form(description=f"one of {', '.join(PIPELINES)}")] = None,
    config: Annotated[str | None, Form(description="pipeline config, JSON or YAML")] = None,
    rect: Annotated[str | None, Form(description="GrabCut rectangle X,Y,W,H")] = None,
    outputs: Annotated[str, Form(description=f"comma-separated among {', '.join(OUTPUTS)}")
                       ] = "cutout",
    background: Annotated[str | None, Form(description="composite background colour")] = None,
    archive: Annotated[bool, Form(description="answer a zip even for one output")] = False,
) -> Response:
    """Matte one image; answers the PNG (one output) or a zip of them."""
    state = _state(request)
    limits: Limits = state.settings.limits
    wanted = parse_outputs(outputs)
    hints = {"rect": rect_of(rect)}
    check_background(background)
    name, data = await read_image_upload(image, limits, "image")
    extra = {what: await read_image_upload(upload, limits, what)
             for what, upload in (("trimap", trimap), ("background", background_image),
                                  ("plate", plate))}
    spec = resolve_pipeline(pipeline, config, wanted, given_trimap=extra["trimap"] is not None,
                            background=background)
    kwargs = {"trimap": extra["trimap"] and extra["trimap"][1],
              "background_image": extra["background"] and extra["background"][1],
              "plate": extra["plate"] and extra["plate"][1], **hints}
    with state.gate.enter():
        result = await run_in_threadpool(_run, state, matte_bytes, name, data, spec, wanted,
                                         **kwargs)
    if not result["ok"]:
        raise RequestRejected(result["error"], status=422)
    headers = {"X-Trimatte-Warnings": json.dumps(result["warnings"], ensure_ascii=True),
               "X-Trimatte-Timings": json.dumps(result["timings"]),
               "X-Trimatte-Confidence": json.dumps(result.get("confidence"))}
    stem = Path(name).stem
    if len(wanted) == 1 and not archive:
        what = wanted[0]
        headers["Content-Disposition"] = f'attachment; filename="{stem}{SUFFIX[what]}"'
        return Response(result["outputs"][what], media_type="image/png", headers=headers)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        for what, payload in result["outputs"].items():
            zipped.writestr(f"{stem}{SUFFIX[what]}", payload)
    headers["Content-Disposition"] = f'attachment; filename="{stem}.zip"'
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)


@api.post("/refine")
async def refine(
    request: Request,
    image: Annotated[UploadFile, File(description="the photo")],
    trimap: Annotated[UploadFile, File(description="the trimap to correct")],
    strokes: Annotated[str, Form(description='JSON [{"label": "foreground", "radius": 8, '
                                 '"points": [[x, y], ...]}, ...]')],
    pipeline: Annotated[str | None, Form()] = None,
    config: Annotated[str | None, Form()] = None,
    outputs: Annotated[str, Form()] = "cutout,alpha,trimap",
    background: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Brush strokes over a trimap with the editor's brush, then matte with that trimap.

    Answers JSON with the outputs as base64 PNGs (the edited trimap always included).
    """
    state = _state(request)
    limits: Limits = state.settings.limits
    wanted = parse_outputs(outputs)
    check_background(background)
    try:
        painted = check_strokes(json.loads(strokes))
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg})", "strokes") from None
    name, data = await read_image_upload(image, limits, "image")
    _, trimap_data = await read_image_upload(trimap, limits, "trimap")
    spec = resolve_pipeline(pipeline, config, wanted, given_trimap=True, background=background)
    with state.gate.enter():
        result = await run_in_threadpool(_run, state, refine_bytes, name, data, trimap_data,
                                         painted, spec, wanted)
    if not result["ok"]:
        raise RequestRejected(result["error"], status=422)
    return {"name": result["name"], "warnings": result["warnings"], "timings": result["timings"],
            "confidence": result.get("confidence"),
            "outputs": {what: base64.b64encode(payload).decode()
                        for what, payload in result["outputs"].items()}}


# ----------------------------------------------------------------------------- batch jobs


def _expand(name: str, data: bytes, limits: Limits, budget: list[int]
            ) -> list[tuple[str, bytes | None, str | None]]:
    """The images of one upload: itself, or the members of a zip (folders flattened).

    ``budget`` holds the bytes the job may still take in; zip members are read with a
    cap and counted against it, so a zip bomb stops at the request limit (413).
    """
    if data[:4] != ZIP_MAGIC:
        return [_checked(name, data, limits)]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RequestRejected(f"not a readable zip ({exc})", name, status=415) from None
    found = []
    with archive:
        for info in archive.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if info.is_dir() or base.startswith(".") or "__MACOSX" in info.filename:
                continue
            if len(found) >= limits.max_files:
                raise RequestRejected(f"holds more than {limits.max_files} files", name,
                                      status=413)
            if info.file_size > limits.max_upload_bytes:
                found.append((base, None, f"{base}: over the limit of "
                              f"{limits.max_upload_bytes} bytes"))
                continue
            with archive.open(info) as member:  # read capped: the header may lie
                content = member.read(limits.max_upload_bytes + 1)
            budget[0] -= len(content)
            if budget[0] < 0:
                raise RequestRejected(f"unpacks to more than {limits.max_request_bytes} bytes",
                                      name, status=413)
            found.append(_checked(base, content, limits))
    return found


def _checked(name: str, data: bytes, limits: Limits) -> tuple[str, bytes | None, str | None]:
    try:
        check_image_bytes(data, safe_filename(name), limits)
    except RequestRejected as exc:
        return name, None, str(exc)
    return name, data, None


@api.post("/jobs", status_code=202)
async def create_job(
    request: Request,
    files: Annotated[list[UploadFile], File(description="images, or zips of images")],
    pipeline: Annotated[str | None, Form(description=f"one of {', '.join(PIPELINES)}")] = None,
    config: Annotated[str | None, Form(description="pipeline config, JSON or YAML")] = None,
    outputs: Annotated[str, Form()] = "alpha,cutout",
    rect: Annotated[str | None, Form(description="GrabCut rectangle X,Y,W,H, every image")
                    ] = None,
    background: Annotated[str | None, Form(description="composite background colour")] = None,
) -> JSONResponse:
    """Queue a batch job; answers its id at once (202). Images that fail the checks are
    recorded as failed items and the rest go on."""
    state = _state(request)
    limits: Limits = state.settings.limits
    wanted = parse_outputs(outputs)
    options = {"rect": rect_of(rect)}
    check_background(background)
    spec = resolve_pipeline(pipeline, config, wanted, background=background)
    images: list[tuple[str, bytes | None, str | None]] = []
    budget = [limits.max_request_bytes]
    for upload in files:
        name, data = await read_upload(upload, limits, "file")
        images.extend(_expand(name, data, limits, budget))
        if len(images) > limits.max_files:
            raise RequestRejected(f"more than {limits.max_files} images in one job", "files",
                                  status=413)
    queued = state.store.queued_images()
    if queued + len(images) > limits.max_queued_images:
        raise Busy(f"busy: {queued} images queued (limit {limits.max_queued_images}); "
                   "retry later", limits.retry_after_s)
    job = await run_in_threadpool(state.store.create, images, config=spec, wanted=wanted,
                                  pipeline="config" if config else (pipeline or "default"),
                                  options=options)
    state.runner.start(job["id"])
    return JSONResponse({"id": job["id"], "status": job["status"], "images": len(images),
                         "url": f"/v1/jobs/{job['id']}"}, status_code=202)


def _summary(job: dict[str, Any]) -> dict[str, Any]:
    counts = {s: 0 for s in ("queued", "running", "done", "failed", "cancelled")}
    for item in job["items"]:
        counts[item["status"]] += 1
    total = len(job["items"])
    finished = counts["done"] + counts["failed"] + counts["cancelled"]
    base = f"/v1/jobs/{job['id']}"
    return {
        "id": job["id"], "status": job["status"], "pipeline": job["pipeline"],
        "created": job["created"], "finished": job["finished"], "restarts": job["restarts"],
        "total": total, "counts": counts, "progress": finished / total if total else 1.0,
        "error": job.get("error"),
        "result": f"{base}/result.zip" if job["status"] not in ACTIVE else None,
    }


@api.get("/jobs")
def list_jobs(request: Request) -> list[dict[str, Any]]:
    """Every job's summary, newest first."""
    jobs = sorted(_state(request).store.jobs(), key=lambda j: -j["created"])
    return [_summary(job) for job in jobs]


@api.get("/jobs/{job_id}")
def get_job(request: Request, job_id: str) -> dict[str, Any]:
    """Progress and per-image status, with a URL for each result file."""
    job = _state(request).store.snapshot(check_job_id(job_id))
    base = f"/v1/jobs/{job_id}/items"
    items = [{"index": item["index"], "name": item["name"], "status": item["status"],
              "error": item["error"], "warnings": item["warnings"],
              "timings": item["timings"], "confidence": item.get("confidence"),
              "input": f"{base}/{item['index']}/input" if item["status"] != "failed"
              or item["outputs"] else None,
              "outputs": {what: f"{base}/{item['index']}/{what}" for what in item["outputs"]}}
             for item in job["items"]]
    return {**_summary(job), "outputs": job["wanted"], "items": items}


@api.get("/jobs/{job_id}/result.zip")
def job_zip(request: Request, job_id: str) -> FileResponse:
    """Every result file of an ended job, and ``report.json`` (409 while it runs)."""
    store = _state(request).store
    job = store.get(check_job_id(job_id))
    if job["status"] in ACTIVE:
        raise RequestRejected("job is still running; poll GET /v1/jobs/{id}", "job", status=409)
    path = store.folder(job_id) / "results.zip"
    if not path.is_file():
        path = store.build_zip(job_id)
    return FileResponse(path, media_type="application/zip", filename=f"trimatte-{job_id}.zip")


@api.get("/jobs/{job_id}/items/{index}/{what}")
def job_file(request: Request, job_id: str, index: int, what: str) -> FileResponse:
    """One result file (``alpha``, ``cutout``, ...) or the uploaded ``input`` of an item."""
    store = _state(request).store
    job = store.snapshot(check_job_id(job_id))
    if not 0 <= index < len(job["items"]):
        raise RequestRejected("no such item", "index", status=404)
    item = job["items"][index]
    if what == "input":
        path = store.input_path(job_id, item)
    elif what in item["outputs"]:
        path = store.result_path(job_id, item["outputs"][what])
    else:
        raise RequestRejected(f"no {what!r} result for this item", "what", status=404)
    if not path.is_file():
        raise RequestRejected("file is gone", "what", status=404)
    return FileResponse(path, filename=path.name.split("_", 1)[-1] if what == "input"
                        else path.name)


@api.delete("/jobs/{job_id}")
async def delete_job(request: Request, job_id: str) -> dict[str, Any]:
    """Cancel a running job (its finished results stay); delete an ended one."""
    state = _state(request)
    job = state.store.get(check_job_id(job_id))
    if job["status"] in ACTIVE:
        await run_in_threadpool(state.runner.cancel, job_id)
        return _summary(state.store.snapshot(job_id))
    await run_in_threadpool(state.store.delete, job_id)
    return {"id": job_id, "status": "deleted"}
