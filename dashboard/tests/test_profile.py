"""The provider's public profile and legal identifiers: owners edit them, staff read them."""

import pytest
from django.urls import reverse

from providers.models import Provider

pytestmark = pytest.mark.django_db

DATA = {
    "hq_country": "NL",
    "website": "https://acme.example",
    "contact_email": "sales@acme.example",
    "description": "H100s in Frankfurt.",
    "registration_number": "HRB 12345",
    "vat_number": "de 123.456 789",
}


def url(provider) -> str:
    return reverse("dashboard:profile", args=[provider.slug])


def test_an_owner_edits_the_profile_and_it_enters_the_history(client, alice, acme):
    client.force_login(alice)

    response = client.post(url(acme), DATA)

    assert response.status_code == 302 and response["Location"] == url(acme)
    acme.refresh_from_db()
    assert (acme.hq_country.code, acme.website, acme.vat_number) == ("NL", "https://acme.example", "DE123456789")
    assert (acme.registration_number, acme.description) == ("HRB 12345", "H100s in Frankfurt.")
    latest = acme.history.latest()
    assert (latest.history_user, latest.vat_number) == (alice, "DE123456789")
    history = client.get(reverse("dashboard:history", args=[acme.slug])).text
    assert "vat_number" in history and "<td>alice</td>" in history


def test_the_public_profile_shows_the_legal_ids(client, alice, acme):
    client.force_login(alice)
    client.post(url(acme), DATA)
    page = client.get(acme.get_absolute_url()).text
    assert "HRB 12345" in page and "DE123456789" in page


def test_invalid_input_is_shown_on_the_form_and_changes_nothing(client, alice, acme):
    client.force_login(alice)

    response = client.post(url(acme), {**DATA, "website": "not a url", "hq_country": ""})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"website", "hq_country"}
    assert Provider.objects.get(pk=acme.pk).hq_country.code == "DE"


def test_staff_read_the_profile_but_cannot_change_it(client, bob, acme):
    client.force_login(bob)

    page = client.get(url(acme))
    response = client.post(url(acme), DATA)

    assert page.status_code == 200 and page.context["form"] is None
    assert "Only the provider's owners can change its profile" in page.text
    assert response.status_code == 403
    assert Provider.objects.get(pk=acme.pk).hq_country.code == "DE"


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_the_page_costs_the_same_queries_for_owners_and_staff(client, request, acme, django_assert_num_queries, user):
    client.force_login(request.getfixturevalue(user))
    client.get(url(acme))  # warm the session
    with django_assert_num_queries(6):
        assert client.get(url(acme)).status_code == 200
