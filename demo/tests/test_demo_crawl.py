"""Every public page of the demo, with every demo API connected and synced: no 500 anywhere.

The APIs publish offers the feeds do not: "available, count unknown" (RunPod, Shadeform), other
currencies, GPUs of other countries. Crawled from the home page, following every link on the site.
"""

import re
from io import StringIO
from urllib.parse import urljoin, urlparse

import pytest
from django.core.management import call_command

from providers.models import Provider
from sync.adapters.registry import ADAPTERS
from sync.engine import sync_connection_run
from sync.models import SyncRun
from sync.services import connection_create

pytestmark = pytest.mark.django_db(transaction=True)
# Not public pages, or pages that change state: left out of the crawl.
SKIPPED = ("/admin/", "/dashboard/", "/accounts/", "/i18n/", "/static/", "/demo/", "/metrics")
MAX_PAGES = 600


def test_no_public_page_answers_500_with_every_demo_api_connected(live_server, client, settings):
    settings.SITE_URL = live_server.url
    call_command("load_demo", "--no-sync", stdout=StringIO())
    sandbox = Provider.objects.get(slug="sandbox-cloud")
    for kind, adapter in ADAPTERS.items():
        if kind == "feed":
            continue  # the partners' feeds, synced below
        connection = connection_create(
            provider=sandbox,
            kind=kind,
            name=f"Demo {kind}",
            base_url=f"{live_server.url}/demo/{adapter.demo_path}",
            interval_seconds=60,
            api_key="demo-client:demo-secret" if kind == "verda" else "demo-key",
        )
        assert sync_connection_run(connection=connection).outcome == SyncRun.Outcome.SUCCESS, kind

    seen, queue, failures = set(), ["/", "/providers/", "/gpus/", "/countries/"], []
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code >= 500:
            failures.append((path, response.status_code))
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for href in re.findall(r'href="([^"#]+)"', response.content.decode()):
            target = urlparse(urljoin(path, href.replace("&amp;", "&")))
            if target.netloc or not target.path.startswith("/") or target.path.startswith(SKIPPED):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen:
                queue.append(link)

    assert failures == []
    assert len(seen) > 100
    assert any(path.startswith("/countries/") and path != "/countries/" for path in seen)
    assert any(path.startswith("/gpus/") and path != "/gpus/" for path in seen)
