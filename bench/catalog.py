"""The catalog at one dataset size: server time per workload query against the floor, then throughput.

Server time is measured in-process through Django's WSGI handler (every middleware, the view,
the templates; no network, no test client instrumentation), DEBUG off, with a persistent
database connection. Each query first runs with the catalog cache cleared ("cold": what the
first visitor of a filter combination waits; the median of three such requests, one in quick
mode), then ``reps`` times ("warm"); the floor view is measured the same way, in the same run.

    python -m bench.catalog --offers 100000 --reps 20 --output /tmp/catalog.json
"""

import argparse
import io
import json
import re
import statistics
import sys
import time
from urllib.parse import parse_qs

from bench.common import base_database_url, database_url_for, django_setup, size_label, summarize_ms

MATCHES = re.compile(r"<h1>(\d+) offers?</h1>")
FLOOR_URL = "/bench/floor/"
COLD_RUNS = 3  # the median of three: one cold request says little on a busy machine


class Server:
    """Calls the WSGI application directly and returns (status, body)."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, url: str, *, fragment: bool = False) -> tuple[int, bytes]:
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.input": io.BytesIO(),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        if fragment:
            environ["HTTP_HX_REQUEST"] = "true"
        statuses = []
        response = self.handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        body = b"".join(response)
        if hasattr(response, "close"):
            response.close()  # fires request_finished, as a real server does
        return int(statuses[0].split()[0]), body

    def timed(self, url: str, *, fragment: bool = False) -> tuple[float, int, bytes]:
        started = time.perf_counter()
        status, body = self.get(url, fragment=fragment)
        return (time.perf_counter() - started) * 1000, status, body


def catalog_choices() -> None:
    from marketplace.filters import catalog_choices

    catalog_choices()


def catalog_cache_clear() -> None:
    from django.core.cache import cache

    cache.clear()


def measure(server: Server, url: str, *, fragment: bool, reps: int) -> dict:
    """Cold runs, then ``reps`` warm runs each followed by a run of the floor, then the SQL.

    Interleaving the floor with the query makes their ratio fair on a machine whose load
    changes during the benchmark (as a shared CI machine's does). The floor renders as many
    rows as the query's page holds (its per_page).
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    per_page = parse_qs(url.partition("?")[2]).get("per_page")
    floor_url = f"{FLOOR_URL}?per_page={per_page[0]}" if per_page else FLOOR_URL
    cold_times = []
    for _ in range(COLD_RUNS if reps >= 10 else 1):
        catalog_cache_clear()
        # The filters' choices are kept per process and reloaded every CATALOG_CACHE_SECONDS
        # whatever the filters: not the cost of a first request of a filter set. Reloaded here
        # when due, so that no cold run counts them by chance.
        catalog_choices()
        with CaptureQueriesContext(connection) as captured:
            cold_times.append(server.timed(url, fragment=fragment)[0])
        # Counted now: each request outside a capture clears the connection's query log.
        cold_queries = len(captured)
    times, floor_times = [], []
    for _ in range(reps):
        elapsed, status, body = server.timed(url, fragment=fragment)
        if status != 200:
            raise SystemExit(f"{url} answered {status}")
        times.append(elapsed)
        floor_times.append(server.timed(floor_url)[0])
    with CaptureQueriesContext(connection) as captured:
        server.get(url, fragment=fragment)
    queries = len(captured)
    text = body.decode()
    matches = MATCHES.search(text)
    floor = summarize_ms(floor_times)
    return {
        **summarize_ms(times),
        "cold_ms": round(statistics.median(cold_times), 2),
        "queries": queries,
        "cold_queries": cold_queries,
        "rows": text.count('data-offer="'),
        "matches": int(matches.group(1)) if matches else None,
        "bytes": len(body),
        "floor_median_ms": floor["median_ms"],
        "floor_p95_ms": floor["p95_ms"],
        "ratio_to_floor": round(statistics.median(times) / floor["median_ms"], 2),
    }


def floor_measure(server: Server, *, reps: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = [server.timed(FLOOR_URL)[0] for _ in range(reps)]
    with CaptureQueriesContext(connection) as queries:
        status, body = server.get(FLOOR_URL)
    return {**summarize_ms(times), "queries": len(queries), "rows": body.decode().count('data-offer="')}


def catalog_measure(*, reps: int) -> dict:
    from bench.workload import WORKLOAD

    server = Server()
    server.get("/")  # import-time and first-connection costs are nobody's request
    server.get(FLOOR_URL)
    floor = floor_measure(server, reps=reps)
    results = []
    for query in WORKLOAD:
        figures = measure(server, query.url, fragment=query.fragment, reps=reps)
        results.append({"name": query.name, "url": query.url, "fragment": query.fragment, **figures})
        print(
            f"  {query.name:<45} median {figures['median_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f}  "
            f"cold {figures['cold_ms']:6.1f}  floor {figures['floor_median_ms']:5.1f}  "
            f"x{figures['ratio_to_floor']:<5} {figures['queries']}/{figures['cold_queries']} queries",
            file=sys.stderr,
        )
    # The floor alone again at the end: if the machine got busier meanwhile, it shows.
    floor_after = floor_measure(server, reps=reps)
    return {"floor": floor, "floor_after": floor_after, "queries": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20, help="seconds of load per throughput run (0: skip)")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    url = database_url_for(base_database_url(), size_label(args.offers))
    django_setup(url)
    from bench.generate import dataset_generate

    dataset = dataset_generate(offers=args.offers, seed=args.seed)
    print(
        f"{size_label(args.offers)} offers: dataset {'reused' if dataset.reused else 'generated'} "
        f"in {dataset.seconds:.1f} s",
        file=sys.stderr,
    )
    result = {"offers": args.offers, "dataset": dataset.__dict__, **catalog_measure(reps=args.reps)}
    if args.duration > 0:
        from bench.load import throughput_measure

        result["throughput"] = throughput_measure(database_url=url, duration=args.duration)
    with open(args.output, "w") as out:
        json.dump(result, out, indent=1)


if __name__ == "__main__":
    main()
