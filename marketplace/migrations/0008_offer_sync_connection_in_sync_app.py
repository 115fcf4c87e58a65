# Offer.sync_connection now points at sync.SyncConnection: the same table (sync/0001), so only
# Django's state changes; the database's foreign key stays as it is.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0007_offer_indexes_for_hot_verification"),
        ("sync", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="offer",
                    name="sync_connection",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="offers",
                        to="sync.syncconnection",
                    ),
                ),
            ]
        )
    ]
