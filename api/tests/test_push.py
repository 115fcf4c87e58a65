"""Providers push their inventory with a token: validated and applied as a sync, recorded as a run."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace.fx import price_normalize
from marketplace.models import ExchangeRate, Offer, OfferSnapshot
from providers.models import Provider
from sync.models import ApiToken, SyncConnection, SyncRun
from sync.services import token_create, token_revoke
from sync.tests.support import feed_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(acme, alice):
    _token, secret = token_create(provider=acme, name="exporter", user=alice, scopes=[ApiToken.Scope.INVENTORY_WRITE])
    return secret


def push(client, token, document, **headers):
    return client.post(
        reverse("api:inventory_push"),
        json.dumps(document),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_a_push_applies_the_feed_and_records_a_run(client, acme, token):
    response = push(client, token, feed_document())

    assert response.status_code == 200
    body = response.json()
    assert (body["outcome"], body["created"], body["replayed"]) == ("success", 4, False)
    connection = SyncConnection.objects.get(provider=acme, receives_pushes=True)
    assert SyncRun.objects.get(pk=body["run"]).connection == connection
    assert Offer.objects.filter(provider=acme, sync_connection=connection, status="active").count() == 4
    assert not SyncConnection.objects.due().filter(pk=connection.pk).exists()  # never fetched


def test_the_same_idempotency_key_applies_nothing_twice(client, acme, token):
    first = push(client, token, feed_document(), **{"Idempotency-Key": "push-1"}).json()
    changed = feed_document()
    changed["offers"] = changed["offers"][:1]

    again = push(client, token, changed, **{"Idempotency-Key": "push-1"}).json()

    assert again == {**first, "replayed": True}
    assert Offer.objects.filter(provider=acme, status="active").count() == 4  # the second body was not applied
    held = push(client, token, changed, **{"Idempotency-Key": "push-2"}).json()
    assert (held["withdrawn"], held["suspicious"]) == (0, True)  # a sudden shrink is held back...
    confirmed = push(client, token, {**changed, "withdraw_all": True}, **{"Idempotency-Key": "push-3"}).json()
    assert (confirmed["withdrawn"], confirmed["suspicious"]) == (3, False)  # ...unless the feed confirms it


def test_an_invalid_feed_is_refused_with_its_reason_and_changes_nothing(client, acme, token):
    push(client, token, feed_document())
    broken = feed_document()
    broken["offers"][0]["price_per_gpu_hour"] = "-1"

    response = push(client, token, broken)

    assert response.status_code == 422
    assert "offers[0].price_per_gpu_hour" in response.json()["error"]
    assert Offer.objects.filter(provider=acme, status="active").count() == 4


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nope", "Bearer gpm_00000000_wrong", "Token abc"])
def test_no_valid_token_no_push(client, acme, token, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(reverse("api:inventory_push"), "{}", content_type="application/json", headers=headers)

    assert response.status_code in (401, 403)
    assert not SyncRun.objects.exists()


def test_a_revoked_token_or_a_suspended_provider_cannot_push(client, acme, token):
    Provider.objects.filter(pk=acme.pk).update(status=Provider.Status.SUSPENDED)
    assert push(client, token, feed_document()).status_code == 401
    Provider.objects.filter(pk=acme.pk).update(status=Provider.Status.APPROVED)
    token_revoke(token=ApiToken.objects.get())
    assert push(client, token, feed_document()).status_code == 401


def test_only_the_tokens_provider_is_changed(client, acme, beta, token):
    push(client, token, feed_document())
    assert not Offer.objects.filter(provider=beta).exists()


def test_patch_updates_one_offers_availability(client, acme, token):
    push(client, token, feed_document())
    offer = Offer.objects.get(provider=acme, external_id="h100-8x-fra-od")
    url = reverse("api:offer_availability", args=[offer.external_id])

    response = client.patch(
        url, {"nodes_available": 2}, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200 and response.json()["nodes_available"] == 2
    offer.refresh_from_db()
    assert offer.nodes_available == 2
    assert OfferSnapshot.objects.filter(offer=offer).order_by("-recorded_at").first().nodes_available == 2
    bad = client.patch(
        url, {"nodes_available": -1}, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    assert bad.status_code == 400
    repriced = client.patch(
        url + "?currency=USD",
        {"nodes_available": 2, "price_per_gpu_hour": "4.00"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    offer.refresh_from_db()
    assert offer.price_normalized == price_normalize(
        Decimal("4.00"), ExchangeRate.objects.get(currency="USD").units_per_eur
    )
    assert repriced["shown_price"] == {"currency": "USD", "price_per_gpu_hour": "4.0000"}  # the offer is in USD
    assert Decimal(repriced["price_eur"]) == offer.price_normalized


def test_patch_refuses_an_offer_a_fetched_connection_owns(client, acme, token, acme_feed):
    from sync.engine import sync_connection_run

    sync_connection_run(connection=acme_feed)
    url = reverse("api:offer_availability", args=["h100-8x-fra-od"])

    response = client.patch(
        url, {"nodes_available": 1}, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 409
