""" "Available, count not published": nodes_available is None from the feed to the database and back.

Some APIs (Lambda's "regions with capacity available", Shadeform's "available": true) say an offer
can be rented now without saying how many nodes are free. That is neither sold out (0) nor a count.
"""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from marketplace.inventory import NormalizedOffer
from marketplace.models import Offer, OfferSnapshot
from marketplace.services import offers_apply_inventory
from portal.testing import make_offer
from sync.adapters.base import AdapterError
from sync.adapters.feed import FeedAdapter
from sync.engine import sync_connection_run
from sync.models import SyncConnection
from sync.tests.support import feed_document

pytestmark = pytest.mark.django_db


def feed_with_unknown_count() -> dict:
    document = feed_document()
    document["offers"][0]["nodes_available"] = None  # h100-8x-fra-od, of 64 nodes
    return document


def test_the_feed_accepts_null_as_available_without_a_count():
    inventory = FeedAdapter().parse(json.dumps(feed_with_unknown_count()).encode())

    h100 = inventory.offers[0]
    assert (h100.nodes_available, h100.nodes_total) == (None, 64)
    assert (h100.available, h100.available_gpus) == (True, None)


def test_the_feed_still_requires_the_field():
    document = feed_document()
    del document["offers"][0]["nodes_available"]
    with pytest.raises(AdapterError, match='the required field "nodes_available" is missing'):
        FeedAdapter().parse(json.dumps(document).encode())


def test_a_sync_stores_an_unknown_count_as_null_and_records_it(acme_feed, acme, local_server):
    local_server.serve("/feed.json", feed_with_unknown_count())

    run = sync_connection_run(connection=acme_feed)

    assert (run.outcome, run.created, run.skipped) == ("success", 4, 0)
    offer = Offer.objects.get(provider=acme, external_id="h100-8x-fra-od")
    assert (offer.nodes_available, offer.nodes_total, offer.gpus_available) == (None, 64, None)
    assert list(offer.snapshots.values_list("nodes_available", flat=True)) == [None]


def test_a_count_appearing_or_disappearing_is_a_change_with_a_snapshot(acme_feed, acme, local_server):
    local_server.serve("/feed.json", feed_with_unknown_count(), feed_document(), feed_with_unknown_count())

    for _ in range(3):
        sync_connection_run(connection=acme_feed)

    offer = Offer.objects.get(provider=acme, external_id="h100-8x-fra-od")
    assert list(offer.snapshots.values_list("nodes_available", flat=True)) == [None, 12, None]
    runs = list(acme_feed.runs.order_by("started_at").values_list("updated", "unchanged"))
    assert runs == [(0, 0), (1, 3), (1, 3)]


def test_apply_accepts_an_unknown_count_and_still_refuses_impossible_ones(acme, acme_fra):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://acme.example/f.json")
    offer = NormalizedOffer("unknown", "eu-fra-1", "H100 SXM", 8, "on_demand", Decimal("2.5"), nodes_available=None)
    impossible = [
        NormalizedOffer(
            "over", "eu-fra-1", "H100 SXM", 8, "on_demand", Decimal("2.5"), nodes_available=5, nodes_total=4
        ),
        NormalizedOffer("negative", "eu-fra-1", "H100 SXM", 8, "on_demand", Decimal("2.5"), nodes_available=-1),
        NormalizedOffer(
            "total", "eu-fra-1", "H100 SXM", 8, "on_demand", Decimal("2.5"), nodes_available=None, nodes_total=-2
        ),
    ]

    result = offers_apply_inventory(
        connection=connection, offers=[offer, *impossible], regions={"eu-fra-1": acme_fra}, now=timezone.now()
    )

    assert (result.created, result.skipped) == (1, 3)
    assert Offer.objects.get(external_id="unknown").nodes_available is None


def test_the_database_and_the_model_accept_an_unknown_count_within_a_total(acme, acme_fra):
    offer = make_offer(acme, acme_fra, nodes_available=None, nodes_total=4)
    offer.full_clean()

    offer.refresh_from_db()
    assert (offer.nodes_available, offer.gpus_available) == (None, None)
    OfferSnapshot.objects.create(offer=offer, price_per_gpu_hour="2.50", nodes_available=None)


def test_the_model_still_refuses_more_available_than_total(acme, acme_fra):
    offer = make_offer(acme, acme_fra, nodes_available=2, nodes_total=4)
    offer.nodes_available = 5
    with pytest.raises(ValidationError) as error:
        offer.full_clean()
    assert "nodes_available" in error.value.message_dict
