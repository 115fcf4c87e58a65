"""The catalog's partial indexes follow the price it now compares: the normalized one (EUR), with
pricing types kept apart.

The price orders are (pricing_type, min_term_months, price_normalized, id): on demand, then
reserved by term, then spot, each cheapest first (marketplace.filters.SORTS). Each index of 0007
is rebuilt on that order, so a page is still an index range scan; the capacity order breaks ties
on the normalized price; one more index, on the normalized price alone, serves price caps. As in 0007: listed offers only, no verification column, CONCURRENTLY
on PostgreSQL (INCLUDE, NULLS LAST there only).
"""

import importlib

from django.db import migrations, models

LISTED = "WHERE status = 'active'"
PRICE = "pricing_type, min_term_months, price_normalized, id"
INDEXES = {  # name: (columns, PostgreSQL-only INCLUDE)
    "offer_listed_price": (f"({PRICE})", "INCLUDE (provider_id)"),
    "offer_listed_gpu_price": (f"(gpu_model_id, {PRICE})", "INCLUDE (provider_id)"),
    "offer_listed_country_price": (f"(country, {PRICE})", "INCLUDE (provider_id)"),
    "offer_listed_gpu_country_price": (f"(gpu_model_id, country, {PRICE})", "INCLUDE (provider_id)"),
    "offer_listed_provider_price": (f"(provider_id, {PRICE})", ""),
    "offer_listed_capacity": ("(gpus_available DESC NULLS LAST, price_normalized, id)", "INCLUDE (provider_id)"),
    # A price cap (max_price) is a range of the normalized price, which the indexes above hold
    # only after the pricing type: this one serves it (the facet counts of "cheap RTX 4090").
    "offer_listed_normalized_price": ("(price_normalized, id)", "INCLUDE (provider_id)"),
}
FORMER = importlib.import_module("marketplace.migrations.0007_offer_indexes_for_hot_verification")


def create_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    concurrently = "CONCURRENTLY" if postgresql else ""
    for name in FORMER.INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently} IF EXISTS {name}")
    for name, (columns, include) in INDEXES.items():
        if postgresql:
            sql = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON marketplace_offer {columns} {include} {LISTED}"
        else:
            sql = f"CREATE INDEX IF NOT EXISTS {name} ON marketplace_offer {columns.replace(' NULLS LAST', '')} {LISTED}"
        schema_editor.execute(sql)


def drop_indexes(apps, schema_editor):
    concurrently = "CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently} IF EXISTS {name}")
    for name, (columns, include) in FORMER.INDEXES.items():
        if concurrently:
            sql = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON marketplace_offer {columns} {include} {LISTED}"
        else:
            sql = f"CREATE INDEX IF NOT EXISTS {name} ON marketplace_offer {columns.replace(' NULLS LAST', '')} {LISTED}"
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("marketplace", "0011_exchange_rates_normalized_price")]

    operations = [
        # Here rather than in 0009: PostgreSQL cannot alter a table with the data migration's
        # deferred checks pending in the same transaction.
        migrations.AddConstraint(
            model_name="offer",
            constraint=models.CheckConstraint(
                condition=models.Q(status="withdrawn") | models.Q(price_normalized__isnull=False),
                name="offer_listed_has_normalized_price",
            ),
        ),
        migrations.AlterModelOptions(
            name="offer",
            options={"ordering": ["price_normalized", "id"]},
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
