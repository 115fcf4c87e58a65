""" "Test connection": a worker fetches and parses the provider's inventory, the page shows what
would be listed as soon as it is ready (polling), nothing is saved.

Against a real HTTP server on 127.0.0.1 (the test settings allow private addresses, as the demo
does). The web request only enqueues the task: the tests run the enqueued task themselves.
"""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import Offer
from portal.testing import Reply
from providers.models import Region
from sync.models import ConnectionTest, SyncConnection, SyncRun
from sync.tasks import connection_test_task
from sync.tests.support import feed_document, payload

pytestmark = pytest.mark.django_db


def connection_test_url(connection) -> str:
    return reverse("dashboard:connection_test", args=[connection.provider.slug, connection.pk])


@pytest.fixture
def tested(client, django_capture_on_commit_callbacks):
    """Press "Test connection", let the worker run the task it enqueued, then read the status page."""

    def press(connection, *, htmx: bool = False):
        headers = {"HX-Request": "true"} if htmx else {}
        with django_capture_on_commit_callbacks() as callbacks:
            pressed = client.post(connection_test_url(connection), headers=headers)
        assert len(callbacks) == 1  # the task, enqueued after commit; nothing fetched in the request
        test = ConnectionTest.objects.get(connection=connection)
        assert pressed.status_code == (200 if headers else 302)
        connection_test_task(test.pk)
        status_url = reverse(
            "dashboard:connection_test_status", args=[connection.provider.slug, connection.pk, test.pk]
        )
        return client.get(status_url, headers=headers)

    return press


def nothing_saved(connection) -> tuple:
    fresh = SyncConnection.objects.get(pk=connection.pk)
    return (
        Offer.objects.count(),
        Region.objects.count(),
        SyncRun.objects.count(),
        (fresh.last_run_at, fresh.last_error, fresh.consecutive_failures, fresh.next_sync_at),
    )


@pytest.fixture
def feed_with_surprises(local_server):
    """Acme's feed plus an offer with a GPU name no alias knows and one in an undeclared region."""
    document = feed_document()
    first = document["offers"][0]
    document["offers"] += [
        {**first, "id": "mystery", "gpu": "Hopper Mystery 80G"},
        {**first, "id": "nowhere", "region": "mars-1"},
        {**first, "id": "no-count", "nodes_available": None},
    ]
    local_server.serve("/feed.json", document)


def test_it_shows_what_would_be_listed_and_saves_nothing(
    client, tested, bob, acme_feed, feed_with_surprises, local_server
):
    client.force_login(bob)  # staff may test too
    before = nothing_saved(acme_feed)

    response = tested(acme_feed)

    assert response.status_code == 200
    assert nothing_saved(acme_feed) == before
    assert local_server.hits("/feed.json") == 1
    text = response.text
    assert "Read 7 offers." in text and "5 would be listed, 2 held back (see below)." in text
    assert "Nothing was saved." in text
    assert "NVIDIA H100 80GB HBM3</code> → H100 SXM 80GB" in text
    assert 'Hopper Mystery 80G</code> → <span class="badge warn">unknown — will be held for review' in text
    assert 'mars-1</code> <span class="badge warn">unknown region — will be held' in text
    assert '96 GPUs <small class="muted">(12 nodes)</small>' in text  # 12 nodes of 8
    assert "Sold out" in text  # the reserved A100s: 0 of 10 nodes
    assert "Available (count not published)" in text
    assert "2.49 USD" in text and "1.85 EUR" in text
    assert "<td>DE</td>" in text and "<td>FR</td>" in text
    # Without JavaScript it is the whole page, with the result in place.
    assert "<html" in text and 'id="connection-test"' in text


def test_htmx_gets_only_the_result(client, tested, alice, acme_feed, feed_with_surprises):
    client.force_login(alice)

    response = tested(acme_feed, htmx=True)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="connection-test"')
    assert "<html" not in response.text and "Read 7 offers." in response.text


def test_a_region_known_on_the_dashboard_counts_as_known(client, tested, alice, acme, acme_feed, local_server):
    document = feed_document()
    document["regions"] = []
    Region.objects.create(provider=acme, code="eu-fra-1", country="DE")
    local_server.serve("/feed.json", document)
    client.force_login(alice)

    text = tested(acme_feed).text

    assert "unknown region" in text  # fr-par-1 is declared nowhere now
    assert "2 would be listed, 2 held back" in text


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(b"nope", status=404), "404"),
        (Reply(b"denied", status=401), "401"),
        (Reply(payload("error_page.html"), headers={"Content-Type": "text/html"}), "HTML page instead of JSON"),
        (Reply(b'{"format": "gpu-marketplace-feed", "version": 1, "offers": [{"id": 1}]}'), "The feed is not valid"),
    ],
    ids=["not found", "credentials", "html", "invalid"],
)
def test_a_failure_is_explained_and_changes_nothing(client, tested, alice, acme_feed, local_server, reply, message):
    local_server.serve("/feed.json", reply)
    client.force_login(alice)
    before = nothing_saved(acme_feed)

    response = tested(acme_feed, htmx=True)

    assert response.status_code == 200
    assert "The test failed; nothing was saved." in response.text
    assert message in response.text
    assert nothing_saved(acme_feed) == before


def test_a_private_address_is_refused_in_production_settings(client, tested, alice, acme_feed, settings):
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(alice)

    response = tested(acme_feed)

    assert "The test failed" in response.text
    assert "127.0.0.1" in response.text


def test_it_is_post_only(client, tested, alice, acme_feed, local_server):
    client.force_login(alice)
    assert client.get(connection_test_url(acme_feed)).status_code == 405
    assert local_server.hits("/feed.json") == 0


def test_the_request_only_enqueues_and_the_page_polls_until_the_worker_answers(
    client, alice, acme_feed, local_server, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(connection_test_url(acme_feed), headers={"HX-Request": "true"})
    assert len(callbacks) == 1 and local_server.hits("/feed.json") == 0
    test = ConnectionTest.objects.get(connection=acme_feed)
    status_url = reverse("dashboard:connection_test_status", args=["acme-gpu", acme_feed.pk, test.pk])
    assert (
        f'hx-get="{status_url}" hx-trigger="load delay:1s"' in response.text
        and "Testing the connection" in response.text
    )
    page = client.get(status_url).text  # without JavaScript: the whole page, refreshing itself
    assert '<meta http-equiv="refresh" content="2">' in page and "Testing the connection" in page

    connection_test_task(test.pk)

    done = client.get(status_url, headers={"HX-Request": "true"}).text
    assert "Read 4 offers." in done and "hx-get" not in done
    assert local_server.hits("/feed.json") == 1


def test_a_slow_provider_fails_the_test_within_its_timeout(alice, acme_feed, local_server, settings):
    settings.CONNECTION_TEST_TIMEOUT_SECONDS = 1
    local_server.serve("/feed.json", Reply(b"{}", delay=5))
    test = ConnectionTest.objects.create(connection=acme_feed, requested_by=alice)
    started = time.monotonic()

    connection_test_task(test.pk)

    test.refresh_from_db()
    assert test.status == ConnectionTest.Status.FAILED
    assert "stopped sending data" in test.error
    assert time.monotonic() - started < 4


def test_a_test_no_worker_picks_up_says_so(client, alice, acme_feed):
    test = ConnectionTest.objects.create(connection=acme_feed, requested_at=timezone.now() - timedelta(minutes=5))
    client.force_login(alice)
    status_url = reverse("dashboard:connection_test_status", args=["acme-gpu", acme_feed.pk, test.pk])
    page = client.get(status_url).text
    assert "No worker has picked up this test" in page and "hx-get" not in page


def test_with_the_queue_down_nothing_is_started(client, alice, acme_feed, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client.force_login(alice)

    response = client.post(connection_test_url(acme_feed), headers={"HX-Request": "true"})

    assert "The task queue is unavailable right now" in response.text
    assert not ConnectionTest.objects.exists()


def test_the_detail_page_offers_the_test_button(client, tested, alice, acme_feed):
    client.force_login(alice)
    page = client.get(reverse("dashboard:connection_detail", args=[acme_feed.provider.slug, acme_feed.pk])).text
    assert (
        f'hx-post="{connection_test_url(acme_feed)}"' in page and f'action="{connection_test_url(acme_feed)}"' in page
    )


def test_a_clean_inventory_would_be_listed_whole(client, tested, alice, acme_feed):
    client.force_login(alice)

    text = tested(acme_feed, htmx=True).text

    assert "Read 4 offers." in text and "All would be listed." in text
    assert "held back" not in text and "unknown" not in text


def test_connection_tests_are_rate_limited_per_user(client, alice, acme_feed, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "connection_test": "2/m"}
    client.force_login(alice)
    url = reverse("dashboard:connection_test", args=[acme_feed.provider.slug, acme_feed.pk])
    statuses = [client.post(url).status_code for _attempt in range(3)]
    assert statuses == [302, 302, 429]
    assert ConnectionTest.objects.count() == 2
