"""trimatte.batch.map_in_order: input order, captured messages, bounded worker processes."""

import logging
import os
import time
import warnings

import pytest

from trimatte.batch import THREAD_ENV, default_workers, map_in_order

log = logging.getLogger("trimatte.test_batch")


def job(item):
    """Later items finish first; 3 fails; every item warns and logs."""
    time.sleep(0.05 * (4 - item % 4))
    warnings.warn(f"warned {item}", UserWarning, stacklevel=1)
    log.warning("logged %d", item)
    if item == 3:
        raise ValueError(f"bad item {item}")
    import cv2

    return item * 10, os.getpid(), os.environ.get("OMP_NUM_THREADS"), cv2.getNumThreads()


def crash_first(item):
    if item == 0:
        os._exit(1)  # a worker killed mid-item, e.g. by the OOM killer
    time.sleep(0.3)
    return item


def summary(outcomes):
    return [
        (o.item, o.value[0] if o.ok else f"{type(o.error).__name__}: {o.error}",
         o.warnings, [r.getMessage() for r in o.records])
        for o in outcomes
    ]


def test_inline_and_pooled_runs_give_the_same_outcomes(monkeypatch):
    for name in THREAD_ENV:
        monkeypatch.delenv(name, raising=False)
    items = list(range(6))
    inline = list(map_in_order(job, items, workers=1, progress=False))
    pooled = list(map_in_order(job, items, workers=2, progress=False))
    assert summary(inline) == summary(pooled)
    assert [o.item for o in pooled] == items
    assert summary(pooled)[3][1] == "ValueError: bad item 3"
    assert summary(pooled)[0][2] == [("builtins.UserWarning", "warned 0")]
    assert summary(pooled)[0][3] == ["logged 0"]
    # Workers are other processes, two of them, single-threaded; our environment is untouched.
    pids = {o.value[1] for o in pooled if o.ok}
    assert os.getpid() not in pids and len(pids) == 2
    assert {o.value[2:] for o in pooled if o.ok} == {("1", 1)}
    assert not any(name in os.environ for name in THREAD_ENV)


def test_captured_logs_are_replayed_in_order(caplog):
    outcomes = list(map_in_order(job, [1, 0], workers=1, progress=False))
    assert not caplog.records  # held back while the jobs ran ...
    with caplog.at_level(logging.WARNING):
        for outcome in outcomes:
            outcome.replay_logs()
    assert [r.getMessage() for r in caplog.records] == ["logged 1", "logged 0"]  # ... then in order


def test_a_dead_worker_fails_its_item_and_the_rest_go_on():
    outcomes = list(map_in_order(crash_first, range(4), workers=2, progress=False))
    assert [o.item for o in outcomes] == [0, 1, 2, 3]
    assert not outcomes[0].ok and "worker process died" in str(outcomes[0].error)
    assert [o.value for o in outcomes[1:]] == [1, 2, 3]


def test_default_workers_is_the_number_of_usable_cores():
    assert default_workers() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("workers", [1, 5])
def test_no_items(workers):
    assert list(map_in_order(job, [], workers=workers, progress=False)) == []
