"""python manage.py sync_connection <id-or-provider-slug>"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from marketplace.models import Offer
from portal.testing import Reply
from sync.models import SyncConnection

pytestmark = pytest.mark.django_db


def run_command(target) -> str:
    out = StringIO()
    call_command("sync_connection", str(target), stdout=out, no_color=True)
    return out.getvalue()


def test_it_syncs_a_connection_by_id_and_prints_the_counts(acme_feed, acme):
    output = run_command(acme_feed.pk)

    assert f"Acme GPU: Acme feed (connection {acme_feed.pk}): success" in output
    assert "(4 created, 0 updated, 0 unchanged, 0 withdrawn, 0 skipped)" in output
    assert Offer.objects.filter(provider=acme).count() == 4


def test_it_syncs_every_connection_of_a_provider_by_slug(acme_feed, acme, local_server):
    SyncConnection.objects.create(provider=acme, name="Spot feed", base_url=local_server.url("/spot.json"))
    local_server.serve("/spot.json", {"format": "gpu-marketplace-feed", "version": 1, "offers": []})

    output = run_command("acme-gpu")

    assert "Acme feed" in output and "Spot feed" in output
    assert output.count(": success") == 2


def test_it_prints_warnings(acme_feed, local_server):
    from sync.tests.support import feed_document

    document = feed_document()
    document["offers"][0]["gpu"] = "Mystery GPU"
    local_server.serve("/feed.json", document)

    output = run_command(acme_feed.pk)

    assert '  warning: Unknown GPU name "Mystery GPU" (1 offer)' in output


def test_a_failed_sync_prints_the_error_and_exits_non_zero(acme_feed, local_server):
    local_server.serve("/feed.json", Reply(b"nope", 401))
    out = StringIO()

    with pytest.raises(CommandError, match="1 of 1 syncs did not succeed"):
        call_command("sync_connection", str(acme_feed.pk), stdout=out, no_color=True)

    assert "failed: The provider's API rejected our credentials (HTTP 401 Unauthorized)" in out.getvalue()


def test_an_unknown_id_or_slug_is_a_clear_error(db):
    with pytest.raises(CommandError, match='No sync connection with id "nope" and no provider with slug "nope"'):
        run_command("nope")
    with pytest.raises(CommandError, match='No sync connection with id "999"'):
        run_command(999)


def test_a_provider_without_connections_is_a_clear_error(beta):
    with pytest.raises(CommandError, match='Provider "beta-compute" has no sync connections'):
        run_command("beta-compute")
