"""Run one job per item on a bounded pool of worker processes, results in input order.

:func:`map_in_order` is the one batch runner of the package: ``trimatte matte``
uses it for folders, and anything else that processes many independent items
(a server's queue, an evaluation) can too. It guarantees that what the caller
sees does not depend on the number of workers:

- results come back in the order of the items, whatever order they finish in;
- warnings and log records a job emits are captured and handed back with its
  result (log records are replayed in the calling process by
  :meth:`Outcome.replay_logs`), so messages print in input order too;
- an exception raised by a job is returned as that item's error; the other items
  go on.

Workers are separate processes started with ``spawn`` (no state inherited by
forking), each limited to one thread in OpenMP/BLAS/Numba, OpenCV and PyTorch, so
``N`` workers use ``N`` cores. At most ``2 * workers`` items are in flight. A
worker that dies (killed, out of memory) fails the item being waited for; the
rest are run again in a fresh pool.

Ctrl-C (``KeyboardInterrupt``) in the calling process stops the workers at once
(they ignore SIGINT themselves, so they print nothing) and is re-raised; files
they were writing atomically are left as temporary files, which
:func:`trimatte.io.remove_stale_temp_files` removes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Outcome", "default_workers", "map_in_order"]

T = TypeVar("T")
R = TypeVar("R")

#: Environment variables that cap the thread pools of numerical libraries.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def default_workers() -> int:
    """The number of cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Outcome(Generic[T, R]):
    """What running the job on one item gave.

    Attributes:
        item: The item, as passed in.
        value: The job's return value (None when it failed).
        error: The exception the job raised, or None.
        warnings: ``(category, message)`` of each warning the job emitted, the category
            as ``module.Name`` (e.g. ``trimatte.errors.TrimatteWarning``).
        records: Log records the job emitted (at the caller's log level or above).
    """

    item: T
    value: R | None = None
    error: BaseException | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)
    records: list[logging.LogRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the job returned without raising."""
        return self.error is None

    def replay_logs(self) -> None:
        """Emit the captured log records through this process's loggers."""
        for record in self.records:
            logger = logging.getLogger(record.name)
            if logger.isEnabledFor(record.levelno):
                logger.handle(record)


class _Capture(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Like QueueHandler.prepare: format now, so the record pickles.
        message = record.getMessage()
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = message, None, None
        self.records.append(record)


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _call(fn: Callable[[T], R], item: T, log_level: int) -> Outcome[T, R]:
    """Run ``fn(item)`` with warnings and log records captured (in a worker or inline)."""
    outcome: Outcome[T, R] = Outcome(item)
    root = logging.getLogger()
    capture = _Capture(log_level)
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers, root.level = [capture], log_level
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                outcome.value = fn(item)
            except Exception as exc:  # one item's failure must not stop the batch
                outcome.error = _picklable(exc)
    finally:
        root.handlers, root.level = saved_handlers, saved_level
    seen = set()
    for w in caught:
        key = (f"{w.category.__module__}.{w.category.__qualname__}", str(w.message))
        if key not in seen:
            seen.add(key)
            outcome.warnings.append(key)
    outcome.records = capture.records
    return outcome


def _init_worker() -> None:
    # The parent handles Ctrl-C and stops the workers; they stay silent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import cv2

    cv2.setNumThreads(1)
    if "torch" in sys.modules:  # pragma: no cover - torch is imported by jobs, later
        sys.modules["torch"].set_num_threads(1)


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Processes started inside the block get one thread per numerical library."""
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    os.environ.update({name: "1" for name in THREAD_ENV})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stop(executor: ProcessPoolExecutor) -> None:
    """Stop the workers now (not after their current item) and release the pool."""
    # ProcessPoolExecutor has no public way to stop running workers before Python 3.14.
    processes = list(getattr(executor, "_processes", {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    executor.shutdown(wait=True, cancel_futures=True)


def map_in_order(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int = 1,
    desc: str | None = None,
    unit: str = "item",
    progress: bool = True,
) -> Iterator[Outcome[T, R]]:
    """Yield ``Outcome(item, fn(item))`` for every item, in the order of ``items``.

    Args:
        fn: The job. With ``workers > 1`` it and the items must pickle (a module-level
            function, or :func:`functools.partial` of one).
        items: The items (read into a list first).
        workers: Worker processes; 1 runs every job in this process, with the same
            capture of warnings and log records. Never more than the number of items.
        desc: Label of the tqdm progress bar (shown for two items or more).
        unit: Unit of the progress bar.
        progress: Show the progress bar.

    Raises:
        KeyboardInterrupt: After stopping the workers; outcomes already yielded stand.
    """
    from tqdm import tqdm

    items = list(items)
    workers = max(1, min(int(workers), len(items)))
    log_level = logging.getLogger().getEffectiveLevel()
    bar = tqdm(total=len(items), desc=desc, unit=unit, disable=not progress or len(items) < 2)
    try:
        if workers == 1:
            for item in items:
                outcome = _call(fn, item, log_level)
                bar.update()
                yield outcome
        else:
            for outcome in _pooled(fn, items, workers, log_level):
                bar.update()
                yield outcome
    finally:
        bar.close()


def _fill(
    executor: ProcessPoolExecutor,
    queue: deque,
    pending: deque,
    limit: int,
    fn: Callable,
    log_level: int,
) -> None:
    """Submit items from ``queue`` until ``limit`` are in flight (workers start on submit)."""
    with _single_threaded_children():
        while queue and len(pending) < limit:
            item = queue.popleft()
            try:
                future = executor.submit(_call, fn, item, log_level)
            except BrokenProcessPool:  # a worker died since; the caller starts a new pool
                queue.appendleft(item)
                return
            pending.append((item, future))


def _pooled(
    fn: Callable[[T], R], items: list[T], workers: int, log_level: int
) -> Iterator[Outcome[T, R]]:
    context = multiprocessing.get_context("spawn")
    queue = deque(items)
    while queue:  # one pass per pool; a pool whose worker died is replaced
        with _single_threaded_children():
            executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
        pending: deque[tuple[T, Future]] = deque()
        try:
            _fill(executor, queue, pending, 2 * workers, fn, log_level)
            while pending:
                item, future = pending.popleft()
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    queue.extendleft(reversed([i for i, _ in pending]))
                    pending.clear()
                    yield Outcome(item, error=RuntimeError(
                        "a worker process died (killed, or out of memory) while processing "
                        "this item or one beside it"
                    ))
                    break
                _fill(executor, queue, pending, 2 * workers, fn, log_level)
                yield outcome
        except BaseException:  # KeyboardInterrupt, GeneratorExit: stop the workers now
            _stop(executor)
            raise
        executor.shutdown(wait=True)
