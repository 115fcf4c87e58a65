"""Sync connections on the dashboard: health, runs, credentials that never come back, sync now."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import SyncConnection, SyncRun
from sync.tasks import sync_connection_task


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def feed(acme):
    return SyncConnection.objects.create(provider=acme, name="Main feed", base_url="https://acme.example/feed.json")


def form_data(**extra) -> dict:
    data = {"kind": "feed", "name": "Main feed", "base_url": "https://acme.example/feed.json", "interval_seconds": 300}
    data.update(extra)
    return data


def test_connection_list_shows_health(alice_client, acme, feed):
    SyncConnection.objects.create(
        provider=acme,
        name="Broken",
        base_url="https://acme.example/b.json",
        consecutive_failures=3,
        last_error="timed out after 20 s",
    )
    SyncConnection.objects.create(
        provider=acme, name="Good", base_url="https://acme.example/g.json", last_success_at=timezone.now()
    )
    response = alice_client.get(reverse("dashboard:connection_list", args=[acme.slug]))
    assert response.status_code == 200
    text = response.text
    assert "Never synced" in text
    assert "Failing (3 runs in a row)" in text
    assert "timed out after 20 s" in text
    assert "Healthy" in text


def test_connection_create_stores_the_api_key_encrypted(alice_client, acme):
    response = alice_client.post(
        reverse("dashboard:connection_create", args=[acme.slug]), form_data(api_key="s3cret-token")
    )
    connection = acme.sync_connections.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:connection_detail", args=[acme.slug, connection.pk])
    assert connection.get_credentials() == "s3cret-token"
    assert "s3cret-token" not in connection.credentials_encrypted
    assert connection.next_sync_at <= timezone.now()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"interval_seconds": 10}, "interval_seconds"),
        ({"base_url": "ftp://acme.example/feed.json"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"kind": "carrier-pigeon"}, "kind"),
    ],
)
def test_connection_form_validation(alice_client, acme, extra, field):
    response = alice_client.post(reverse("dashboard:connection_create", args=[acme.slug]), form_data(**extra))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not SyncConnection.objects.exists()


def test_connection_edit_never_renders_the_key_and_keeps_it_when_blank(alice_client, acme, feed):
    feed.set_credentials("s3cret-token")
    feed.save()
    url = reverse("dashboard:connection_edit", args=[acme.slug, feed.pk])

    page = alice_client.get(url).text
    assert "s3cret-token" not in page
    assert feed.credentials_encrypted not in page
    assert 'name="api_key"' in page and 'type="password"' in page

    response = alice_client.post(url, form_data(name="Renamed", interval_seconds=60))
    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.name, feed.interval_seconds, feed.get_credentials()) == ("Renamed", 60, "s3cret-token")


def test_connection_edit_replaces_or_removes_the_key(alice_client, acme, feed):
    feed.set_credentials("old")
    feed.save()
    url = reverse("dashboard:connection_edit", args=[acme.slug, feed.pk])

    alice_client.post(url, form_data(api_key="new"))
    feed.refresh_from_db()
    assert feed.get_credentials() == "new"

    alice_client.post(url, form_data(remove_credentials="on"))
    feed.refresh_from_db()
    assert not feed.has_credentials


def test_connection_detail_shows_runs_with_counts_and_errors(alice_client, acme, feed):
    now = timezone.now()
    SyncRun.objects.create(
        connection=feed,
        started_at=now - timedelta(minutes=5),
        finished_at=now - timedelta(minutes=5) + timedelta(seconds=2),
        outcome=SyncRun.Outcome.SUCCESS,
        created=12,
        updated=3,
        unchanged=40,
        withdrawn=1,
        skipped=2,
        warnings=["unknown GPU 'Z100'"],
    )
    SyncRun.objects.create(
        connection=feed,
        started_at=now,
        finished_at=now,
        outcome=SyncRun.Outcome.FAILED,
        error="feed is not valid JSON at line 3",
    )
    response = alice_client.get(reverse("dashboard:connection_detail", args=[acme.slug, feed.pk]))
    assert response.status_code == 200
    runs = list(response.context["runs"].object_list)
    assert [run.outcome for run in runs] == ["failed", "success"]
    assert "feed is not valid JSON at line 3" in response.text
    assert "2.00 s" in response.text
    assert "1 warning" in response.text


def test_run_detail_lists_warnings(alice_client, acme, feed):
    run = SyncRun.objects.create(connection=feed, outcome=SyncRun.Outcome.SUCCESS, warnings=["unknown GPU 'Z100'"])
    response = alice_client.get(reverse("dashboard:run_detail", args=[acme.slug, feed.pk, run.pk]))
    assert response.status_code == 200
    assert "unknown GPU &#x27;Z100&#x27;" in response.text


def test_sync_now_enqueues_a_task_after_commit(alice_client, acme, feed, django_capture_on_commit_callbacks):
    url = reverse("dashboard:connection_sync", args=[acme.slug, feed.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(url, follow=True)
    assert response.status_code == 200
    assert "Sync queued" in response.text
    assert len(callbacks) == 1
    assert callbacks[0].func == sync_connection_task.delay
    assert callbacks[0].args == (feed.pk,)


def test_sync_now_is_404_for_another_providers_connection(
    client, charlie, beta, feed, django_capture_on_commit_callbacks
):
    client.force_login(charlie)
    with django_capture_on_commit_callbacks() as callbacks:
        for slug in ["acme-gpu", beta.slug]:
            response = client.post(reverse("dashboard:connection_sync", args=[slug, feed.pk]))
            assert response.status_code == 404
    assert callbacks == []


def test_sync_now_is_post_only(alice_client, acme, feed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.get(reverse("dashboard:connection_sync", args=[acme.slug, feed.pk]))
    assert response.status_code == 405
    assert callbacks == []


def test_disable_and_enable(alice_client, acme, feed):
    SyncConnection.objects.filter(pk=feed.pk).update(next_sync_at=timezone.now() + timedelta(hours=1))
    alice_client.post(reverse("dashboard:connection_disable", args=[acme.slug, feed.pk]))
    feed.refresh_from_db()
    assert not feed.enabled
    assert not SyncConnection.objects.due().exists()

    alice_client.post(reverse("dashboard:connection_enable", args=[acme.slug, feed.pk]))
    feed.refresh_from_db()
    assert feed.enabled
    assert SyncConnection.objects.due().get() == feed
