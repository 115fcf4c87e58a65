"""Helpers shared by the benchmark steps: databases, Django setup, statistics, tables."""

import math
import os
import statistics
from urllib.parse import urlsplit, urlunsplit

import psycopg


def base_database_url() -> str:
    """The PostgreSQL URL the bench databases are named after.

    BENCH_DATABASE_URL if set, else DATABASE_URL with "_bench" appended to its name, so the
    bench never writes into the database the portal or the tests use.
    """
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(url)
            url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_bench"))
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "The benchmarks need PostgreSQL: set BENCH_DATABASE_URL (or DATABASE_URL) to a postgres:// URL, "
            "e.g. BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gpu_marketplace_bench"
        )
    return url


def database_url_for(base: str, suffix: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{suffix}"))


def database_create(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (connecting to "postgres")."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str) -> None:
    """Point Django at ``database_url`` with the bench settings, set it up and migrate."""
    os.environ["BENCH_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    database_create(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def size_label(offers: int) -> str:
    if offers >= 1_000_000 and offers % 1_000_000 == 0:
        return f"{offers // 1_000_000}m"
    if offers >= 1000 and offers % 1000 == 0:
        return f"{offers // 1000}k"
    return str(offers)


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: p95 of 20 runs is the 19th fastest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summarize_ms(values: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "min_ms": round(min(values), 2),
        "runs": len(values),
    }


def table(headers: list[str], rows: list[list], title: str = "") -> str:
    """A plain text table; numbers right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [all(_is_number(row[i]) for row in rows) if rows else False for i in range(len(headers))]

    def line(values):
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    out = [title] if title else []
    out += [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _is_number(value) -> bool:
    return isinstance(value, int | float) or value is None


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)
