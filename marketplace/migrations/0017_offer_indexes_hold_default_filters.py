"""The catalog's indexes hold the columns its pages filter on, so that a page's ids, however deep,
are read from the index alone (docs/performance.md).

Every listed page filters on more than its sort key: sold-out offers are hidden
(``nodes_available``), the default view is NVIDIA's (``gpu_model_id``), fresh only (``status``),
from approved providers (``provider_id``). With those in each sort index's INCLUDE, PostgreSQL
reads a page's ids with an index-only scan and skips the entries that do not match without
visiting the table. Measured at 1M offers (``make bench``): page 400 from 45 to 23 ms, and the
"8x NVLink + InfiniBand under 3.00" page, whose GPUs per node, interconnect and network the
plain price index now holds too, from 63 to 22 ms. An index whose key starts with a filter
column holds the others as well, or PostgreSQL prefers the wider price index and its filter for a
GPU alone (35 ms instead of 0.6: the GPU's offers are not spread evenly along the prices).

One more index serves the fabric a multi-node job needs, NVLink inside the node and InfiniBand
(or RoCE) between nodes: keyed on (gpu_interconnect, network) before the price order, a page of
"8x NVLink + InfiniBand under 3.00" reads about 60 entries instead of 32,000 (0.7 ms, was 5.7).

PostgreSQL only (SQLite has no INCLUDE, and its indexes are 0016's). Each index is built under a
temporary name, CONCURRENTLY, then swapped for the old one: the catalog always has one.
"""

import importlib

from django.db import migrations

FORMER = importlib.import_module("marketplace.migrations.0016_offer_stale_status")
FILTERED = "provider_id, status, nodes_available, gpu_model_id"
INCLUDES = {
    "offer_listed_price": f"{FILTERED}, gpus_per_node, gpu_interconnect, network",
    "offer_listed_gpu_price": "provider_id, status, nodes_available",
    "offer_listed_country_price": FILTERED,
    "offer_listed_gpu_country_price": "provider_id, status, nodes_available",
    "offer_listed_provider_price": "status, nodes_available, gpu_model_id",
    "offer_listed_capacity": FILTERED,
    "offer_listed_normalized_price": FILTERED,
    "offer_listed_connection": FILTERED,
}

FABRIC = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS offer_listed_fabric_price ON marketplace_offer "
    "(gpu_interconnect, network, pricing_type, min_term_months, price_normalized, id) "
    f"INCLUDE ({FILTERED}, gpus_per_node) {FORMER.LISTED}"
)


def _rebuild(schema_editor, includes: dict[str, str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, include in includes.items():
        columns, _include, where = FORMER.INDEXES[name]
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}_new")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {name}_new ON marketplace_offer {columns} INCLUDE ({include}) {where}"
        )
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"ALTER INDEX {name}_new RENAME TO {name}")


def widen(apps, schema_editor):
    _rebuild(schema_editor, INCLUDES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FABRIC)


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS offer_listed_fabric_price")
    _rebuild(schema_editor, {name: FORMER.INDEXES[name][1].removeprefix("INCLUDE (")[:-1] for name in INCLUDES})


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("marketplace", "0016_offer_stale_status")]

    operations = [migrations.RunPython(widen, narrow, elidable=False)]
