"""The sync engine: a provider feed of N offers served over local HTTP, synced three times.

1. first sync: every offer is new;
2. unchanged re-sync: the same feed again;
3. changed re-sync: 10% of the offers have a new price and a new availability.

Each sync runs ``sync_connection_run`` in a fresh subprocess (bench/sync_worker.py), as a Celery
worker would, so its wall time and peak RSS are its own. The floor is PostgreSQL COPY of the same
rows into an unindexed table. Then the dispatcher: every approved connection (980 of 1,000) due, claimed and enqueued by
``dispatch_due_syncs`` into the broker of bench.settings (BENCH_BROKER_URL, memory:// by default).

    python -m bench.sync --offers 100000 --output /tmp/sync.json
"""

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import base_database_url, database_url_for, django_setup

FEED_PORT = int(os.environ.get("BENCH_FEED_PORT", "8119"))
FEED_SLUG = "bench-feed"
BASE_DIR = Path(__file__).resolve().parent.parent


def feed_documents(*, offers: int, seed: int) -> tuple[bytes, bytes]:
    """The feed, and the same feed with 10% of the prices and availabilities changed."""
    from bench.generate import COUNTRIES, GPU_MIX
    from marketplace.models import GpuModel, Offer

    rng = random.Random(seed)
    names = dict(GpuModel.objects.values_list("slug", "name"))
    gpus = [slug for slug in GPU_MIX if slug in names]
    weights = [GPU_MIX[slug][0] for slug in gpus]
    unknown_counts = Offer._meta.get_field("nodes_available").null
    countries = list(COUNTRIES)[:30]
    regions = [
        {"code": f"r-{n:03d}", "country": countries[n % len(countries)], "city": f"City {n}", "name": f"Zone {n}"}
        for n in range(200)
    ]
    items = []
    for index, slug in enumerate(rng.choices(gpus, weights, k=offers)):
        pricing = rng.choices(["on_demand", "spot", "reserved"], [60, 25, 15])[0]
        available = min(int(rng.expovariate(1 / 6)), 256)
        if unknown_counts and rng.random() < 0.05:
            available = None
        items.append(
            {
                "id": f"offer-{index:06d}",
                "region": regions[rng.randrange(len(regions))]["code"],
                "gpu": names[slug],
                "gpus_per_node": rng.choice([1, 2, 4, 8, 8, 8]),
                "vcpus": rng.choice([32, 64, 128]),
                "ram_gb": rng.choice([256, 512, 1024, 2048]),
                "storage_gb": rng.choice([1000, 3840, 7680]),
                "gpu_interconnect": rng.choice(["nvlink", "pcie", None]),
                "network": rng.choice(["infiniband", "roce", "ethernet", None]),
                "pricing_type": pricing,
                "price_per_gpu_hour": str(
                    (Decimal(GPU_MIX[slug][1]) * Decimal(rng.uniform(0.6, 1.3))).quantize(Decimal("0.0001"))
                ),
                "currency": "USD",
                "min_term_months": rng.choice([1, 3, 6, 12, 36]) if pricing == "reserved" else None,
                "nodes_available": available,
                "nodes_total": (available or 0) + rng.randrange(0, 64),
            }
        )
    header = {
        "format": "gpu-marketplace-feed",
        "version": 1,
        "generated_at": "2026-11-27T06:00:00Z",
        "provider": {"name": "Bench Feed"},
        "regions": regions,
    }
    first = json.dumps({**header, "offers": items}, separators=(",", ":")).encode()
    for item in rng.sample(items, len(items) // 10):
        item["price_per_gpu_hour"] = str(
            (Decimal(item["price_per_gpu_hour"]) * Decimal("1.05")).quantize(Decimal("0.0001"))
        )
        available = (item["nodes_available"] or 0) + 1
        item["nodes_available"] = available
        item["nodes_total"] = max(item["nodes_total"], available)
    changed = json.dumps({**header, "offers": items}, separators=(",", ":")).encode()
    return first, changed


class FeedServer:
    """A local HTTP server answering every GET with the current ``payload``."""

    def __init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.payload)))
                self.end_headers()
                self.wfile.write(server.payload)

            def log_message(self, *args):
                pass

        self.payload = b""
        self.httpd = ThreadingHTTPServer(("127.0.0.1", FEED_PORT), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def feed_connection():
    """The bench feed provider and its connection, emptied of offers, regions and runs."""
    from django.db import connection as db

    from providers.models import Provider
    from sync.models import SyncConnection

    provider, _ = Provider.objects.update_or_create(
        slug=FEED_SLUG, defaults={"name": "Bench Feed", "hq_country": "NL", "status": Provider.Status.APPROVED}
    )
    sync_connection, _ = SyncConnection.objects.update_or_create(
        provider=provider,
        name="Bench feed",
        # Disabled: the dispatcher benchmark must not claim it; the worker runs it directly.
        defaults={"base_url": f"http://127.0.0.1:{FEED_PORT}/feed.json", "enabled": False, "interval_seconds": 300},
    )
    with db.cursor() as cursor:
        cursor.execute(
            "DELETE FROM marketplace_offersnapshot WHERE offer_id IN "
            "(SELECT id FROM marketplace_offer WHERE provider_id = %s)",
            [provider.pk],
        )
        cursor.execute("DELETE FROM marketplace_offer WHERE provider_id = %s", [provider.pk])
        cursor.execute("DELETE FROM sync_syncrun WHERE connection_id = %s", [sync_connection.pk])
        cursor.execute("DELETE FROM providers_region WHERE provider_id = %s", [provider.pk])
        cursor.execute("VACUUM ANALYZE marketplace_offer")
    return sync_connection


def sync_in_subprocess(*, connection_id: int, database_url: str) -> dict:
    env = {**os.environ, "BENCH_DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-m", "bench.sync_worker", str(connection_id)],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - started, 2)
    return result


def copy_floor(payload: bytes) -> dict:
    """COPY the feed's offers, as offer rows, into a fresh table with no index (and with indexes)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.generate import OFFER_COLUMNS
    from sync.adapters.feed import FeedAdapter

    inventory = FeedAdapter().parse(payload)
    now = timezone.now()
    rows = [
        (1, 1, "NL", 1, o.gpus_per_node, o.vcpus, o.ram_gb, o.storage_gb, o.gpu_interconnect, o.network,
         o.pricing_type, o.min_term_months, o.price_per_gpu_hour, o.currency, o.price_per_gpu_hour,
         o.nodes_available, o.nodes_total,
         "active", o.external_id, "sync", None, now, now, now, now)
        for o in inventory.offers
    ]  # fmt: skip
    result = {"rows": len(rows)}
    # The floor: a table with the offer table's columns and nothing else. Beside it, for the
    # analysis, a copy of the offer table with all its indexes and constraints.
    for key, create in [
        (
            "seconds",
            f"CREATE TABLE bench_copy_floor AS SELECT {', '.join(OFFER_COLUMNS)} FROM marketplace_offer WITH NO DATA",
        ),
        ("indexed_seconds", "CREATE TABLE bench_copy_floor (LIKE marketplace_offer INCLUDING ALL)"),
    ]:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy_floor")
            cursor.execute(create)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY bench_copy_floor ({', '.join(OFFER_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        result[key] = round(time.perf_counter() - started, 3)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_copy_floor")
    return result


def parse_time(payload: bytes) -> float:
    """Seconds the feed adapter takes to decode, validate and normalize the payload."""
    from sync.adapters.feed import FeedAdapter

    started = time.perf_counter()
    FeedAdapter().parse(payload)
    return round(time.perf_counter() - started, 3)


def dispatcher_measure(*, connections: int = 1000) -> dict:
    """Make ``connections`` connections due, then time one dispatch_due_syncs()."""
    from django.conf import settings
    from django.utils import timezone

    from portal.celery import app
    from providers.models import Provider
    from sync.models import SyncConnection
    from sync.tasks import dispatch_due_syncs

    now = timezone.now()
    ids = list(
        # Only approved providers' connections sync: the others are never due.
        SyncConnection.objects.exclude(provider__slug=FEED_SLUG)
        .filter(provider__status=Provider.Status.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)[:connections]
    )
    SyncConnection.objects.filter(pk__in=ids).update(enabled=True, next_sync_at=now - timedelta(minutes=1))
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        app.amqp.queues["sync"].bind(conn.default_channel).declare()
        started = time.perf_counter()
        enqueued = dispatch_due_syncs()
        seconds = time.perf_counter() - started
        purged = conn.default_channel.queue_purge("sync")
    SyncConnection.objects.filter(pk__in=ids).update(next_sync_at=now + timedelta(days=365))
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    return {"due": len(ids), "enqueued": enqueued, "seconds": round(seconds, 3), "broker": broker, "purged": purged}


def sync_measure(*, offers: int, seed: int, database_url: str) -> dict:
    first, changed = feed_documents(offers=offers, seed=seed)
    sync_connection = feed_connection()
    result = {"offers": offers, "feed_mb": round(len(first) / 1e6, 1), "parse_s": parse_time(first)}
    with FeedServer() as server:
        for step, payload in [("first", first), ("unchanged", first), ("changed_10pct", changed)]:
            server.payload = payload
            result[step] = sync_in_subprocess(connection_id=sync_connection.pk, database_url=database_url)
            print(
                f"  sync {step}: {result[step]['seconds']} s, peak RSS {result[step]['peak_rss_mb']} MB, "
                f"{result[step]['outcome']}",
                file=sys.stderr,
            )
    result["copy_floor"] = copy_floor(first)
    result["first_ratio_to_floor"] = round(result["first"]["seconds"] / result["copy_floor"]["seconds"], 1)
    feed_connection()  # leave the dataset as it was
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--dataset", type=int, default=10_000, help="the catalog dataset the sync runs beside")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    from bench.common import size_label

    url = database_url_for(base_database_url(), size_label(args.dataset))
    django_setup(url)
    from bench.generate import dataset_generate

    dataset_generate(offers=args.dataset, seed=args.seed)
    result = {"sync": sync_measure(offers=args.offers, seed=args.seed, database_url=url)}
    result["dispatcher"] = dispatcher_measure()
    print(f"  dispatcher: {result['dispatcher']}", file=sys.stderr)
    with open(args.output, "w") as out:
        json.dump(result, out, indent=1)


if __name__ == "__main__":
    main()
