"""The catalog's partial indexes, without the verification columns, on every database.

A sync re-verifies every unchanged offer it reads (``last_verified_at``, ``stale_at``). When no
index holds those two columns, PostgreSQL rewrites such a row in place (a HOT update) without
touching any index: verifying 100,000 offers then takes 0.6 s instead of 8-9 s
(docs/performance.md). So:

- 0005's indexes are rebuilt without ``INCLUDE (stale_at)``; the freshness test reads the row;
- the index on ``last_verified_at`` (the "most recently verified" order) goes: that order is a
  top-N sort of the listed offers;
- the six ``(status, ...)`` indexes of ``Offer.Meta`` go too: the partial indexes replace them
  (SQLite gets the same partial indexes, without INCLUDE and NULLS LAST, which it lacks);
- the provider foreign key's own index goes: the unique (provider, external_id) index serves it;
- the offer table keeps half of each page free (``fillfactor``), so that a sync re-verifying
  every row of a page finds room for the new versions on the page (with 70%, half of them
  were not HOT: the old versions cannot be pruned before the sync commits).
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

LISTED = "WHERE status = 'active'"
INDEXES = {  # name: (columns, PostgreSQL-only INCLUDE)
    "offer_live_price": ("(price_per_gpu_hour, id)", "INCLUDE (provider_id)"),
    "offer_live_gpu_price": ("(gpu_model_id, price_per_gpu_hour, id)", "INCLUDE (provider_id)"),
    "offer_live_country_price": ("(country, price_per_gpu_hour, id)", "INCLUDE (provider_id)"),
    "offer_live_gpu_country_price": ("(gpu_model_id, country, price_per_gpu_hour, id)", "INCLUDE (provider_id)"),
    "offer_live_provider_price": ("(provider_id, price_per_gpu_hour, id)", ""),
    "offer_live_capacity": ("(gpus_available DESC NULLS LAST, price_per_gpu_hour, id)", "INCLUDE (provider_id)"),
}
FORMER = importlib.import_module("marketplace.migrations.0005_catalog_indexes")


def create_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        FORMER.drop_indexes(apps, schema_editor)
        schema_editor.execute("ALTER TABLE marketplace_offer SET (fillfactor = 50)")
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
    if concurrently:
        schema_editor.execute("ALTER TABLE marketplace_offer RESET (fillfactor)")
        FORMER.create_indexes(apps, schema_editor)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("marketplace", "0006_gpu_catalogue_more_aliases"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="offer", name="offer_status_price"),
        migrations.RemoveIndex(model_name="offer", name="offer_status_country_price"),
        migrations.RemoveIndex(model_name="offer", name="offer_status_gpu_price"),
        migrations.RemoveIndex(model_name="offer", name="offer_status_capacity"),
        migrations.RemoveIndex(model_name="offer", name="offer_status_stale_at"),
        migrations.RemoveIndex(model_name="offer", name="offer_status_verified"),
        migrations.AlterField(
            model_name="offer",
            name="provider",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="offers",
                to="providers.provider",
            ),
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
