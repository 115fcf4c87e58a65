"""Applying to list an organisation: a pending provider, owned by the applicant, public only once approved."""

from django.urls import reverse

from providers.models import Certification, Membership, Provider


def application(**extra) -> dict:
    data = {
        "name": "Nordic GPU",
        "website": "https://nordic-gpu.example",
        "hq_country": "SE",
        "contact_email": "sales@nordic-gpu.example",
        "description": "H100 clusters on hydro power.",
    }
    data.update(extra)
    return data


def test_apply_needs_login(client, db):
    response = client.get(reverse("accounts:apply_provider"))
    assert response["Location"].startswith(reverse("login"))


def test_apply_creates_a_pending_provider_owned_by_the_user(client, dave):
    soc2 = Certification.objects.get_or_create(slug="soc2", defaults={"name": "SOC 2"})[0]
    client.force_login(dave)
    assert client.get(reverse("accounts:apply_provider")).status_code == 200

    facts = {"legal_entity": "Nordic GPU AB", "incorporation_country": "SE", "parent_country": "SE"}
    response = client.post(
        reverse("accounts:apply_provider"), application(certifications=[soc2.pk], **facts), follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert "waiting for review by an administrator" in response.text
    provider = Provider.objects.get(name="Nordic GPU")
    assert (provider.slug, provider.status, provider.hq_country.code) == ("nordic-gpu", "pending", "SE")
    assert (provider.legal_entity, provider.jurisdictions, provider.dpa_offered) == (
        "Nordic GPU AB",
        ["SE", "SE"],
        False,
    )
    # A claimed certification is a record that counts only once an admin has verified it.
    record = provider.certification_records.get()
    assert (record.certification, record.scope, record.state()) == (soc2, "provider", "unverified")
    assert Membership.objects.get(provider=provider).user == dave
    assert Membership.objects.get(provider=provider).role == Membership.Role.OWNER
    assert "Applications under review" in response.text


def test_the_slug_is_unique(client, dave, acme):
    Provider.objects.create(name="Nordic-GPU AB", slug="nordic-gpu", hq_country="SE")
    client.force_login(dave)
    client.post(reverse("accounts:apply_provider"), application())
    assert Provider.objects.get(name="Nordic GPU").slug == "nordic-gpu-2"


def test_apply_validates(client, dave, acme):
    client.force_login(dave)
    response = client.post(
        reverse("accounts:apply_provider"),
        application(name="acme gpu", hq_country="XX", contact_email="", website="javascript:alert(1)"),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"name", "hq_country", "contact_email", "website"}
    assert errors["name"] == ["A provider with this name is already listed or under review."]
    assert Provider.objects.count() == 1


def test_a_user_cannot_flood_the_review_queue(client, dave):
    client.force_login(dave)
    for n in range(3):
        client.post(reverse("accounts:apply_provider"), application(name=f"Org {n}"))
    response = client.post(reverse("accounts:apply_provider"), application(name="Org 4"))
    assert response.status_code == 200
    assert response.context["too_many"]
    assert Provider.objects.count() == 3
