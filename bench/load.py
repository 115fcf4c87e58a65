"""Throughput: gunicorn (2 sync workers) on 127.0.0.1 under 16 concurrent users.

The load client is a small bounded asyncio loop over httpx: 16 users, each requesting the next
URL as soon as its previous one answered, for a fixed duration. First the workload URLs (each
user walks the workload from its own starting point, full pages and htmx fragments as listed),
then the floor view alone. The client runs on the same machine as the server and PostgreSQL, so
it takes some of the CPU; both runs pay that alike.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.common import percentile

PORT = int(os.environ.get("BENCH_PORT", "8118"))
USERS = 16
WORKERS = 2


def throughput_measure(*, database_url: str, duration: float, users: int = USERS) -> dict:
    from bench.catalog import FLOOR_URL
    from bench.workload import WORKLOAD

    mix = [(query.url, query.fragment) for query in WORKLOAD]
    with gunicorn(database_url):
        base = f"http://127.0.0.1:{PORT}"
        # Warm up, one request at a time: each URL 3 times per worker (the sync workers take
        # connections at random), so that the runs measure serving, not first-time costs.
        asyncio.run(warm_up(base, [*mix, (FLOOR_URL, False)], times=3 * WORKERS))
        workload = asyncio.run(load(base, mix, users=users, duration=duration))
        floor = asyncio.run(load(base, [(FLOOR_URL, False)], users=users, duration=duration))
    workload["ratio_to_floor"] = round(workload["rps"] / floor["rps"], 3) if floor["rps"] else None
    print(
        f"  throughput: workload {workload['rps']} rps (p95 {workload['p95_ms']} ms, {workload['errors']} errors), "
        f"floor {floor['rps']} rps",
        file=sys.stderr,
    )
    return {"users": users, "workers": WORKERS, "duration_s": duration, "workload": workload, "floor": floor}


class gunicorn:
    """Run gunicorn with the bench settings for the duration of a with block."""

    def __init__(self, database_url: str):
        self.env = {**os.environ, "BENCH_DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "bench.settings"}

    def __enter__(self):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, env=self.env, cwd=Path(__file__).resolve().parent.parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{PORT}/bench/floor/", timeout=5).raise_for_status()
                return self
            except httpx.HTTPError:
                if self.process.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit("gunicorn did not answer within 30 s")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def warm_up(base: str, urls: list[tuple[str, bool]], *, times: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for _ in range(times):
            for url, fragment in urls:
                await client.get(url, headers={"HX-Request": "true"} if fragment else {})


async def load(base: str, urls: list[tuple[str, bool]], *, users: int, duration: float) -> dict:
    """``users`` concurrent users requesting ``urls`` in turn for ``duration`` seconds."""
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + duration

        async def user(start: int) -> None:
            index = start
            while time.perf_counter() < deadline:
                url, fragment = urls[index % len(urls)]
                index += 1
                headers = {"HX-Request": "true"} if fragment else {}
                started = time.perf_counter()
                try:
                    response = await client.get(url, headers=headers)
                    if response.status_code != 200:
                        errors.append(f"{url}: {response.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{url}: {type(exc).__name__}")
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(user(n * len(urls) // users) for n in range(users)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
    }
