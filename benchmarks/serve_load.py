"""Load test of ``trimatte serve``: throughput, latency, refusals, correctness, memory.

For each local Dask worker count (``--workers 1,2`` by default) the script starts
``trimatte serve`` as a subprocess on 127.0.0.1 (a free port, its own jobs folder),
sends ``--requests`` ``POST /v1/matte`` requests (default 200) with ``--concurrency``
in flight (default 16) from an httpx async client, and stops the server. Only loopback
traffic; every loop is bounded in count and in time (``--deadline`` seconds per run).

* Refusals: when the server answers 503 (busy: more than ``--max-active`` images in
  progress) the client waits ``--retry-wait`` s and tries again (at most 100 times);
  every 503 is counted, a request still refused after 100 tries counts as "refused at
  the end", one not sent before the run's deadline as "not sent"; any other answer
  that is not 200, or a connection error, is a failure.
* Correctness: the photos are ``--distinct`` different images sent round-robin;
  each answer's alpha PNG must be byte-identical to what ``trimatte matte`` writes
  for that image with the same pipeline (computed once per image, first). A
  mismatch (a lost or mixed-up result) is counted.
* Memory: the resident memory of the server and all its worker processes is sampled
  every 0.2 s; the table shows it after warm-up (the first 10% of the requests) and
  its peak, so growth with the number of requests shows.
* Latency: ``service`` p50/p95 of the accepted attempts; ``end-to-end`` includes the
  waits after 503s.

    python benchmarks/serve_load.py [--requests 200] [--concurrency 16]
        [--workers 1,2] [--pipeline grabcut] [--size 192] [--distinct 4]

Prints one table; exit code 1 if any request failed or any result did not match.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "data"
#: The server's named pipelines as CLI flags (trimatte.server.work.PIPELINES).
PIPELINE_FLAGS = {
    "grabcut": ["--trimap-method", "grabcut", "--matting", "closed-form"],
    "grabcut-hard": ["--trimap-method", "grabcut", "--matting", "grabcut-hard"],
    "default": ["--trimap-method", "salient", "--matting", "closed-form"],
    "dim": ["--trimap-method", "salient", "--matting", "dim"],
}


def make_photos(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` distinct photos, long side ``size``: the example photos, then variants."""
    sources = sorted(EXAMPLES.glob("*.jpg"))
    paths = []
    for index in range(count):
        image = cv2.imread(str(sources[index % len(sources)]))
        scale = size / max(image.shape[:2])
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if index >= len(sources):  # a different crop and flip: a different image
            image = cv2.flip(image, 1)[index % 7:, index % 5:]
        path = folder / f"photo{index}.png"
        cv2.imwrite(str(path), image)
        paths.append(path)
    return paths


def cli_alphas(photos: list[Path], pipeline: str, folder: Path) -> dict[str, bytes]:
    """The alpha PNG bytes ``trimatte matte`` writes for each photo."""
    out = folder / "cli"
    command = [sys.executable, "-m", "trimatte.cli.main", "matte", *map(str, photos),
               "-o", str(out), "--save", "alpha", *PIPELINE_FLAGS[pipeline]]
    subprocess.run(command, check=True, timeout=600, env=_env())
    return {p.name: (out / f"{p.stem}_alpha.png").read_bytes() for p in photos}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Memory(threading.Thread):
    """Samples the RSS (MB) of a process and its children until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def rss(self) -> float:
        import psutil

        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.samples.append((time.monotonic(), self.rss()))


async def load(url: str, photos: dict[str, bytes], expected: dict[str, bytes], args,
               progress: list[int]) -> dict:
    import httpx

    names = sorted(photos)
    stats = {"ok": 0, "refused": 0, "gave_up": 0, "late": 0, "failed": 0, "mismatch": 0,
             "service": [], "e2e": [], "errors": []}
    semaphore = asyncio.Semaphore(args.concurrency)
    deadline = time.monotonic() + args.deadline
    limits = httpx.Limits(max_connections=args.concurrency)

    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def one(index: int) -> None:
            name = names[index % len(names)]
            async with semaphore:
                first = time.perf_counter()
                for _ in range(100):
                    if time.monotonic() > deadline:
                        stats["late"] += 1  # not sent (again) after the run's deadline
                        return
                    start = time.perf_counter()
                    try:
                        response = await client.post(
                            "/v1/matte", files={"image": (name, photos[name], "image/png")},
                            data={"pipeline": args.pipeline, "outputs": "alpha"})
                    except httpx.HTTPError as exc:
                        stats["failed"] += 1
                        stats["errors"].append(type(exc).__name__)
                        return
                    if response.status_code == 503:
                        stats["refused"] += 1
                        assert response.headers.get("retry-after"), "503 without Retry-After"
                        await asyncio.sleep(args.retry_wait)
                        continue
                    break
                end = time.perf_counter()
                progress.append(index)
                if response.status_code == 503:
                    stats["gave_up"] += 1  # still refused, cleanly, after 100 tries
                    return
                if response.status_code != 200:
                    stats["failed"] += 1
                    stats["errors"].append(f"{response.status_code}: {response.text[:100]}")
                    return
                stats["ok"] += 1
                stats["service"].append(end - start)
                stats["e2e"].append(end - first)
                if response.content != expected[name]:
                    stats["mismatch"] += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(args.requests)))
        stats["elapsed"] = time.perf_counter() - start
    return stats


def run_server(workers: int, photos, expected, args, folder: Path) -> dict:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "trimatte.cli.main", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--max-active",
               str(args.max_active), "--jobs-dir", str(folder / f"jobs{workers}")]
    server = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        ready = time.monotonic() + 180
        while time.monotonic() < ready:
            if server.poll() is not None:
                raise RuntimeError(f"server exited: {server.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(url + "/health", timeout=2).json()["workers"] >= workers:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("server did not become ready in 180 s")
        # warm every worker (imports, JIT) outside the measurement
        asyncio.run(load(url, photos, expected, argparse.Namespace(
            **{**vars(args), "requests": 2 * workers, "concurrency": workers}), []))
        memory = Memory(server.pid)
        memory.start()
        progress: list[int] = []
        stats = asyncio.run(load(url, photos, expected, args, progress))
        memory.done.set()
        memory.join()
        samples = [mb for _, mb in memory.samples]
        warm = samples[max(0, len(samples) // 10 - 1)] if samples else float("nan")
        stats.update(workers=workers, rss_warm=warm, rss_peak=max(samples, default=float("nan")))
        return stats
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", default="1,2", help="local Dask worker counts to run")
    parser.add_argument("--pipeline", default="grabcut", choices=sorted(PIPELINE_FLAGS))
    parser.add_argument("--size", type=int, default=192, help="long side of the photos")
    parser.add_argument("--distinct", type=int, default=4, help="different photos")
    parser.add_argument("--max-active", type=int, default=8, help="server --max-active")
    parser.add_argument("--retry-wait", type=float, default=0.25)
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds per run")
    args = parser.parse_args(argv)
    # a SIGTERM (e.g. from `timeout`) unwinds normally, so the server is always stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not 1 <= args.requests <= 10_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be in 1..10000 and --concurrency in 1..256")

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        folder = Path(tmp)
        paths = make_photos(folder, args.distinct, args.size)
        photos = {p.name: p.read_bytes() for p in paths}
        print(f"computing the CLI's alpha for {len(paths)} photos ({args.pipeline})...",
              file=sys.stderr)
        expected = cli_alphas(paths, args.pipeline, folder)
        rows = []
        for workers in [int(w) for w in args.workers.split(",")]:
            print(f"load: {args.requests} requests, concurrency {args.concurrency}, "
                  f"{workers} worker(s)...", file=sys.stderr)
            rows.append(run_server(workers, photos, expected, args, folder))

    print(f"\ntrimatte serve, POST /v1/matte, pipeline {args.pipeline}, {args.distinct} "
          f"photos of {args.size} px, {args.requests} requests, concurrency "
          f"{args.concurrency}, --max-active {args.max_active}, {os.cpu_count()} CPU(s)\n")
    header = ("| workers | ok | 503 answers | refused at the end | not sent by deadline "
              "| failed | mismatched | images/s | service p50 / p95 s | end-to-end p50 / p95 s "
              "| RSS warm / peak MB |")
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    bad = 0
    for row in rows:
        service, e2e = np.array(row["service"] or [np.nan]), np.array(row["e2e"] or [np.nan])
        print(f"| {row['workers']} | {row['ok']} | {row['refused']} | {row['gave_up']} | "
              f"{row['late']} | {row['failed']} | "
              f"{row['mismatch']} | {row['ok'] / row['elapsed']:.2f} | "
              f"{np.percentile(service, 50):.2f} / {np.percentile(service, 95):.2f} | "
              f"{np.percentile(e2e, 50):.2f} / {np.percentile(e2e, 95):.2f} | "
              f"{row['rss_warm']:.0f} / {row['rss_peak']:.0f} |")
        bad += row["failed"] + row["mismatch"]
        for error in sorted(set(row["errors"]))[:5]:
            print(f"  error: {error}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
