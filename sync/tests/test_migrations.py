"""The sync models moved from the providers app to the sync app without losing a row."""

import pytest
from django.db import connection

from portal.testing import migrate

BEFORE = [
    ("contenttypes", "0002_remove_content_type_name"),
    ("providers", "0005_syncconnection_paused_at"),
    ("marketplace", "0007_offer_indexes_for_hot_verification"),
]
AFTER = [("sync", "0002_tables_renamed"), ("providers", "0006_sync_models_moved_to_sync_app")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_connections_runs_and_their_offers_survive_the_move():
    old = migrate(BEFORE)
    try:
        Provider, Region = old.get_model("providers", "Provider"), old.get_model("providers", "Region")
        SyncConnection, SyncRun = old.get_model("providers", "SyncConnection"), old.get_model("providers", "SyncRun")
        Offer, GpuModel = old.get_model("marketplace", "Offer"), old.get_model("marketplace", "GpuModel")
        ContentType = old.get_model("contenttypes", "ContentType")
        ContentType.objects.get_or_create(app_label="providers", model="syncconnection")
        provider = Provider.objects.create(name="Old Cloud", slug="old-cloud", hq_country="FR", status="approved")
        region = Region.objects.create(provider=provider, code="par-1", country="FR")
        feed = SyncConnection.objects.create(provider=provider, name="Feed", base_url="https://old.example/f.json")
        feed_run = SyncRun.objects.create(connection=feed, outcome="success", created=1)
        offer = Offer.objects.create(
            provider=provider,
            region=region,
            country="FR",
            gpu_model=GpuModel.objects.get(slug="h100-sxm"),
            gpus_per_node=8,
            price_per_gpu_hour="2.5000",
            external_id="x-1",
            source="sync",
            sync_connection=feed,
            stale_at="2030-01-01T00:00:00Z",
        )
    finally:
        new = migrate(AFTER)
        migrate()  # the later migrations of every app too (those of apps that build on these were undone)

    SyncConnection, SyncRun = new.get_model("sync", "SyncConnection"), new.get_model("sync", "SyncRun")
    moved = SyncConnection.objects.get(pk=feed.pk)
    assert (moved.name, moved.base_url, moved.provider_id) == ("Feed", "https://old.example/f.json", provider.pk)
    assert SyncRun.objects.get(pk=feed_run.pk).connection_id == feed.pk
    assert new.get_model("marketplace", "Offer").objects.get(pk=offer.pk).sync_connection_id == feed.pk
    assert SyncConnection._meta.db_table == "sync_syncconnection"
    assert "sync_syncconnection" in connection.introspection.table_names()
    assert "providers_syncconnection" not in connection.introspection.table_names()
    ContentType = new.get_model("contenttypes", "ContentType")
    assert ContentType.objects.filter(app_label="sync", model="syncconnection").exists()
    assert not ContentType.objects.filter(app_label="providers", model="syncconnection").exists()
