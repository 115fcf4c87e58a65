"""Load the ECB's daily reference rates and re-price offers, by hand.

    python manage.py exchange_rates_load              # the shipped snapshot (no network)
    python manage.py exchange_rates_load --file PATH  # a saved eurofxref-daily.xml
    python manage.py exchange_rates_load --fetch      # from the ECB now (FX_RATES_URL)

Production runs the same with ``--fetch`` on a schedule (marketplace.tasks). Rates older than
those stored are ignored.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplace.fx import SNAPSHOT_PATH, RatesError, ecb_rates_parse
from marketplace.services import exchange_rates_apply, exchange_rates_refresh
from portal.lib.http import FetchError, GuardedClient


class Command(BaseCommand):
    help = "Load exchange rates (the shipped ECB snapshot, a file, or the ECB) and re-price offers."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--file", metavar="PATH", help="A saved eurofxref-daily.xml.")
        source.add_argument("--fetch", action="store_true", help=f"Fetch {settings.FX_RATES_URL}.")

    def handle(self, *args, file: str | None, fetch: bool, **options):
        now = timezone.now()
        try:
            if fetch:
                with GuardedClient() as client:
                    repriced = exchange_rates_refresh(client=client, url=settings.FX_RATES_URL, now=now)
            else:
                rates = ecb_rates_parse(Path(file or SNAPSHOT_PATH).read_bytes())
                repriced = exchange_rates_apply(rates=rates, now=now)
        except (RatesError, FetchError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Exchange rates loaded; {repriced} offers re-priced.")
