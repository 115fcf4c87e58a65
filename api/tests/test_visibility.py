"""What a provider that is not approved (pending, suspended) has is nowhere in the public API,
on every public URL; the push endpoints answer 401/403 without a token of the provider's."""

import json

import pytest
from django.urls import reverse

from api import urls as api_urls
from marketplace.models import Offer
from portal.testing import make_offer, make_provider
from providers.models import Provider, Region

pytestmark = pytest.mark.django_db

PUBLIC = ["offer_list", "offer_detail", "offer_history", "gpu_list", "gpu_price_index", "provider_list"]
PUBLIC += ["provider_detail", "country_list", "schema", "docs", "redoc"]
TOKEN_ONLY = ["inventory_push", "offer_availability"]


@pytest.fixture
def hidden(acme_fra):
    """A suspended provider, the only one with offers in Japan; acme's offer is visible."""
    make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    provider = make_provider("Hidden Cloud", "JP")
    region = Region.objects.create(provider=provider, code="tyo-1", country="JP", city="Tokyo")
    offer = make_offer(provider, region, "b200", external_id="hidden-1")
    Provider.objects.filter(pk=provider.pk).update(status=Provider.Status.SUSPENDED)
    return offer


def _urls(offer: Offer) -> dict[str, str]:
    kwargs = {
        "offer_detail": {"pk": offer.pk},
        "offer_history": {"pk": offer.pk},
        "gpu_price_index": {"slug": offer.gpu_model.slug},
        "provider_detail": {"slug": offer.provider.slug},
        "offer_availability": {"external_id": offer.external_id},
    }
    return {name: reverse(f"api:{name}", kwargs=kwargs.get(name)) for name in PUBLIC + TOKEN_ONLY}


def test_every_api_url_is_covered():
    assert {pattern.name for pattern in api_urls.urlpatterns} == set(PUBLIC + TOKEN_ONLY)


def test_a_hidden_providers_objects_are_in_no_public_answer(client, hidden):
    urls = _urls(hidden)
    for name in ("offer_detail", "offer_history", "provider_detail"):
        assert client.get(urls[name]).status_code == 404, name
    answers = {name: client.get(urls[name]) for name in PUBLIC if name not in {"docs", "redoc"}}
    assert all(response.status_code in {200, 404} for response in answers.values())
    text = "".join(response.content.decode() for response in answers.values())
    for fact in ("hidden-cloud", "Hidden Cloud", "tyo-1", '"JP"', "Tokyo"):
        assert fact not in text
    assert answers["gpu_price_index"].json() == []  # only the hidden provider lists B200s
    assert {row["slug"]: row["offer_count"] for row in answers["gpu_list"].json()}["b200"] == 0


def test_the_push_endpoints_need_a_providers_token(client, hidden):
    urls = _urls(hidden)
    pushed = client.post(urls["inventory_push"], json.dumps({}), content_type="application/json")
    patched = client.patch(
        urls["offer_availability"], json.dumps({"nodes_available": 0}), content_type="application/json"
    )
    assert (pushed.status_code, patched.status_code) == (401, 401)
    assert Offer.objects.get(pk=hidden.pk).nodes_available == 4
