""" "Sync now" shows the run it started as it goes (queued, running, done with its counts, or failed
with its error), polled by htmx until it finishes; a failing connection says when it tries again.

Against a real HTTP server on 127.0.0.1; the web request only enqueues the task, and the tests run
the sync themselves, as the worker would.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from dashboard import selectors
from portal.testing import Reply
from sync.engine import sync_connection_run
from sync.models import SyncConnection, SyncRun

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def sync_url(connection) -> str:
    return reverse("dashboard:connection_sync", args=[connection.provider.slug, connection.pk])


def polls(html: str) -> bool:
    return 'hx-trigger="every 2s"' in html


@pytest.fixture
def pressed(client, alice, acme_feed, django_capture_on_commit_callbacks):
    """Press "Sync now" (no JavaScript): the URL of the page that follows the sync."""
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(sync_url(acme_feed))
    assert len(callbacks) == 1 and response.status_code == 302
    assert re.search(r"\?sync=\d+$", response["Location"])
    return response["Location"]


def test_the_page_shows_the_sync_queued_then_done_with_its_counts(client, pressed, acme_feed):
    queued = client.get(pressed)
    assert "Queued: waiting for a worker" in queued.text and polls(queued.text)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in queued.text

    run = sync_connection_run(connection=acme_feed)
    done = client.get(pressed, headers=HTMX)

    assert done.status_code == 200 and "<html" not in done.text  # the fragment only
    assert "Sync done." in done.text and f"{run.created} created, 0 updated" in done.text
    assert not polls(done.text)  # finished: polling stops
    # ...and the page's health and runs are refreshed with it, out of band.
    assert 'id="connection-facts" hx-swap-oob="true"' in done.text
    assert 'id="connection-runs" hx-swap-oob="true"' in done.text and "Success" in done.text


def test_a_run_in_progress_is_shown_as_running(client, pressed, acme_feed):
    SyncRun.objects.create(connection=acme_feed, started_at=timezone.now())
    running = client.get(pressed, headers=HTMX)
    assert "Syncing… started" in running.text and polls(running.text)


def test_a_failed_sync_shows_its_error_and_when_it_is_retried(client, pressed, acme_feed, local_server, fast_sync):
    local_server.serve("/feed.json", Reply(status=503, body=b"down"))
    SyncConnection.objects.filter(pk=acme_feed.pk).update(interval_seconds=120, consecutive_failures=2)
    acme_feed.refresh_from_db()

    sync_connection_run(connection=acme_feed)
    failed = client.get(pressed, headers=HTMX)

    assert "The sync failed; nothing was changed." in failed.text and "503" in failed.text
    assert not polls(failed.text)
    connection = SyncConnection.objects.get(pk=acme_feed.pk)
    # 3rd failure in a row: 120 s x 2 x 2 = 8 minutes.
    assert connection.next_sync_at - connection.last_run_at == timedelta(minutes=8)
    at = date_format(timezone.localtime(connection.next_sync_at), "TIME_FORMAT")
    # (7 minutes and some seconds after the retries the failure took)
    assert re.search(rf"3 failures in a row: next attempt at {re.escape(at)}, in [78]\xa0minutes\.", failed.text)
    assert "waits its interval (2\xa0minutes), then twice as long" in failed.text and "up to 1\xa0hour" in failed.text
    assert "After 8 failures in a row syncs pause until you edit the connection: 5 more failures." in failed.text


def test_pressing_with_htmx_answers_the_progress_fragment(client, alice, acme_feed, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(sync_url(acme_feed), headers=HTMX)
    assert len(callbacks) == 1
    assert response.status_code == 200 and response.text.lstrip().startswith('<section id="sync-progress"')
    assert "Queued: waiting for a worker" in response.text and polls(response.text)


def test_a_pending_provider_is_told_in_the_fragment(client, alice, acme_feed, django_capture_on_commit_callbacks):
    acme_feed.provider.status = "pending"
    acme_feed.provider.save()
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(sync_url(acme_feed), headers=HTMX)
    assert callbacks == []
    assert "Syncs start once your provider is approved." in response.text and not polls(response.text)


def test_a_sync_no_worker_takes_stops_polling_and_says_so(acme_feed):
    since = int((timezone.now() - timedelta(minutes=2)).timestamp())
    progress = selectors.connection_sync_progress(connection=acme_feed, since=since)
    assert progress.unclaimed and not progress.polling


def test_a_run_already_going_when_pressed_is_the_one_followed(acme_feed):
    earlier = SyncRun.objects.create(connection=acme_feed, started_at=timezone.now() - timedelta(seconds=30))
    since = int(timezone.now().timestamp())
    assert selectors.connection_sync_progress(connection=acme_feed, since=since).run == earlier
    SyncRun.objects.filter(pk=earlier.pk).update(outcome="success", finished_at=timezone.now() + timedelta(seconds=1))
    progress = selectors.connection_sync_progress(connection=acme_feed, since=since)
    assert progress.run == earlier and progress.finished


def test_a_permanent_error_is_explained_as_waiting_the_ceiling(client, alice, acme_feed):
    now = timezone.now()
    SyncConnection.objects.filter(pk=acme_feed.pk).update(
        interval_seconds=60,
        consecutive_failures=1,
        last_error="401 Unauthorized",
        last_run_at=now,
        next_sync_at=now + timedelta(hours=1),
    )
    client.force_login(alice)
    page = client.get(reverse("dashboard:connection_detail", args=[acme_feed.provider.slug, acme_feed.pk])).text
    assert "1 failure in a row: next attempt at" in page
    assert "Retrying cannot fix this error" in page and "waits 1\xa0hour at once" in page


def test_polling_costs_the_same_queries_queued_and_done(client, pressed, acme_feed, django_assert_num_queries):
    client.get(pressed, headers=HTMX)
    with django_assert_num_queries(6) as queued:
        client.get(pressed, headers=HTMX)
    sync_connection_run(connection=acme_feed)
    with django_assert_num_queries(len(queued.captured_queries) + 1):  # + the runs, refreshed once done
        client.get(pressed, headers=HTMX)
