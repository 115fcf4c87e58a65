"""Show what an adapter makes of a provider's API: its normalized offers, as JSON on stdout.

    python manage.py parse_provider_payload --adapter lambda --file instance-types.json
    python manage.py parse_provider_payload --adapter verda --base-url http://127.0.0.1:8105 \\
        --credentials client_id:client_secret

``--file`` parses one saved response body (``-`` reads standard input); ``--base-url`` makes the
adapter send its real requests to that base URL. Loopback and private addresses are allowed
here, unlike in the sync engine, because this is a local tool someone runs on purpose. Nothing
is saved. The output format is documented in docs/adapters/README.md; warnings go to stderr.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.lib.http import FetchError, GuardedClient
from sync.adapters.base import AdapterError
from sync.adapters.registry import ADAPTERS, get_adapter
from sync.preview import inventory_preview, offer_json
from sync.regions import inventory_locate


class Command(BaseCommand):
    help = "Print the normalized offers an adapter reads from a saved payload or a live base URL, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--adapter", required=True, metavar="KIND", help=f"One of: {', '.join(ADAPTERS)}.")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", metavar="PATH", help="A saved response body; - for standard input.")
        source.add_argument("--base-url", metavar="URL", help="Fetch from this base URL, as a sync would.")
        parser.add_argument(
            "--api-key",
            "--credentials",
            dest="credentials",
            default="",
            help="The connection's credentials for --base-url (an API key, or client_id:client_secret).",
        )

    def handle(self, *args, adapter: str, file: str | None, base_url: str | None, credentials: str, **options):
        if adapter not in ADAPTERS:
            raise CommandError(f'Unknown adapter "{adapter}". Known adapters: {", ".join(ADAPTERS)}.')
        parser = get_adapter(adapter)
        try:
            if file is not None:
                payload = self._read(file)
            else:
                with GuardedClient(allow_private=True) as client:
                    payload = parser.fetch(base_url=base_url, credentials=credentials, client=client)
            inventory = parser.parse(payload)
        except (AdapterError, FetchError) as exc:
            raise CommandError(str(exc)) from None
        # Placed as a sync would: the answer's own locations, else the region mappings (data).
        preview = inventory_preview(inventory=inventory_locate(kind=adapter, inventory=inventory))
        for warning in preview.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(json.dumps([offer_json(row) for row in preview.rows], indent=2, ensure_ascii=False))

    @staticmethod
    def _read(file: str) -> bytes:
        if file == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from None
