"""A provider that applied: its owner prepares it on the dashboard, the public sees nothing of it."""

from django.urls import reverse

from accounts.tests.test_apply_provider import application
from marketplace.models import Offer
from portal.testing import make_offer
from providers.models import Provider, Region


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
    assert client.get(reverse("marketplace:provider_detail", args=[provider.slug])).status_code == 404
    assert "Nordic GPU" not in client.get(reverse("marketplace:provider_list")).text
    assert client.get(offer.get_absolute_url()).status_code == 404
    assert "Nordic GPU" not in client.get(reverse("marketplace:gpu_detail", args=["h100-sxm"])).text
    assert "Nordic GPU" not in client.get(reverse("marketplace:country_detail", args=["SE"])).text

    # Once approved, it is public.
    Provider.objects.filter(pk=provider.pk).update(status=Provider.Status.APPROVED)
    assert Offer.objects.listed().filter(pk=offer.pk).exists()
    assert client.get(reverse("marketplace:provider_detail", args=[provider.slug])).status_code == 200
