"""``trimatte matte --scheduler``: the CLI's batch loop on the server's Dask engine.

:func:`map_on_dask` is a drop-in for :func:`trimatte.batch.map_in_order`: it takes
the same job function and items and yields the same
:class:`~trimatte.batch.Outcome` objects, in input order, with each job's
warnings and log records captured the same way, but runs the jobs as Dask tasks:
on a local cluster, or on a real one (``scheduler="tcp://HOST:PORT"``).  At most
``window`` jobs are in flight, so a folder of any size streams through.

The CLI's job function reads and writes files by path, so on a real cluster every
worker must see the input and output folders at the same paths (a shared or
network file system), and have trimatte installed.

Example (what ``trimatte matte`` does with ``--scheduler``)::

    outcomes = map_on_dask(functools.partial(run_job, pipeline, hints), jobs,
                           scheduler="tcp://10.0.0.5:8786", desc="matting", unit="img")
    for outcome in outcomes:
        ...  # exactly as with map_in_order
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from trimatte.server.engine import Engine, map_bounded

T = TypeVar("T")
R = TypeVar("R")


def map_on_dask(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    window: int | None = None,
    desc: str | None = None,
    unit: str = "item",
    progress: bool = True,
) -> Iterator[Any]:
    """Yield ``Outcome(item, fn(item))`` for every item, in order, computed on Dask.

    Args:
        fn: The job; it and the items must pickle (a module-level function or a
            :func:`functools.partial` of one).
        items: The items (read into a list first).
        scheduler: Dask scheduler address; None starts a local cluster for the call.
        workers: Local workers (default one per core); ignored with ``scheduler``.
        processes: Local workers are processes (default) or threads.
        window: Most jobs in flight (default: twice the number of workers).
        desc: Label of the tqdm progress bar.
        unit: Unit of the progress bar.
        progress: Show the progress bar (for two items or more).

    Returns:
        An iterator of :class:`trimatte.batch.Outcome`, one per item, in the order of
        ``items``; a task that could not run at all (a worker lost) is an outcome with
        that error. The engine starts before this returns and closes when the iterator
        is exhausted or closed.

    Raises:
        InputError: A malformed or unreachable scheduler address.
    """
    items = list(items)
    engine = Engine(scheduler, min(workers or len(items), len(items)) if not scheduler
                    else None, processes=processes)
    if items:
        engine.start()  # now, so that a scheduler that cannot be reached is an InputError here
    return _stream(engine, fn, items, window, desc, unit, progress)


def run_batch(fn: Callable[[T], R], items: Iterable[T], workers: int,
              scheduler: str | None = None) -> Iterator[Any]:
    """``trimatte matte``'s batch: :func:`trimatte.batch.map_in_order` on ``workers`` local
    processes, or :func:`map_on_dask` on ``scheduler`` when one is given.

    Raises:
        InputError: A malformed or unreachable scheduler address.
    """
    if scheduler:
        return map_on_dask(fn, items, scheduler=scheduler, desc="matting", unit="img")
    from trimatte.batch import map_in_order

    return map_in_order(fn, items, workers=workers, desc="matting", unit="img")


def _stream(engine: Engine, fn: Callable, items: list, window: int | None, desc: str | None,
            unit: str, progress: bool) -> Iterator[Any]:
    from tqdm import tqdm

    from trimatte.batch import Outcome, _call

    if not items:
        return
    log_level = logging.getLogger().getEffectiveLevel()
    bar = tqdm(total=len(items), desc=desc, unit=unit, disable=not progress or len(items) < 2)
    try:
        size = window or 2 * max(1, engine.n_workers())
        jobs = ((index, _args(fn, item, log_level)) for index, item in enumerate(items))
        done: dict[int, Any] = {}
        following = 0
        for index, outcome, error in map_bounded(engine, _call, jobs, size):
            if error is not None:
                outcome = Outcome(items[index], error=RuntimeError(
                    f"the Dask task failed ({type(error).__name__}: {error})"))
            done[index] = outcome
            bar.update()
            while following in done:
                yield done.pop(following)
                following += 1
    finally:
        bar.close()
        engine.close()


def _args(fn: Callable, item: Any, log_level: int) -> Callable[[], tuple[tuple, dict]]:
    def make() -> tuple[tuple, dict]:
        return (fn, item, log_level), {}
    return make
