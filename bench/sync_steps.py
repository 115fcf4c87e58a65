"""Where a sync's time goes: the steps of the three syncs of bench/sync.py, timed one by one.

    python -m bench.sync_steps [--offers 100000] [--dataset 10000]

The same feed server, feed and steps as ``sync_connection_run`` (fetch, parse, apply in one
transaction, commit), without the SyncRun bookkeeping, in this process. "apply" is split into
what ``offers_apply_inventory`` spends in its bulk writes (COPY, the array UPDATE, the first
snapshots); "commit" is mostly PostgreSQL checking the deferred foreign keys of the new rows.
"""

import argparse
import time
from contextlib import contextmanager

from bench.common import base_database_url, database_url_for, django_setup, size_label, table


@contextmanager
def timed(times: dict, name: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        times[name] = times.get(name, 0.0) + time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--dataset", type=int, default=10_000, help="the catalog dataset the sync runs beside")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    django_setup(database_url_for(base_database_url(), size_label(args.dataset)))
    from django.db import transaction
    from django.utils import timezone

    from bench.generate import dataset_generate
    from bench.sync import FeedServer, feed_connection, feed_documents
    from marketplace import services
    from portal.lib.http import GuardedClient
    from sync.adapters.registry import get_adapter
    from sync.engine import _gc_paused

    dataset_generate(offers=args.dataset, seed=args.seed)
    first, changed = feed_documents(offers=args.offers, seed=args.seed)
    connection = feed_connection()
    adapter = get_adapter(connection.kind)
    rows, times = [], {}
    for name in ("rows_insert", "rows_update", "_snapshots_of_created"):  # the bulk writes, timed inside apply
        original = getattr(services, name)

        def wrapper(*a, _original=original, _name=name, **k):
            with timed(times, _name):
                return _original(*a, **k)

        setattr(services, name, wrapper)
    with FeedServer() as server:
        for step, payload in [("first", first), ("unchanged", first), ("changed_10pct", changed)]:
            server.payload = payload
            times.clear()
            with timed(times, "fetch"), GuardedClient() as http:
                fetched = adapter.fetch(base_url=connection.base_url, credentials="", client=http)
            with timed(times, "parse"), _gc_paused():
                inventory = adapter.parse(fetched)
            del fetched
            with timed(times, "commit"), transaction.atomic():
                with timed(times, "apply"):
                    services.inventory_apply(connection=connection, inventory=inventory, now=timezone.now())
            times["commit"] -= times["apply"]
            writes = times.get("rows_insert", 0) + times.get("rows_update", 0) + times.get("_snapshots_of_created", 0)
            total = times["fetch"] + times["parse"] + times["apply"] + times["commit"]
            rows.append([step, times["fetch"], times["parse"], times["apply"] - writes, writes, times["commit"], total])
    feed_connection()  # leave the dataset as it was
    headers = ["sync", "fetch s", "parse s", "read+compare+verify s", "bulk writes s", "commit s", "total s"]
    rows = [[row[0], *(round(value, 2) for value in row[1:])] for row in rows]
    print(table(headers, rows, f"Steps of a sync of a {args.offers}-offer feed (seconds)"))


if __name__ == "__main__":
    main()
