from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from demo.load import (
    LOGINS,
    demo_feeds_sync,
    demo_gpu_names_unknown,
    demo_history_backfill,
    demo_manual_offers_load,
    demo_partners_load,
    demo_request_load,
    demo_users_load,
)
from marketplace.models import Offer
from portal.lib.urls import site_url
from sync.models import SyncRun


class Command(BaseCommand):
    help = (
        "Load the demo: the ten launch partners (approved) with their regions, a feed connection each "
        "pointing at this portal's /demo/feeds/, their current offers, a week of history and three demo "
        "logins. Safe to run again: it updates what exists and duplicates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-sync", action="store_true", help="Do not apply the feeds now; leave it to the Celery worker."
        )

    def handle(self, *args, no_sync: bool = False, **options):
        if not settings.DEMO_ENABLED:
            raise CommandError("The demo is disabled (DEMO_ENABLED is off, as in production).")
        unknown = demo_gpu_names_unknown()
        if unknown:
            raise CommandError(f"The GPU catalogue does not know these demo GPU names: {', '.join(unknown)}")

        now = timezone.now()
        connections = demo_partners_load(now=now)
        demo_users_load()
        demo_manual_offers_load()
        self.stdout.write(f"Loaded {len(connections)} demo partners with their regions and feed connections.")

        if not no_sync:
            for connection, run in demo_feeds_sync(connections=connections, now=now):
                provider = connection.provider
                if run is None:
                    self.stdout.write(f"  {provider}: a worker is syncing it right now")
                elif run.outcome == SyncRun.Outcome.SUCCESS:
                    self.stdout.write(
                        f"  {provider}: {run.created} created, {run.updated} updated, "
                        f"{run.unchanged} unchanged, {run.withdrawn} withdrawn"
                    )
                else:
                    self.stdout.write(self.style.ERROR(f"  {provider}: sync failed: {run.error}"))
            created = demo_history_backfill(now=now)
            if created:
                self.stdout.write(f"Backfilled {created} price and availability snapshots (the past 7 days).")
            capacity_request = demo_request_load(today=now.date())
            if capacity_request:
                self.stdout.write(
                    f"The developer's capacity request #{capacity_request.pk} reached "
                    f"{capacity_request.recipients.count()} providers; {capacity_request.quotes.count()} quoted."
                )

        site = site_url()
        listed = Offer.objects.listed().filter(provider__slug__in=[c.provider.slug for c in connections]).count()
        self.stdout.write(self.style.SUCCESS(f"\nThe demo is ready: {listed} offers listed."))
        self.stdout.write(f"  Catalog:    {site}{reverse('marketplace:catalog')}")
        self.stdout.write(f"  Dashboard:  {site}{reverse('dashboard:home')}")
        self.stdout.write(f"  Admin:      {site}{reverse('admin:index')}")
        self.stdout.write(f"  Demo feeds: {site}{reverse('demo:feed_index')}")
        self.stdout.write("Demo logins (username / password):")
        for login in LOGINS:
            self.stdout.write(f"  {login.username} / {login.password}  ({login.role})")
