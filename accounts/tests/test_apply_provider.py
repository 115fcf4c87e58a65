"""Applying to list an organisation: a pending provider, owned by the applicant, public only once approved."""

from django.urls import NoReverseMatch, reverse

from marketplace.models import Offer
from portal.testing import make_offer
from providers.models import Certification, Membership, Provider, Region


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

    response = client.post(reverse("accounts:apply_provider"), application(certifications=[soc2.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert "waiting for review by an administrator" in response.text
    provider = Provider.objects.get(name="Nordic GPU")
    assert (provider.slug, provider.status, provider.hq_country.code) == ("nordic-gpu", "pending", "SE")
    assert list(provider.certifications.all()) == [soc2]
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


def test_a_pending_provider_is_invisible_to_the_public_but_its_owner_can_prepare(client, dave):
    client.force_login(dave)
    client.post(reverse("accounts:apply_provider"), application())
    provider = Provider.objects.get(name="Nordic GPU")
    region = Region.objects.create(provider=provider, code="se-lule-1", country="SE", city="Luleå")
    offer = make_offer(provider, region)

    # The owner has the dashboard, with the banner.
    dashboard = client.get(reverse("dashboard:provider", args=[provider.slug]))
    assert dashboard.status_code == 200
    assert "Pending approval." in dashboard.text

    # The public does not.
    client.logout()
    assert not Provider.objects.approved().filter(pk=provider.pk).exists()
    assert not Offer.objects.listed().filter(pk=offer.pk).exists()
    catalog = client.get(reverse("marketplace:catalog"))
    assert catalog.status_code == 200
    assert "Nordic GPU" not in catalog.text
    try:
        profile_url = reverse("marketplace:provider_detail", args=[provider.slug])
    except NoReverseMatch:  # the public pages are built separately; the querysets above still hold
        profile_url = None
    if profile_url:
        assert client.get(profile_url).status_code == 404
        assert "Nordic GPU" not in client.get(reverse("marketplace:provider_list")).text
        assert client.get(offer.get_absolute_url()).status_code == 404
        assert "Nordic GPU" not in client.get(reverse("marketplace:gpu_detail", args=["h100-sxm"])).text
        assert "Nordic GPU" not in client.get(reverse("marketplace:country_detail", args=["SE"])).text

    # Once approved, it is public.
    Provider.objects.filter(pk=provider.pk).update(status=Provider.Status.APPROVED)
    assert Offer.objects.listed().filter(pk=offer.pk).exists()
    if profile_url:
        assert client.get(profile_url).status_code == 200
