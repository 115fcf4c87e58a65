"""Partial indexes for the catalog on PostgreSQL: one per sort order and main filter, listed offers only.

Every catalog query reads active offers in one of four orders (docs/catalog.md), so each index
is restricted to ``status = 'active'`` (withdrawn offers, which only accumulate, cost nothing)
and ends with ``id``, the tie-breaker of every order, so that a page is a range of the index
with no sort. ``stale_at`` and ``provider_id`` are included, so that the freshness test and the
approved-provider join of a deep page read the index alone (see catalog_search's pagination).
The capacity order puts unknown counts (NULL) last, as the catalog does.

The indexes are created CONCURRENTLY (no lock on the offers table while they build, hence a
non-atomic migration) and on PostgreSQL only; they are not part of Django's model state, which
cannot express INCLUDE with NULLS LAST and has no use for them on SQLite. See
docs/performance.md for the measurements behind them.
"""

from django.db import migrations

LISTED = "WHERE status = 'active'"
INDEXES = {
    "offer_live_price": "(price_per_gpu_hour, id) INCLUDE (stale_at, provider_id)",
    "offer_live_gpu_price": "(gpu_model_id, price_per_gpu_hour, id) INCLUDE (stale_at, provider_id)",
    "offer_live_country_price": "(country, price_per_gpu_hour, id) INCLUDE (stale_at, provider_id)",
    # The most common search, "this GPU in this country": cheap offers of a country are rarely
    # the GPU asked for, and expensive GPUs are rarely cheap, so neither index above suffices.
    "offer_live_gpu_country_price": "(gpu_model_id, country, price_per_gpu_hour, id) INCLUDE (stale_at, provider_id)",
    "offer_live_provider_price": "(provider_id, price_per_gpu_hour, id) INCLUDE (stale_at)",
    "offer_live_capacity": "(gpus_available DESC NULLS LAST, price_per_gpu_hour, id) INCLUDE (stale_at, provider_id)",
    "offer_live_verified": "(last_verified_at DESC, id) INCLUDE (stale_at, provider_id)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON marketplace_offer {columns} {LISTED}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("marketplace", "0004_offer_nodes_available_unknown"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
