"""Only approved providers make the workers fetch: a fresh sign-up (pending) or a suspended provider
cannot, and no provider has more than SYNC_MAX_CONNECTIONS_PER_PROVIDER connections."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from providers.models import Provider
from providers.services import provider_suspend
from sync import services
from sync.engine import connections_claim_due
from sync.models import SyncConnection
from sync.tasks import dispatch_due_syncs, sync_connection_task

pytestmark = pytest.mark.django_db

NOT_APPROVED = [Provider.Status.PENDING, Provider.Status.SUSPENDED]


@pytest.mark.parametrize("status", NOT_APPROVED)
def test_connections_of_a_provider_not_approved_are_never_due(acme, beta, status):
    mine = SyncConnection.objects.create(provider=acme, base_url="https://a.example/f.json")
    theirs = SyncConnection.objects.create(provider=beta, base_url="https://b.example/f.json")
    Provider.objects.filter(pk=acme.pk).update(status=status)

    assert connections_claim_due() == [theirs.pk]
    assert mine.pk not in connections_claim_due()


def test_a_sync_queued_before_a_suspension_fetches_nothing(acme, acme_feed, local_server):
    provider_suspend(provider=acme)

    assert sync_connection_task(acme_feed.pk) == "provider not approved"
    assert local_server.hits("/feed.json") == 0
    assert not acme_feed.runs.exists()


def test_the_dispatcher_enqueues_nothing_for_a_pending_sign_up(acme, acme_feed, local_server, monkeypatch):
    Provider.objects.filter(pk=acme.pk).update(status=Provider.Status.PENDING)
    sent = []
    monkeypatch.setattr(sync_connection_task, "apply_async", lambda *args, **kwargs: sent.append(args))

    assert dispatch_due_syncs() == 0
    assert sent == []


@pytest.mark.parametrize("status", NOT_APPROVED)
def test_sync_now_is_refused_until_the_provider_is_approved(
    client, alice, acme, acme_feed, status, django_capture_on_commit_callbacks
):
    Provider.objects.filter(pk=acme.pk).update(status=status)
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("dashboard:connection_sync", args=[acme.slug, acme_feed.pk]), follow=True)
    assert "Syncs start once your provider is approved." in response.text
    assert callbacks == []


def test_connections_per_provider_are_capped(client, alice, acme, settings):
    settings.SYNC_MAX_CONNECTIONS_PER_PROVIDER = 2
    for n in range(2):
        services.connection_create(
            provider=acme, kind="feed", name=f"feed {n}", base_url="https://a.example/f.json", interval_seconds=60
        )
    with pytest.raises(ValidationError, match="at most 2 connections"):
        services.connection_create(
            provider=acme, kind="feed", name="one more", base_url="https://a.example/f.json", interval_seconds=60
        )
    client.force_login(alice)
    data = {"kind": "feed", "name": "one more", "base_url": "https://a.example/f.json", "interval_seconds": 60}
    response = client.post(reverse("dashboard:connection_create", args=[acme.slug]), data)
    assert response.status_code == 200 and "at most 2 connections" in response.text
    assert SyncConnection.objects.filter(provider=acme).count() == 2
