"""The provider states who operates it and records its certifications; an admin verifies them."""

import pytest
from django.urls import reverse

from portal.testing import certify
from providers.models import Certification, ProviderCertification

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"dashboard:{name}", args=["acme-gpu", *args])


def test_a_member_states_the_operator_facts(client, bob, acme):
    client.force_login(bob)
    assert client.get(url("sovereignty")).status_code == 200

    response = client.post(
        url("sovereignty"),
        {
            "legal_entity": "Acme GPU GmbH",
            "incorporation_country": "DE",
            "parent_name": "",
            "parent_country": "DE",
            "dpa_offered": "on",
            "dpa_url": "https://acme.example/dpa",
        },
        follow=True,
    )

    assert "Operator facts saved." in response.text
    acme.refresh_from_db()
    assert (acme.legal_entity, acme.jurisdictions, acme.dpa_offered) == ("Acme GPU GmbH", ["DE", "DE"], True)


def test_invalid_facts_are_shown_on_the_form(client, bob, acme):
    client.force_login(bob)
    response = client.post(url("sovereignty"), {"incorporation_country": "XX", "dpa_url": "https://acme.example/d"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"incorporation_country", "dpa_url"}


def test_a_new_certification_waits_for_an_admin(client, alice, acme, acme_fra):
    client.force_login(alice)
    assert client.get(url("certification_create")).status_code == 200
    soc2 = Certification.objects.get(slug="soc2")

    response = client.post(
        url("certification_create"),
        {
            "certification": soc2.pk,
            "scope": "regions",
            "regions": [acme_fra.pk],
            "issuer": "Schellman",
            "certificate_id": "SOC2-2026-01",
            "valid_until": "2031-06-30",
            "evidence_url": "https://acme.example/trust",
        },
        follow=True,
    )

    assert "counts in the catalog once an administrator has verified it" in response.text
    record = acme.certification_records.get()
    assert (record.state(), record.scope, list(record.regions.all())) == ("unverified", "regions", [acme_fra])
    assert "SOC 2 Type II · not verified" in response.text


def test_editing_a_verified_certification_needs_a_new_verification(client, alice, acme):
    record = certify(acme, "iso27001", issuer="TÜV")
    client.force_login(alice)
    assert client.get(url("certification_edit", record.pk)).status_code == 200

    client.post(
        url("certification_edit", record.pk),
        {"certification": record.certification_id, "scope": "provider", "issuer": "BSI", "valid_until": "2032-01-01"},
    )

    record.refresh_from_db()
    assert (record.issuer, record.state()) == ("BSI", "unverified")


def test_the_form_refuses_regions_for_a_whole_provider_and_other_providers_regions(
    client, alice, acme, acme_fra, beta_nyc
):
    client.force_login(alice)
    soc2 = Certification.objects.get(slug="soc2")
    data = {"certification": soc2.pk, "valid_until": "2031-01-01"}

    whole = client.post(url("certification_create"), {**data, "scope": "provider", "regions": [acme_fra.pk]})
    other = client.post(url("certification_create"), {**data, "scope": "regions", "regions": [beta_nyc.pk]})
    none = client.post(url("certification_create"), {**data, "scope": "regions"})
    undated = client.post(url("certification_create"), {"certification": soc2.pk, "scope": "provider"})

    assert "names no regions" in str(whole.context["form"].errors["regions"])
    assert "regions" in other.context["form"].errors  # not one of the choices
    assert "Name the regions" in str(none.context["form"].errors["regions"])
    assert "valid_until" in undated.context["form"].errors
    assert not ProviderCertification.objects.exists()


def test_a_certification_is_removed(client, alice, acme):
    record = certify(acme, "soc2")
    client.force_login(alice)

    response = client.post(url("certification_delete", record.pk), follow=True)

    assert "SOC 2 Type II removed." in response.text
    assert not ProviderCertification.objects.exists()


def test_the_page_lists_the_records_with_their_state(client, alice, acme):
    certify(acme, "soc2")
    certify(acme, "c5", verified=False)
    client.force_login(alice)

    page = client.get(url("sovereignty")).text

    assert "SOC 2 Type II <small>until" in page
    assert "BSI C5 · not verified" in page
    assert 'aria-current="page">Operator and certifications' in page
