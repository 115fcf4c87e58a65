"""Issue 3's walk-through: a provider user connects a Lambda-style API (the demo's mock, served by
the running portal), tests it, syncs, and watches its offers appear, update and go stale."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from marketplace.models import Offer
from marketplace.tasks import offers_mark_stale_task
from sync.engine import sync_connection_run
from sync.models import ConnectionTest, SyncConnection, SyncRun
from sync.tasks import connection_test_task

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_provider_connects_the_demo_lambda_api_and_watches_its_offers(live_server, client, alice, acme, settings):
    settings.SITE_URL = live_server.url
    client.force_login(alice)
    base_url = f"{live_server.url}/demo/api/lambda"

    response = client.post(
        reverse("dashboard:connection_create", args=[acme.slug]),
        {
            "kind": "lambda",
            "name": "Lambda API",
            "base_url": base_url,
            "interval_seconds": 60,
            "api_key": "demo-secret-key",
        },
    )
    assert response.status_code == 302
    connection = SyncConnection.objects.get(provider=acme)
    assert connection.get_credentials() == "demo-secret-key"
    assert "demo-secret-key" not in client.get(response.url).content.decode()

    pressed = client.post(reverse("dashboard:connection_test", args=[acme.slug, connection.pk]))
    test = ConnectionTest.objects.get(connection=connection)
    connection_test_task(test.pk)  # what the worker does with the task the button enqueued
    preview = client.get(pressed.url)
    assert preview.status_code == 200 and "H100" in preview.content.decode()
    assert not Offer.objects.filter(provider=acme).exists()  # testing saves nothing

    start = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a fixed hour: the mock's answers follow the clock
    with time_machine.travel(start, tick=False):
        first = sync_connection_run(connection=connection)
    assert first.outcome == SyncRun.Outcome.SUCCESS and first.created > 0
    with time_machine.travel(start, tick=False):
        listed = set(Offer.objects.listed().fresh().filter(provider=acme).values_list("pk", flat=True))
        catalog = client.get(reverse("marketplace:catalog"), {"provider": acme.slug})
    rows = {int(pk) for pk in re.findall(r'data-offer="(\d+)"', catalog.content.decode())}
    assert listed and rows and rows <= listed  # a page of the listed offers (the first of several)

    # An hour later the mock's availability has moved on: the sync updates the offers.
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        later = sync_connection_run(connection=connection)
    assert later.outcome == SyncRun.Outcome.SUCCESS and later.created + later.updated + later.withdrawn > 0

    # The API goes away: the offers keep their last state, then go stale and leave the catalog.
    connection.base_url = f"{live_server.url}/demo/api/nowhere"
    connection.save(update_fields=["base_url"])
    with time_machine.travel(start + timedelta(hours=1, minutes=20), tick=False):
        failed = sync_connection_run(connection=connection)
        assert failed.outcome == SyncRun.Outcome.FAILED and failed.error
        offers_mark_stale_task()  # what beat runs every few seconds
        assert not Offer.objects.listed().fresh().filter(provider=acme).exists()
        assert Offer.objects.listed().stale().filter(provider=acme).exists()
