"""The Dask engine: bounded submission, error capture, stopping, and the CLI's batch loop."""

from __future__ import annotations

import threading
import time

import pytest

from trimatte.errors import InputError
from trimatte.server.engine import Engine, map_bounded


def square(x: int) -> int:
    if x == 3:
        raise ValueError("three is bad")
    return x * x


def test_engine_flags_are_checked():
    with pytest.raises(InputError, match="tcp://"):
        Engine("/var/run/scheduler.sock")
    with pytest.raises(InputError, match="at least 1"):
        Engine(workers=0)


def test_map_bounded_keeps_the_window_and_reports_errors(engine):
    made: list[int] = []
    seen: list[int] = []

    def items():
        for i in range(8):
            def make(i=i):
                made.append(i)
                # never more than 2 submitted and not yet finished
                assert len(made) - len(seen) <= 2
                return (i,), {}
            yield i, make

    results = {}
    for key, value, error in map_bounded(engine, square, items(), window=2):
        seen.append(key)
        results[key] = error if error is not None else value
    assert sorted(results) == list(range(8))
    assert isinstance(results[3], ValueError) and "three is bad" in str(results[3])
    assert results[7] == 49


def test_map_bounded_stops(engine):
    stop = threading.Event()
    items = ((i, lambda: ((0.01,), {})) for i in range(100))
    got = []
    for key, _, _ in map_bounded(engine, time.sleep, items, window=2, stop=stop):
        got.append(key)
        if len(got) == 3:
            stop.set()
    assert len(got) == 3  # nothing more is yielded or submitted once stopped


def test_map_on_dask_is_map_in_order(tmp_path):
    from trimatte.batch import map_in_order
    from trimatte.server.batch import map_on_dask

    expected = [(o.item, o.value, type(o.error)) for o in map_in_order(square, range(6))]
    got = [(o.item, o.value, type(o.error))
           for o in map_on_dask(square, range(6), workers=2, processes=False, progress=False)]
    assert got == expected
    assert got[3] == (3, None, ValueError)


def test_run_times_out(engine):
    with pytest.raises(TimeoutError):
        engine.run(time.sleep, 1.0, timeout=0.1)
    assert engine.run(square, 4, timeout=30) == 16
