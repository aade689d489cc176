"""``trimatte serve``: the matting server (HTTP API, web page, batch jobs on Dask).

A thin shell over :mod:`trimatte.server`: it turns flags into
:class:`~trimatte.server.app.ServerSettings` and runs the app with Uvicorn.
"""

from __future__ import annotations

import argparse
import ipaddress
import os

from trimatte.cli.common import EXIT_USAGE, report, warn

DEFAULT_PORT = 8000


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve matting over HTTP: API, web page, batch jobs on Dask",
        description=(
            "Start the matting server: a web page at /, the HTTP API under /v1 (OpenAPI "
            "docs at /docs) and batch jobs that run on Dask (a local cluster with one "
            "worker per core, or --scheduler for a real one). Listens on 127.0.0.1 unless "
            "--host says otherwise."
        ),
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_positive(int), default=DEFAULT_PORT,
                   help=f"port (default: {DEFAULT_PORT})")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="send the work to this Dask scheduler instead of a local cluster")
    p.add_argument("--workers", type=_positive(int), metavar="N",
                   help="local Dask worker processes (default: one per core)")
    p.add_argument("--threads", action="store_true",
                   help="run local workers as threads of the server process (light, "
                   "for small machines and tests)")
    p.add_argument("--jobs-dir", default="trimatte-jobs", metavar="DIR",
                   help="folder of batch jobs; jobs left unfinished resume on restart "
                   "(default: ./trimatte-jobs)")
    p.add_argument("--token", default=os.environ.get("TRIMATTE_TOKEN"),
                   help="require 'Authorization: Bearer TOKEN' on /v1 (default: "
                   "$TRIMATTE_TOKEN, or no token)")
    p.add_argument("--max-upload-mb", type=_positive(float), default=25.0,
                   help="largest uploaded file in MB (default: 25)")
    p.add_argument("--max-request-mb", type=_positive(float), default=512.0,
                   help="largest request body in MB, all files together (default: 512)")
    p.add_argument("--max-megapixels", type=_positive(float), default=40.0,
                   help="largest image in megapixels, read from the header before "
                   "decoding (default: 40)")
    p.add_argument("--max-files", type=_positive(int), default=1000,
                   help="most images in one job (default: 1000)")
    p.add_argument("--max-queue", type=_positive(int), default=2000,
                   help="most images queued over all jobs before new jobs get 503 "
                   "(default: 2000)")
    p.add_argument("--max-active", type=_positive(int), default=8,
                   help="most single-image requests processed at once before 503 "
                   "(default: 8)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="allow this web origin by CORS (repeatable; default: none)")
    p.set_defaults(run=run)


def settings_from(args: argparse.Namespace):
    """:class:`~trimatte.server.app.ServerSettings` from the parsed flags."""
    from pathlib import Path

    from trimatte.server.app import ServerSettings
    from trimatte.server.limits import Limits

    limits = Limits(
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        max_request_bytes=int(args.max_request_mb * 2**20),
        max_pixels=int(args.max_megapixels * 1e6),
        max_files=args.max_files,
        max_queued_images=args.max_queue,
        max_active_requests=args.max_active,
    )
    return ServerSettings(jobs_dir=Path(args.jobs_dir), limits=limits, token=args.token or None,
                          scheduler=args.scheduler, workers=args.workers,
                          processes=not args.threads, cors_origins=list(args.cors_origin))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from trimatte.errors import InputError

    try:
        import uvicorn

        from trimatte.server.app import create_app
        from trimatte.server.engine import Engine

        settings = settings_from(args)
        engine = Engine(settings.scheduler, settings.workers, processes=settings.processes)
    except ImportError as exc:
        report(f"the server needs FastAPI, Uvicorn and Dask ({exc}); pip install -e '.[dev]'")
        return EXIT_USAGE
    except InputError as exc:
        report(str(exc))
        return EXIT_USAGE
    if not _is_loopback(args.host) and not settings.token:
        warn(f"listening on {args.host} without --token: anyone who can reach this port "
             "can use the server")
    try:
        engine.start()  # before serving: a scheduler that cannot be reached is one line
    except InputError as exc:
        report(str(exc))
        return EXIT_USAGE
    try:
        print(f"trimatte: serving on http://{args.host}:{args.port}/ (API docs at /docs), "
              f"Dask: {engine.describe()}, jobs in {settings.jobs_dir}", flush=True)
        # keep-alive longer than Uvicorn's 5 s: a client reusing a connection the server
        # is closing at that moment sees a connection error (seen under heavy load)
        uvicorn.run(create_app(settings, engine=engine), host=args.host, port=args.port,
                    log_level="warning", timeout_keep_alive=30)
    finally:
        engine.close()
    return 0
