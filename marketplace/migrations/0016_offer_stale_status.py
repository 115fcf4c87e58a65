"""Verification per connection, staleness as a status (docs/performance.md).

A synced offer is verified by its connection's last success (Offer.verified_at), so a sync no
longer writes the offers it does not change, and "stale" is a status set on time by
offers_mark_stale() rather than a comparison of each row with the clock. Here:

- offers past their ``stale_at``, and active synced offers their connection's last success did
  not list (kept by a suspicious shrink) or that never succeeded, become ``stale``;
- the catalog's partial indexes cover listed offers, fresh or stale (``status IN ('active',
  'stale')``) with the status included, so the default (fresh) pages are index-only again and
  "include stale offers" uses them too;
- four more: a connection's listed offers by id (the freshness order reads them connection by
  connection), hand-kept active offers and stale offers by their own verification time (the
  rest of that order), and hand-kept offers by ``stale_at`` (what offers_mark_stale reads). The
  last three exclude active synced offers, so no sync maintains them;
- the table no longer keeps half of each page free for in-place re-verification (0007).
"""

import importlib
from datetime import timedelta

from django.db import migrations, models
from django.db.models import F, Q
from django.utils import timezone

FORMER = importlib.import_module("marketplace.migrations.0012_offer_indexes_on_normalized_price")
LISTED = "WHERE status IN ('active', 'stale')"
INDEXES = {  # name: (columns, PostgreSQL-only INCLUDE, predicate)
    **{
        name: (columns, f"INCLUDE ({'provider_id, ' if include else ''}status)", LISTED)
        for name, (columns, include) in FORMER.INDEXES.items()
    },
    "offer_listed_connection": ("(sync_connection_id, id)", "INCLUDE (provider_id, status)", LISTED),
    "offer_kept_by_hand_verification": (
        "(last_verified_at DESC, id)",
        "INCLUDE (provider_id)",
        "WHERE status = 'active' AND sync_connection_id IS NULL",
    ),
    "offer_stale_verification": ("(last_verified_at DESC, id)", "INCLUDE (provider_id)", "WHERE status = 'stale'"),
    "offer_kept_by_hand_stale_at": ("(stale_at)", "", "WHERE status = 'active' AND sync_connection_id IS NULL"),
}


def mark_stale(apps, schema_editor):
    Offer = apps.get_model("marketplace", "Offer")
    now = timezone.now()
    active = Offer.objects.filter(status="active")
    active.filter(stale_at__lte=now).update(status="stale")
    # Verified before their connection's last success (a minute's margin: the success was
    # recorded just after the offers): not listed by it.
    synced = active.filter(sync_connection__isnull=False)
    synced.filter(
        Q(sync_connection__last_success_at__isnull=True)
        | Q(last_verified_at__lt=F("sync_connection__last_success_at") - timedelta(minutes=1))
    ).update(status="stale")


def create_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    concurrently = "CONCURRENTLY" if postgresql else ""
    for name in FORMER.INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently} IF EXISTS {name}")
    for name, (columns, include, where) in INDEXES.items():
        if postgresql:
            sql = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON marketplace_offer {columns} {include} {where}"
        else:
            sql = f"CREATE INDEX IF NOT EXISTS {name} ON marketplace_offer {columns.replace(' NULLS LAST', '')} {where}"
        schema_editor.execute(sql)
    if postgresql:
        schema_editor.execute("ALTER TABLE marketplace_offer RESET (fillfactor)")


def drop_indexes(apps, schema_editor):
    concurrently = "CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently} IF EXISTS {name}")
    FORMER.create_indexes(apps, schema_editor)
    if concurrently:
        schema_editor.execute("ALTER TABLE marketplace_offer SET (fillfactor = 50)")


def unmark_stale(apps, schema_editor):
    apps.get_model("marketplace", "Offer").objects.filter(status="stale").update(status="active")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("marketplace", "0015_history_follows_normalized_prices"),
        ("sync", "0007_region_mappings_load"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicaloffer",
            name="status",
            field=models.CharField(
                choices=[("active", "Active"), ("stale", "Stale"), ("withdrawn", "Withdrawn")],
                default="active",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="offer",
            name="status",
            field=models.CharField(
                choices=[("active", "Active"), ("stale", "Stale"), ("withdrawn", "Withdrawn")],
                default="active",
                max_length=10,
            ),
        ),
        migrations.RunPython(mark_stale, unmark_stale, elidable=False),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
