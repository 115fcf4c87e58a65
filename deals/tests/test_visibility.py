"""Nobody sees another's deal: every URL of the developer's side, for its owner, another
developer and an anonymous visitor. A new URL without a case fails the first test."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from deals import emails, services
from deals import urls as deal_urls
from deals.models import Agreement, CapacityRequest, Message, Quote, SavedSearch
from deals.tests.support import file_request, send_quote

# (url name, method, objects in the URL, POST data)
CASES = [
    ("deals:request_list", "get", [], None),
    ("deals:request_new", "get", [], None),
    ("deals:request_detail", "get", ["request"], None),
    ("deals:request_withdraw", "post", ["request"], {}),
    ("deals:request_extend", "post", ["request"], {"start_date": "2031-01-01"}),
    ("deals:quote_accept", "post", ["request", "quote"], {}),
    ("deals:quote_decline", "post", ["request", "quote"], {}),
    ("deals:message_post", "post", ["request", "provider"], {"body": "Hello"}),
    ("deals:agreement_detail", "get", ["agreement"], None),
    ("deals:search_list", "get", [], None),
    ("deals:search_edit", "get", ["search"], None),
    ("deals:search_edit", "post", ["search"], {"name": "Mine now", "price_currency": "USD"}),
    ("deals:search_delete", "post", ["search"], {}),
]
KWARGS = {"request": "pk", "quote": "quote_pk", "provider": "provider_slug", "agreement": "pk", "search": "pk"}
IDS = [f"{method.upper()} {name.split(':')[1]}" for name, method, _o, _d in CASES]
# Open to anyone by design: the signed token is the permission (tested in test_alerts.py).
PUBLIC = {"deals:search_unsubscribe", "deals:search_save"}


@pytest.fixture
def world(developer, acme_h100):
    """dave's request, its Acme quote, an accepted agreement on another request, a saved search."""
    request = file_request(developer)
    won = file_request(developer)
    agreement = services.quote_accept(quote=send_quote(won, acme_h100.provider), developer=developer)
    return {
        "request": request,
        "quote": send_quote(request, acme_h100.provider),
        "provider": acme_h100.provider,
        "agreement": agreement,
        "search": services.saved_search_create(user=developer, name="Mine", params=QueryDict("gpu=h100-sxm")),
    }


def _url(name, objects, world):
    kwargs = {}
    for key in objects:
        value = world[key]
        kwargs[KWARGS[key]] = value.slug if key == "provider" else value.pk
    return reverse(name, kwargs=kwargs)


def _snapshot():
    return (
        list(CapacityRequest.objects.order_by("pk").values_list("status", "start_date")),
        list(Quote.objects.order_by("pk").values_list("status")),
        Message.objects.count(),
        Agreement.objects.count(),
        list(SavedSearch.objects.order_by("pk").values_list("name", "alerts_enabled")),
    )


def test_every_deal_url_is_covered():
    names = {f"deals:{pattern.name}" for pattern in deal_urls.urlpatterns} - PUBLIC
    assert names == {name for name, *_rest in CASES}


@pytest.mark.parametrize(("name", "method", "objects", "data"), CASES, ids=IDS)
def test_another_developer_gets_404_or_only_their_own(client, erin, world, name, method, objects, data):
    client.force_login(erin)
    before = _snapshot()
    url = _url(name, objects, world)
    response = client.get(url) if method == "get" else client.post(url, data)
    if objects:
        assert response.status_code == 404
    else:
        assert response.status_code == 200  # their own, empty list or form
        assert "Dave's Lab" not in response.text and "H100 in" not in response.text
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "method", "objects", "data"), CASES, ids=IDS)
def test_anonymous_visitors_are_sent_to_login(client, world, name, method, objects, data):
    before = _snapshot()
    url = _url(name, objects, world)
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "method", "objects", "data"), [c for c in CASES if c[1] == "get"])
def test_the_developer_opens_every_page(client, developer, world, name, method, objects, data):
    client.force_login(developer)
    assert client.get(_url(name, objects, world)).status_code == 200


def test_a_provider_never_sees_another_providers_quote_or_the_developers_contact(client, beta, charlie, world):
    """On Beta's dashboard, dave's request (routed only to Acme) and Acme's quote are 404."""
    client.force_login(charlie)
    request = world["request"]
    assert client.get(reverse("dashboard:request_detail", args=["beta-compute", request.pk])).status_code == 404
    agreement_url = reverse("dashboard:agreement_detail", args=["beta-compute", world["agreement"].pk])
    assert client.get(agreement_url).status_code == 404


def test_a_reached_provider_sees_the_contact_only_after_acceptance(client, alice, world, developer):
    client.force_login(alice)
    request = world["request"]
    url = reverse("dashboard:request_detail", args=["acme-gpu", request.pk])
    page = client.get(url).text
    assert "dave@example.com" not in page and "Dave&#x27;s Lab" not in page

    services.quote_accept(quote=world["quote"], developer=developer)
    page = client.get(url).text
    assert "dave@example.com" in page and "Dave&#x27;s Lab" in page


def test_the_unsubscribe_token_of_one_search_does_not_open_another(client, world):
    other = SavedSearch.objects.create(user=world["search"].user, name="other", query="")
    token = emails.unsubscribe_token(world["search"])
    client.post(reverse("deals:search_unsubscribe", args=[token]))
    assert SavedSearch.objects.get(pk=other.pk).alerts_enabled
