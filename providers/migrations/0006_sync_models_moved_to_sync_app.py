# SyncConnection and SyncRun belong to the sync app now (sync/0001): forget them here without
# touching their tables.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0005_syncconnection_paused_at"),
        ("sync", "0001_initial"),
        ("marketplace", "0008_offer_sync_connection_in_sync_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SyncRun"), migrations.DeleteModel(name="SyncConnection")]
        )
    ]
