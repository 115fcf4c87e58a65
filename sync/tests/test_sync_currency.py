"""A sync lists an offer only with an ISO 4217 currency the portal has an exchange rate for."""

from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.fx import price_normalize
from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from marketplace.models import Offer
from marketplace.services import inventory_apply
from sync.models import SyncConnection

pytestmark = pytest.mark.django_db


def test_a_sync_holds_back_offers_whose_price_cannot_be_compared(acme, acme_fra):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://acme.example/f.json")
    offers = [
        NormalizedOffer("ok", "fra", "H100 SXM 80GB", 8, "on_demand", Decimal("2.00"), currency="CHF"),
        NormalizedOffer("xyz", "fra", "H100 SXM 80GB", 8, "on_demand", Decimal("1.99"), currency="XYZ"),
        NormalizedOffer("aed", "fra", "H100 SXM 80GB", 8, "on_demand", Decimal("7.00"), currency="AED"),
    ]
    inventory = ParsedInventory(offers=offers, regions=[NormalizedRegion("fra", "DE")])
    result = inventory_apply(connection=connection, inventory=inventory, now=timezone.now())

    assert (result.created, result.skipped) == (1, 2)
    assert Offer.objects.get().price_normalized == price_normalize(Decimal("2.00"), Decimal("0.9313"))
    assert any('"XYZ" is not an ISO 4217 currency code' in warning for warning in result.warnings)
    assert any(warning.startswith("No exchange rate for AED (1 offer): held back") for warning in result.warnings)
