"""Runs batch jobs of a :class:`~trimatte.server.jobs.JobStore` on an :class:`Engine`.

One thread per active job feeds its images to Dask through
:func:`~trimatte.server.engine.map_bounded` (a few tasks per worker in flight;
images are read from disk only when submitted) and records each result in the
store as it arrives.  :meth:`JobRunner.cancel` stops a job; :meth:`JobRunner.stop`
(server shutdown) stops every thread *without* ending the jobs, so they resume
on the next start.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from trimatte.server.engine import Engine, map_bounded
from trimatte.server.jobs import ACTIVE, JobStore
from trimatte.server.work import matte_bytes

log = logging.getLogger("trimatte.server")


class JobRunner:
    """Threads that run jobs.

    Args:
        store: Where jobs live.
        engine: Where images are matted.
        per_worker: Tasks in flight per Dask worker, for each job.
    """

    def __init__(self, store: JobStore, engine: Engine, per_worker: int = 2) -> None:
        self.store = store
        self.engine = engine
        self.per_worker = per_worker
        self._threads: dict[str, threading.Thread] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._shutdown = threading.Event()
        self._lock = threading.Lock()

    def start(self, job_id: str) -> None:
        """Run the job in a thread (no-op if it is already running)."""
        with self._lock:
            if job_id in self._threads and self._threads[job_id].is_alive():
                return
            self._cancel[job_id] = threading.Event()
            thread = threading.Thread(target=self._run, args=(job_id,),
                                      name=f"trimatte-job-{job_id[:8]}", daemon=True)
            self._threads[job_id] = thread
        thread.start()

    def cancel(self, job_id: str) -> bool:
        """Stop a job; its unfinished items end as cancelled. False if it had ended."""
        job = self.store.get(job_id)
        if job["status"] not in ACTIVE:
            return False
        with self._lock:
            event = self._cancel.get(job_id)
            thread = self._threads.get(job_id)
        if event is not None:
            event.set()
        if thread is not None:
            thread.join(timeout=30)
        if self.store.get(job_id)["status"] in ACTIVE:
            self.store.finish(job_id, "cancelled")
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until the job's thread ends (for tests and scripts)."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)

    def stop(self) -> None:
        """Stop all threads, leaving unfinished jobs to resume on the next start."""
        self._shutdown.set()
        with self._lock:
            events, threads = list(self._cancel.values()), list(self._threads.values())
        for event in events:
            event.set()
        for thread in threads:
            thread.join(timeout=30)

    # ------------------------------------------------------------------ the job thread

    def _run(self, job_id: str) -> None:
        store, stop = self.store, self._cancel[job_id]
        job = store.snapshot(job_id)
        options: dict[str, Any] = job["options"]
        store.update(job_id, status="running")
        todo = [item for item in job["items"] if item["status"] in ACTIVE]

        def arguments(item: dict[str, Any]):
            def make() -> tuple[tuple, dict]:
                store.update_item(job_id, item["index"], status="running")
                data = store.input_path(job_id, item).read_bytes()
                return (item["name"], data, job["config"], job["wanted"]), {
                    "rect": options.get("rect")}
            return make

        window = max(1, self.per_worker * max(1, self.engine.n_workers()))
        try:
            results = map_bounded(self.engine, matte_bytes,
                                  ((item["index"], arguments(item)) for item in todo),
                                  window, stop)
            for index, result, error in results:
                self._record(job_id, index, result, error)
        except Exception as exc:  # the engine itself failed
            log.error("job %s: engine failure: %s", job_id, exc)
            if not self._shutdown.is_set():
                store.update(job_id, error=f"engine failure: {str(exc).splitlines()[0][:200]}")
                store.finish(job_id, "failed")
            return
        if self._shutdown.is_set():
            return  # server stopping: the job resumes on the next start
        store.finish(job_id, "cancelled" if stop.is_set() else "done")

    def _record(self, job_id: str, index: int, result: dict | None, error: BaseException | None
                ) -> None:
        if error is not None or result is None:
            message = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}" if error \
                else "no result"
            self.store.update_item(job_id, index, status="failed", error=f"internal: {message}")
            return
        if not result["ok"]:
            self.store.update_item(job_id, index, status="failed", error=result["error"],
                                   warnings=result["warnings"])
            return
        names = self.store.write_outputs(job_id, index, result["outputs"])
        self.store.update_item(job_id, index, status="done", outputs=names,
                               warnings=result["warnings"], timings=result["timings"],
                               confidence=result.get("confidence"))
