# The sync models move here from the providers app: the tables stay as they are (0002 renames
# them), only Django's idea of which app owns them changes. See docs/architecture.md.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import sync.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("providers", "0005_syncconnection_paused_at"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="SyncConnection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(default="Inventory feed", max_length=120)),
                ("kind", models.CharField(choices=sync.models.adapter_kind_choices, default="feed", max_length=20)),
                ("base_url", models.URLField(max_length=500)),
                ("credentials_encrypted", models.TextField(blank=True, editable=False)),
                (
                    "interval_seconds",
                    models.PositiveIntegerField(default=300, validators=[django.core.validators.MinValueValidator(30)]),
                ),
                ("enabled", models.BooleanField(default=True)),
                ("next_sync_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_run_at", models.DateTimeField(blank=True, null=True)),
                ("last_success_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("consecutive_failures", models.PositiveIntegerField(default=0)),
                ("paused_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "provider",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sync_connections",
                        to="providers.provider",
                    ),
                ),
            ],
            options={
                "ordering": ["provider", "name"],
                "db_table": "providers_syncconnection",
                "indexes": [
                    models.Index(condition=models.Q(("enabled", True)), fields=["next_sync_at"], name="syncconn_due")
                ],
            },
        ),
        migrations.CreateModel(
            name="SyncRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        choices=[("running", "Running"), ("success", "Success"), ("failed", "Failed")],
                        default="running",
                        max_length=10,
                    ),
                ),
                ("created", models.PositiveIntegerField(default=0)),
                ("updated", models.PositiveIntegerField(default=0)),
                ("unchanged", models.PositiveIntegerField(default=0)),
                ("withdrawn", models.PositiveIntegerField(default=0)),
                ("skipped", models.PositiveIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("warnings", models.JSONField(blank=True, default=list)),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="runs", to="sync.syncconnection"
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at"],
                "db_table": "providers_syncrun",
                "indexes": [models.Index(fields=["connection", "-started_at"], name="syncrun_conn_started")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("outcome", "running")),
                        fields=("connection",),
                        name="syncrun_one_running_per_connection",
                    )
                ],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
