"""The dashboard's API page: a token is shown once, kept as a digest, listed by its prefix and
revoked by the provider's people (the ownership matrix covers everybody else)."""

import pytest
from django.urls import reverse

from sync.models import ApiToken
from sync.services import token_authenticate

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once_and_works(client, alice, acme):
    client.force_login(alice)
    response = client.post(reverse("dashboard:token_create", args=[acme.slug]), {"name": "exporter, prod"})

    assert response.status_code == 200
    secret = response.context["new_token"]
    assert secret.startswith("gpm_") and secret in response.text
    token = ApiToken.objects.get(provider=acme)
    assert (token.name, token.created_by, token.scopes) == ("exporter, prod", alice, ["inventory:write"])
    assert secret not in token.digest and token_authenticate(raw=secret) == token
    listing = client.get(reverse("dashboard:token_list", args=[acme.slug])).text
    assert secret not in listing
    assert f"gpm_{token.prefix}_" in listing and "exporter, prod" in listing


def test_a_token_needs_a_name(client, alice, acme):
    client.force_login(alice)
    response = client.post(reverse("dashboard:token_create", args=[acme.slug]), {"name": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_staff_revoke_a_token_and_it_stops_working(client, bob, acme):
    client.force_login(bob)
    secret = client.post(reverse("dashboard:token_create", args=[acme.slug]), {"name": "ci"}).context["new_token"]
    token = ApiToken.objects.get()

    response = client.post(reverse("dashboard:token_revoke", args=[acme.slug, token.pk]), follow=True)

    assert token_authenticate(raw=secret) is None
    assert "revoked" in response.text
    token.refresh_from_db()
    assert token.revoked_at is not None
