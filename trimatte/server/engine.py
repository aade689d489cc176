"""The distributed engine: Dask ``distributed``, local or on a real cluster.

:class:`Engine` owns one Dask client.  By default it starts an in-process
``LocalCluster`` with one single-threaded worker process per CPU core (matting
is CPU-bound and its libraries keep their own thread pools); with
``scheduler="tcp://HOST:PORT"`` it connects to a running cluster instead
(``dask scheduler`` + ``dask worker`` on each machine, every worker with
trimatte installed) and the same tasks go there.

:func:`map_bounded` runs a function over many items with at most ``window``
tasks in flight, so a folder of 100,000 photos is never loaded into memory at
once; results come back as they finish.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from trimatte.batch import default_workers
from trimatte.errors import InputError

log = logging.getLogger("trimatte.server")


class Engine:
    """A Dask client, started on demand and closed with :meth:`close` (or ``with``).

    Args:
        scheduler: Address of a running Dask scheduler (``tcp://HOST:PORT``); None
            starts a local cluster.
        workers: Local workers (default: one per CPU core); ignored with ``scheduler``.
        processes: Local workers are processes (True, the default) or threads of this
            process (False: light, for tests and tiny machines).
        threads_per_worker: Threads of each local worker.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        *,
        processes: bool = True,
        threads_per_worker: int = 1,
    ) -> None:
        if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
            raise InputError(
                f"expected a scheduler address like tcp://HOST:8786, got {scheduler!r}",
                "--scheduler",
            )
        if workers is not None and int(workers) < 1:
            raise InputError(f"must be at least 1, got {workers}", "--workers")
        self.scheduler = scheduler
        self.workers = int(workers) if workers else default_workers()
        self.processes = processes
        self.threads_per_worker = threads_per_worker
        self._client: Any = None
        self._cluster: Any = None
        self._lock = threading.Lock()

    def start(self) -> Engine:
        """Start the local cluster or connect to the scheduler (idempotent)."""
        with self._lock:
            if self._client is not None:
                return self
            from distributed import Client, LocalCluster

            if self.scheduler is None:
                # Processes talk over loopback TCP only; threads use in-process transport.
                where = {"host": "127.0.0.1"} if self.processes else {}
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=self.threads_per_worker,
                    processes=self.processes,
                    # the scheduler always serves HTTP (health, metrics): loopback,
                    # any free port, never a fixed public one
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR,
                    **where,
                )
                self._client = Client(self._cluster, set_as_default=False)
            else:
                try:
                    self._client = Client(self.scheduler, timeout="10s", set_as_default=False)
                except (OSError, TimeoutError) as exc:
                    raise InputError(f"cannot reach the Dask scheduler ({exc})",
                                     self.scheduler) from None
        log.info("dask engine: %s", self.describe())
        return self

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (starting the engine if needed)."""
        return self.start()._client

    def n_workers(self) -> int:
        """Workers the scheduler knows about now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def describe(self) -> str:
        """One line: where tasks run."""
        where = self.scheduler or f"local cluster ({'processes' if self.processes else 'threads'})"
        return f"{where}, {self.n_workers()} worker(s)"

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Submit one task; returns its ``distributed.Future`` (never deduplicated)."""
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def run(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None,
            **kwargs: Any) -> Any:
        """Submit one task and wait for its result (from a thread, not the event loop).

        Raises:
            TimeoutError: No result within ``timeout`` seconds (the task is cancelled).
        """
        future = self.submit(fn, *args, **kwargs)
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Close the client and, for a local cluster, its workers."""
        with self._lock:
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def map_bounded(
    engine: Engine,
    fn: Callable[..., Any],
    items: Iterable[tuple[Any, Callable[[], tuple[tuple, dict]]]],
    window: int,
    stop: threading.Event | None = None,
) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Run ``fn`` on many items with at most ``window`` tasks in flight.

    Args:
        engine: Where tasks run.
        fn: The task function (picklable, importable on the workers).
        items: ``(key, make_args)`` pairs; ``make_args()`` returns ``(args, kwargs)``
            and is called only when the task is submitted (so inputs are read lazily).
        window: Most tasks submitted and not yet finished.
        stop: When set, nothing more is submitted and tasks in flight are cancelled.

    Yields:
        ``(key, result, error)`` in completion order; ``error`` is the exception a
        task raised (its result is then None).
    """
    from distributed import as_completed

    if window < 1:
        raise InputError(f"must be at least 1, got {window}", "window")
    pending = iter(items)
    keys: dict[Any, Any] = {}

    def submit_next(queue: Any) -> bool:
        for key, make_args in pending:
            args, kwargs = make_args()
            future = engine.submit(fn, *args, **kwargs)
            keys[future.key] = key
            queue.add(future)
            return True
        return False

    queue = as_completed(loop=engine.client.loop)
    for _ in range(window):
        if not submit_next(queue):
            break
    try:
        for future in queue:
            key = keys.pop(future.key)
            if stop is not None and stop.is_set():
                break
            try:
                yield key, future.result(), None
            except Exception as exc:  # reported per item by the caller
                yield key, None, exc
            future.release()
            if stop is None or not stop.is_set():
                submit_next(queue)
    finally:
        leftover = list(queue.futures) if hasattr(queue, "futures") else []
        if leftover:
            engine.client.cancel(leftover)
        queue.clear()
