"""Batch jobs on disk: every state change is an atomic write, so jobs survive a restart.

Layout of the jobs folder::

    JOBS_DIR/<id>/job.json        state (written atomically: temp file + rename)
    JOBS_DIR/<id>/inputs/<name>   uploaded images, as received
    JOBS_DIR/<id>/results/<stem>_alpha.png, _cutout.png, ...   (atomic writes)
    JOBS_DIR/<id>/results.zip     every result, built once the job ends

A job is ``queued`` → ``running`` → ``done`` (or ``cancelled``); each item is
``queued``, ``running``, ``done``, ``failed`` or ``cancelled``. After a crash,
:meth:`JobStore.recover` finds the jobs that had not ended: an item whose
result files are all present stays done, every other unfinished item is queued
again, and leftover temporary files (a write cut short) are removed, so no
half-written result is ever served.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from trimatte.cli.outputs import OUTPUT_SUFFIXES as SUFFIX
from trimatte.errors import InputError
from trimatte.io import atomic_write_bytes
from trimatte.server.limits import RequestRejected, safe_filename

log = logging.getLogger("trimatte.server")

ACTIVE = ("queued", "running")
_ID = re.compile(r"^[0-9a-f]{32}$")


def check_job_id(job_id: str) -> str:
    """``job_id`` if it has the form of an id (32 hex digits), else InputError (404)."""
    if not isinstance(job_id, str) or not _ID.match(job_id):
        raise RequestRejected("no such job", "job", status=404)
    return job_id


def unique_stems(names: list[str]) -> list[str]:
    """Output stems for ``names``: the name without suffix, ``_2``, ``_3``... on collisions."""
    seen: set[str] = set()
    stems = []
    for name in names:
        base = Path(name).stem or "image"
        stem, n = base, 1
        while stem.lower() in seen:
            n += 1
            stem = f"{base}_{n}"
        seen.add(stem.lower())
        stems.append(stem)
    return stems


class JobStore:
    """Jobs kept under ``root``; thread-safe.

    Args:
        root: The jobs folder (created if missing).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ paths

    def folder(self, job_id: str) -> Path:
        return self.root / check_job_id(job_id)

    def result_path(self, job_id: str, filename: str) -> Path:
        return self.folder(job_id) / "results" / filename

    def input_path(self, job_id: str, item: dict[str, Any]) -> Path:
        return self.folder(job_id) / "inputs" / item["input"]

    # ------------------------------------------------------------------ create / read

    def create(
        self,
        files: list[tuple[str, bytes | None, str | None]],
        *,
        config: dict[str, Any],
        wanted: list[str],
        pipeline: str,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A new queued job.

        Args:
            files: ``(name, data, error)`` per image: checked bytes and no error, or
                no data and the one-line reason it was refused (the item starts failed;
                the rest of the batch goes on).
        """
        if not files:
            raise InputError("no images in the request", "files")
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        names = [safe_filename(name) for name, _, _ in files]
        stems = unique_stems(names)
        items = []
        for index, ((_, data, error), name, stem) in enumerate(
                zip(files, names, stems, strict=True)):
            stored = f"{index:05d}_{name}"
            if data is not None:
                atomic_write_bytes(folder / "inputs" / stored, data)
            items.append({
                "index": index, "name": name, "stem": stem, "input": stored,
                "status": "queued" if data is not None else "failed", "error": error,
                "warnings": [], "outputs": {}, "timings": {}, "confidence": None,
            })
        job = {
            "id": job_id, "status": "queued", "created": time.time(), "finished": None,
            "pipeline": pipeline, "config": config, "wanted": wanted,
            "options": options or {}, "restarts": 0, "items": items,
        }
        with self._lock:
            self._jobs[job_id] = job
            self.save(job)
        return job

    def get(self, job_id: str) -> dict[str, Any]:
        """The job (a live dict; treat as read-only outside the store)."""
        check_job_id(job_id)
        with self._lock:
            if job_id not in self._jobs:
                raise RequestRejected("no such job", "job", status=404)
            return self._jobs[job_id]

    def jobs(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._jobs.values())

    def snapshot(self, job_id: str) -> dict[str, Any]:
        """A deep copy of the job, safe to serialise while workers update it."""
        with self._lock:
            return json.loads(json.dumps(self.get(job_id)))

    def queued_images(self) -> int:
        """Images accepted and not yet finished, over all jobs."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if job["status"] in ACTIVE
                       for item in job["items"] if item["status"] in ACTIVE)

    # ------------------------------------------------------------------ updates

    def save(self, job: dict[str, Any]) -> None:
        """Write ``job.json`` atomically."""
        with self._lock:
            data = json.dumps(job, indent=1).encode()
            atomic_write_bytes(self.root / job["id"] / "job.json", data)

    def update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self.get(job_id)
            job.update(changes)
            self.save(job)

    def update_item(self, job_id: str, index: int, **changes: Any) -> None:
        with self._lock:
            job = self.get(job_id)
            job["items"][index].update(changes)
            self.save(job)

    def write_outputs(self, job_id: str, index: int, outputs: dict[str, bytes]) -> dict[str, str]:
        """Write one item's result files atomically; returns ``{what: file name}``."""
        item = self.get(job_id)["items"][index]
        names = {}
        for what, data in outputs.items():
            filename = f"{item['stem']}{SUFFIX[what]}"
            atomic_write_bytes(self.result_path(job_id, filename), data)
            names[what] = filename
        return names

    def finish(self, job_id: str, status: str) -> None:
        """End a job: unfinished items take ``status`` too, and the result zip is built."""
        with self._lock:
            job = self.get(job_id)
            for item in job["items"]:
                if item["status"] in ACTIVE:
                    item["status"] = "cancelled" if status == "cancelled" else "failed"
                    item["error"] = item["error"] or f"job {status}"
            job["status"] = status
            job["finished"] = time.time()
            self.save(job)
        self.build_zip(job_id)

    def build_zip(self, job_id: str) -> Path:
        """``results.zip`` of every result file plus ``report.json``, written atomically."""
        job = self.snapshot(job_id)
        target = self.folder(job_id) / "results.zip"
        tmp = target.with_name(f".results.zip.{uuid.uuid4().hex}.tmp")
        report = [{k: item.get(k) for k in ("name", "status", "error", "warnings", "outputs",
                                            "confidence")} for item in job["items"]]
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
                for item in job["items"]:
                    for filename in item["outputs"].values():
                        archive.write(self.result_path(job_id, filename), filename)
                archive.writestr("report.json", json.dumps(report, indent=1))
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def delete(self, job_id: str) -> None:
        with self._lock:
            self.get(job_id)
            del self._jobs[job_id]
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    # ------------------------------------------------------------------ restart

    def recover(self) -> list[str]:
        """Load every job on disk; return the ids of those to run (again).

        Unfinished items are queued again unless all their result files exist;
        leftover temporary files are deleted; a job whose state cannot be read is
        skipped with a warning in the log (its folder is kept for inspection).
        """
        to_run = []
        for folder in sorted(p for p in self.root.iterdir() if _ID.match(p.name)):
            for stray in [*folder.glob(".*.tmp"), *folder.glob("*/.*.tmp")]:
                stray.unlink(missing_ok=True)
            try:
                job = json.loads((folder / "job.json").read_text())
                items = job["items"]  # a KeyError means a foreign file
                del items
            except (OSError, ValueError, KeyError) as exc:
                log.warning("%s: unreadable job state, skipped (%s)", folder, exc)
                continue
            if job["status"] in ACTIVE:
                for item in job["items"]:
                    if item["status"] == "done" and all(
                        (folder / "results" / name).is_file() for name in item["outputs"].values()
                    ):
                        continue
                    if item["status"] in (*ACTIVE, "done"):
                        item.update(status="queued", outputs={}, error=None)
                job["status"] = "queued"
                job["restarts"] = int(job.get("restarts", 0)) + 1
                to_run.append(job["id"])
            with self._lock:
                self._jobs[job["id"]] = job
                self.save(job)
            if job["status"] not in ACTIVE and not (folder / "results.zip").is_file():
                self.build_zip(job["id"])  # ended, but the zip was not written
        return to_run
