"""The offers endpoint answers what the HTML catalog shows: same parameters, same offers, same order."""

from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

import pytest

from bench.generate import dataset_generate
from bench.workload import WORKLOAD
from marketplace import services as offer_services
from marketplace.models import GpuModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketplace(db):
    dataset_generate(offers=3000, seed=7)


def html_page(client, params: str):
    page = client.get(f"/?{params}").context["results"].page
    return [offer.pk for offer in page.object_list], page.number


def api_pages(client, params: str):
    """Every page of the API's answer, following the cursors."""
    url = f"/api/v1/offers/?{params}"
    while url:
        body = client.get(url).json()
        yield [offer["id"] for offer in body["results"]]
        url = body["next"]


@pytest.mark.parametrize("query", WORKLOAD, ids=[query.name for query in WORKLOAD])
def test_every_workload_query_gives_the_same_offers_in_the_same_order(client, marketplace, query):
    html_ids, number = html_page(client, query.params)
    params = urlencode([(key, value) for key, value in parse_qsl(query.params) if key != "page"])

    for index, api_ids in enumerate(api_pages(client, params), start=1):
        if index == number:
            assert api_ids == html_ids
            return
    pytest.fail(f"the API has no page {number}")


def test_invalid_parameters_are_ignored_and_reported_as_the_catalog_does(client, marketplace):
    body = client.get("/api/v1/offers/?country=XX&gpu=h100-sxm&min_gpus=abc").json()

    assert set(body["ignored"]) == {"country", "min_gpus"}
    assert body["results"] and {offer["gpu_model"]["slug"] for offer in body["results"]} == {"h100-sxm"}


def test_an_offer_says_its_facts_and_where_they_come_from(client, acme, acme_fra):
    offer = offer_services.offer_create(
        provider=acme,
        region=acme_fra,
        gpu_model=GpuModel.objects.get(slug="h100-sxm"),
        gpus_per_node=8,
        pricing_type="on_demand",
        price_per_gpu_hour=Decimal("2.50"),
        currency="USD",
        nodes_available=4,
        nodes_total=16,
        external_id="",
    )

    body = client.get(f"/api/v1/offers/{offer.pk}/").json()

    assert body["provider"] == {"slug": "acme-gpu", "name": "Acme GPU"}
    assert (body["country"], body["region"]["code"], body["gpu_model"]["slug"]) == ("DE", "eu-fra-1", "h100-sxm")
    assert (body["price_per_gpu_hour"], body["currency"], body["stale"]) == ("2.5000", "USD", False)
    assert client.get(f"/api/v1/offers/{offer.pk}/history/").json()[0]["price_per_gpu_hour"] == "2.5000"
