"""Run syncs in the foreground: ``python manage.py sync_connection <id-or-provider-slug>``."""

from django.core.management.base import BaseCommand, CommandError

from providers.models import Provider
from sync.engine import sync_connection_run
from sync.models import SyncConnection, SyncRun


class Command(BaseCommand):
    help = "Sync one connection (by id) or every connection of a provider (by slug) now, and print the results."

    def add_arguments(self, parser):
        parser.add_argument("target", help="a sync connection id, or a provider slug")

    def handle(self, *args, target: str, **options):
        connections = list(self._connections(target))
        failed = 0
        for connection in connections:
            run = sync_connection_run(connection=connection)
            label = f"{connection} (connection {connection.pk})"
            if run is None:
                failed += 1
                self.stdout.write(self.style.WARNING(f"{label}: skipped, another sync of it is running."))
                continue
            if run.outcome == SyncRun.Outcome.SUCCESS:
                self.stdout.write(
                    self.style.SUCCESS(f"{label}: success")
                    + f" ({run.created} created, {run.updated} updated, {run.unchanged} unchanged, "
                    f"{run.withdrawn} withdrawn, {run.skipped} skipped)"
                )
            else:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{label}: failed") + f": {run.error}")
            for warning in run.warnings:
                self.stdout.write(f"  warning: {warning}")
        if failed:
            raise CommandError(f"{failed} of {len(connections)} syncs did not succeed.")

    def _connections(self, target: str):
        connections = SyncConnection.objects.select_related("provider").order_by("pk")
        if target.isdigit() and connections.filter(pk=int(target)).exists():
            return connections.filter(pk=int(target))
        by_provider = connections.filter(provider__slug=target)
        if by_provider.exists():
            return by_provider
        if Provider.objects.filter(slug=target).exists():
            raise CommandError(f'Provider "{target}" has no sync connections.')
        raise CommandError(f'No sync connection with id "{target}" and no provider with slug "{target}".')
