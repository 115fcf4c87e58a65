"""Django admin for the provider side: every page opens, the actions work, credentials stay hidden."""

import pytest
from django.urls import reverse

from portal.testing import admin_url, certify
from providers.models import Certification, Membership, Provider, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(acme, acme_fra):
    """One object of every provider-side model."""
    return {
        Provider: acme,
        Membership: acme.memberships.first(),
        Region: acme_fra,
        Certification: Certification.objects.first(),
    }


@pytest.mark.parametrize("model", [Provider, Membership, Region, Certification])
def test_every_page_opens_for_a_superuser(admin_client, objects, model):
    obj = objects[model]

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "changelist"), {"q": "acme"}).status_code == 200
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 200


def test_it_is_for_staff_only(client, alice, objects):
    client.force_login(alice)

    response = client.get(admin_url(Provider, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_approve_selected_providers(admin_client, acme, beta):
    Provider.objects.filter(pk__in=[acme.pk, beta.pk]).update(status=Provider.Status.PENDING)

    response = admin_client.post(
        admin_url(Provider, "changelist"), {"action": "approve", "_selected_action": [acme.pk]}, follow=True
    )

    assert "1 provider approved." in response.content.decode()
    assert Provider.objects.get(pk=acme.pk).status == Provider.Status.APPROVED
    assert Provider.objects.get(pk=beta.pk).status == Provider.Status.PENDING


def test_the_change_page_shows_what_vetting_an_application_needs(admin_client, acme, alice):
    Provider.objects.filter(pk=acme.pk).update(
        status=Provider.Status.PENDING,
        legal_entity="Acme GPU GmbH",
        registration_number="HRB 12345",
        vat_number="DE123456789",
        website="https://acme.example",
    )
    certify(acme, "soc2", verified=False, issuer="BSI", evidence_url="https://acme.example/iso.pdf")

    page = admin_client.get(admin_url(Provider, "change", acme.pk)).content.decode()

    for fact in ("Acme GPU GmbH", "HRB 12345", "DE123456789", "https://acme.example"):
        assert fact in page
    assert 'alice &lt;<a href="mailto:alice@example.com">alice@example.com</a>&gt;' in page
    assert "https://acme.example/iso.pdf" in page and "Not verified" in page and "BSI" in page
    assert "Date applied" in page and "+00:00" not in page
    assert page.index("HRB 12345") < page.index('name="name"')  # a pending provider's page opens on its application
