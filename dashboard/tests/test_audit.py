"""Admin approvals and edits leave a trail: the admin's log, approved-by/at, and a history of
changes to providers, offers and connections that the provider's owners can read."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.urls import reverse

from marketplace.models import Offer
from portal.testing import admin_url, make_offer
from providers.models import Provider
from sync.models import SyncConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    return client


@pytest.fixture
def pending(alice):
    from providers.services import provider_apply

    return provider_apply(user=alice, name="Fresh Cloud", hq_country="FR", contact_email="f@example.com")


def test_approving_in_the_admin_records_who_and_when_in_the_log_and_the_history(admin_client, pending):
    response = admin_client.post(
        admin_url(Provider, "changelist"), {"action": "approve", "_selected_action": [pending.pk]}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Provider.Status.APPROVED
    assert pending.approved_by.username == "root" and pending.approved_at is not None
    entry = LogEntry.objects.get(object_id=str(pending.pk))
    assert (entry.user.username, entry.get_change_message()) == ("root", "Approved.")
    latest = pending.history.latest()
    assert (latest.status, latest.history_user.username) == ("approved", "root")


def test_suspending_is_logged_too(admin_client, acme):
    admin_client.post(admin_url(Provider, "changelist"), {"action": "suspend", "_selected_action": [acme.pk]})
    assert LogEntry.objects.get(object_id=str(acme.pk)).get_change_message() == "Suspended."
    assert acme.history.latest().status == "suspended"


def test_owners_see_who_changed_their_offers_and_connections(client, alice, acme, acme_fra):
    client.force_login(alice)
    offer_url = reverse("dashboard:offer_create", args=[acme.slug])
    data = {
        "region": acme_fra.pk,
        "gpu_model": make_offer(acme, acme_fra).gpu_model_id,
        "gpus_per_node": 8,
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "1.00",
        "currency": "USD",
        "nodes_available": 1,
        "nodes_total": 2,
        "external_id": "edited-1",
    }
    assert client.post(offer_url, data).status_code == 302
    offer = Offer.objects.get(external_id="edited-1")
    edit_url = reverse("dashboard:offer_edit", args=[acme.slug, offer.pk])
    assert client.post(edit_url, {**data, "price_per_gpu_hour": "1.50"}).status_code == 302
    connection = {"kind": "feed", "name": "Main", "base_url": "https://a.example/f.json", "interval_seconds": 60}
    client.post(reverse("dashboard:connection_create", args=[acme.slug]), {**connection, "api_key": "s3cret"})

    page = client.get(reverse("dashboard:history", args=[acme.slug])).text

    assert f"#{offer.pk} edited-1" in page and "price_per_gpu_hour" in page
    assert page.count("<td>alice</td>") >= 3
    assert "Connection Main" in page
    assert "s3cret" not in page and not hasattr(SyncConnection.history.model, "credentials_encrypted")


def test_the_history_shows_nothing_of_another_provider(client, charlie, beta, acme, acme_fra):
    make_offer(acme, acme_fra, external_id="acme-secret-offer")
    client.force_login(charlie)
    assert "acme-secret-offer" not in client.get(reverse("dashboard:history", args=[beta.slug])).text
