"""The FastAPI application of ``trimatte serve``.

:func:`create_app` wires the pieces: :mod:`~trimatte.server.limits` checks every
upload, :mod:`~trimatte.server.work` resolves pipelines and is what the workers
run, :class:`~trimatte.server.engine.Engine` is Dask, :class:`JobStore` and
:class:`JobRunner` keep and run batch jobs.  The HTTP routes are in
:mod:`trimatte.server.routes`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from trimatte import __version__
from trimatte.errors import InputError
from trimatte.server.engine import Engine
from trimatte.server.jobs import JobStore
from trimatte.server.limits import Busy, Limits, RequestRejected
from trimatte.server.runner import JobRunner

log = logging.getLogger("trimatte.server")
STATIC = Path(__file__).parent / "static"


@dataclass
class ServerSettings:
    """Everything ``trimatte serve`` can set.

    Attributes:
        jobs_dir: Folder of batch jobs (state, inputs, results).
        limits: Upload, pixel and queue limits.
        token: When set, every ``/v1`` request needs ``Authorization: Bearer TOKEN``.
        scheduler: Dask scheduler address; None starts a local cluster.
        workers: Local Dask workers (default one per core).
        processes: Local workers as processes (True) or threads (False).
        cors_origins: Origins allowed by CORS; empty (the default) sends no CORS headers.
    """

    jobs_dir: Path = Path("trimatte-jobs")
    limits: Limits = field(default_factory=Limits)
    token: str | None = None
    scheduler: str | None = None
    workers: int | None = None
    processes: bool = True
    cors_origins: list[str] = field(default_factory=list)


class Gate:
    """A counter of requests in progress that refuses, rather than queues, past ``limit``."""

    def __init__(self, limit: int, retry_after: int) -> None:
        self.limit, self.retry_after = limit, retry_after
        self.active = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def enter(self):
        with self._lock:
            if self.active >= self.limit:
                raise Busy(f"busy: {self.active} images in progress; retry later",
                           self.retry_after)
            self.active += 1
        try:
            yield
        finally:
            with self._lock:
                self.active -= 1


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413, while streaming.

    The declared ``Content-Length`` is checked first; a body sent without one (chunked)
    is counted as it arrives, so an endless upload is cut off at the limit.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        from starlette.exceptions import HTTPException
        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            response = JSONResponse({"detail": f"request body over the limit of "
                                     f"{self.max_bytes} bytes"}, status_code=413)
            await response(scope, receive, send)
            return
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, f"request body over the limit of {self.max_bytes} "
                                        "bytes")
            return message

        await self.app(scope, limited, send)


class RefuseWhenBusy:
    """ASGI middleware: a single-image request that would find the gate full gets its 503
    before its body is read, so refusing costs no upload parsing and no pipeline build."""

    PATHS = ("/v1/matte", "/v1/refine")

    def __init__(self, app, gate: Gate) -> None:
        self.app, self.gate = app, gate

    async def __call__(self, scope, receive, send) -> None:
        from starlette.responses import JSONResponse

        if (scope["type"] == "http" and scope.get("method") == "POST"
                and scope.get("path") in self.PATHS and self.gate.active >= self.gate.limit):
            response = JSONResponse(
                {"detail": f"server: busy: {self.gate.active} images in progress; retry later"},
                status_code=503, headers={"Retry-After": str(self.gate.retry_after)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(settings: ServerSettings | None = None, *, engine: Engine | None = None):
    """The ASGI app (FastAPI) of the matting server.

    Args:
        settings: Server settings (defaults: :class:`ServerSettings`).
        engine: An engine to use (and leave open at shutdown); by default one is made
            from the settings at startup and closed at shutdown.

    Returns:
        A ``fastapi.FastAPI`` app; serve it with Uvicorn.
    """
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    from trimatte.server import routes

    settings = settings or ServerSettings()
    owns_engine = engine is None
    engine = engine or Engine(settings.scheduler, settings.workers,
                              processes=settings.processes)
    store = JobStore(settings.jobs_dir)
    runner = JobRunner(store, engine)

    @contextlib.asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        await run_in_threadpool(engine.start)
        for job_id in await run_in_threadpool(store.recover):
            runner.start(job_id)
        log.info("trimatte serve: %s, jobs in %s", engine.describe(), store.root)
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)
            if owns_engine:
                await run_in_threadpool(engine.close)

    app = FastAPI(
        title="trimatte",
        version=__version__,
        description="Image matting over HTTP: one image at a time (`/v1/matte`) or batch "
        "jobs (`/v1/jobs`) run on Dask. The web page is at `/`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = store
    app.state.runner = runner
    app.state.gate = Gate(settings.limits.max_active_requests, settings.limits.retry_after_s)

    @app.exception_handler(RequestRejected)
    async def rejected(request, exc: RequestRejected):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(InputError)
    async def bad_input(request, exc: InputError):
        return JSONResponse({"detail": str(exc).splitlines()[0]}, status_code=422)

    app.include_router(routes.router)
    app.include_router(routes.api, prefix="/v1", dependencies=routes.auth(settings.token))
    app.add_middleware(BodyLimit, max_bytes=settings.limits.max_request_bytes)
    app.add_middleware(RefuseWhenBusy, gate=app.state.gate)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization"])
    return app
