"""``trimatte serve``: matting over HTTP, batch jobs on Dask, and a web page.

Modules: :mod:`~trimatte.server.app` (FastAPI app factory),
:mod:`~trimatte.server.routes` (HTTP routes), :mod:`~trimatte.server.limits`
(upload, pixel, path and queue checks), :mod:`~trimatte.server.work` (what a
worker runs: the CLI's own per-image code), :mod:`~trimatte.server.engine` (Dask),
:mod:`~trimatte.server.jobs` (job state on disk), :mod:`~trimatte.server.runner`
(job threads), :mod:`~trimatte.server.batch` (``trimatte matte --scheduler``).
Importing this package does not import FastAPI or Dask; they load when used.

Example:
    >>> from trimatte.server import ServerSettings, create_app  # doctest: +SKIP
    >>> app = create_app(ServerSettings(jobs_dir="jobs", workers=2))  # doctest: +SKIP
"""

from trimatte.server.app import ServerSettings, create_app
from trimatte.server.batch import map_on_dask
from trimatte.server.engine import Engine, map_bounded
from trimatte.server.jobs import JobStore
from trimatte.server.limits import Limits
from trimatte.server.work import PIPELINES, matte_bytes, resolve_pipeline

__all__ = [
    "PIPELINES",
    "Engine",
    "JobStore",
    "Limits",
    "ServerSettings",
    "create_app",
    "map_bounded",
    "map_on_dask",
    "matte_bytes",
    "resolve_pipeline",
]
