"""Offer rows: milliseconds per row as the catalog renders them, in English and French.

Renders the rows of ``--rows`` listed offers (a generated marketplace, the same for the same
seed) as every offer table does (the floor view's template: the rows and nothing else),
``--repeat`` times per language, and prints the median time per row; then the median time of
a whole catalog page of that many rows through the WSGI handler, for scale. DEBUG is off
(cached templates), as in production. The database is a throwaway one: SQLite in /tmp by
default, or any ``--database-url`` (bench/generate.py fills it).

    python -m bench.rows [--rows 200] [--repeat 30] [--profile]
"""

import argparse
import cProfile
import os
import pstats
import statistics
import time

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_rows.sqlite3"
OFFERS = 2000  # enough for 200 rows of every kind: stale, sold out, unknown counts, reserved


def setup(database_url: str) -> None:
    os.environ["BENCH_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    if database_url.startswith(("postgres://", "postgresql://")):
        from bench.common import database_create

        database_create(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.generate import dataset_generate

    dataset_generate(offers=OFFERS, seed=42)


def page_of_offers(rows: int) -> list:
    """What the catalog's first page holds, stale offers included (as with ?stale=1)."""
    from marketplace.models import Offer
    from marketplace.selectors import ROW_RELATIONS

    return list(Offer.objects.listed().select_related(*ROW_RELATIONS).order_by("price_per_gpu_hour", "id")[:rows])


def render_rows(offers: list) -> str:
    from django.template.loader import render_to_string

    # The floor view's template: nothing but the catalog's rows.
    return render_to_string("bench/floor.html", {"offers": offers})


def ms_per_row(offers: list, *, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render_rows(offers)
        times.append((time.perf_counter() - started) * 1000 / len(offers))
    return times


def page_ms(rows: int, *, repeat: int) -> float:
    """The median time of a whole catalog page of ``rows`` rows (with stale offers)."""
    from bench.catalog import Server

    server = Server()
    url = f"/?per_page={rows}&stale=1"
    server.get(url)
    times = []
    for _ in range(repeat):
        elapsed, status, body = server.timed(url)
        assert status == 200 and body.count(b'data-offer="') == rows, (status, body.count(b'data-offer="'))
        times.append(elapsed)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--profile", action="store_true", help="print where the time goes (cProfile)")
    args = parser.parse_args()
    setup(args.database_url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    offers = page_of_offers(args.rows)
    with CaptureQueriesContext(connection) as queries:
        html = render_rows(offers)  # also warms the template cache
    assert html.count('data-offer="') == len(offers)
    print(f"{len(offers)} rows, {len(html) // len(offers)} bytes per row, {len(queries)} queries while rendering")
    for language in ["en", "fr"]:
        with translation.override(language):
            times = ms_per_row(offers, repeat=args.repeat)
        print(
            f"  {language}: {statistics.median(times):.3f} ms per row (median of {args.repeat}, "
            f"min {min(times):.3f}); {statistics.median(times) * len(offers):.1f} ms for {len(offers)} rows"
        )
    print(f"  catalog page of {len(offers)} rows (?stale=1): {page_ms(len(offers), repeat=args.repeat):.1f} ms median")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(ms_per_row, offers, repeat=10)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
