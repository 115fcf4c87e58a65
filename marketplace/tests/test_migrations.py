"""Migrations that restructure offers keep every offer, with the data it had."""

from decimal import Decimal

import pytest

from portal.testing import migrate

OTHERS = [("sync", "0002_tables_renamed"), ("providers", "0006_sync_models_moved_to_sync_app")]
# What marketplace 0010 (the offers' history) needs of the other apps.
LATER = [("sync", "0004_push_and_api_tokens"), ("providers", "0007_provider_approval_and_history")]
BEFORE_NORMALIZED = [("marketplace", "0008_offer_sync_connection_in_sync_app"), *OTHERS]
AFTER_NORMALIZED = [("marketplace", "0011_exchange_rates_normalized_price"), *LATER]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_existing_offers_get_a_normalized_price_and_uncomparable_ones_are_withdrawn():
    old = migrate(BEFORE_NORMALIZED)
    try:
        Provider, Region = old.get_model("providers", "Provider"), old.get_model("providers", "Region")
        Offer, GpuModel = old.get_model("marketplace", "Offer"), old.get_model("marketplace", "GpuModel")
        provider = Provider.objects.create(name="Old Cloud", slug="old-cloud", hq_country="FR", status="approved")
        region = Region.objects.create(provider=provider, code="par-1", country="FR")
        ids = {}
        for currency in ["EUR", "usd", "XYZ"]:
            offer = Offer.objects.create(
                provider=provider,
                region=region,
                country="FR",
                gpu_model=GpuModel.objects.get(slug="h100-sxm"),
                gpus_per_node=8,
                price_per_gpu_hour="1.9900",
                currency=currency,
                external_id=f"x-{currency}",
                stale_at="2030-01-01T00:00:00Z",
            )
            ids[currency] = offer.pk
    finally:
        new = migrate(AFTER_NORMALIZED)

    Offer = new.get_model("marketplace", "Offer")
    offers = {code: Offer.objects.get(pk=pk) for code, pk in ids.items()}
    assert (offers["EUR"].status, offers["EUR"].price_normalized) == ("active", Decimal("1.9900000000"))
    assert (offers["usd"].currency, offers["usd"].status) == ("USD", "active")
    assert offers["usd"].price_normalized == Decimal("1.8168538300")  # 1.99 / 1.0953
    # "XYZ" compares with nothing: kept, with its history, but no longer listed.
    assert (offers["XYZ"].status, offers["XYZ"].price_normalized, offers["XYZ"].price_per_gpu_hour) == (
        "withdrawn",
        None,
        Decimal("1.9900"),
    )
    assert new.get_model("marketplace", "ExchangeRate").objects.count() == 30


BEFORE_IDENTITY = [("marketplace", "0012_offer_indexes_on_normalized_price"), *LATER]
AFTER_IDENTITY = [("marketplace", "0013_gpu_identity"), *LATER]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_pinned_aliases_go_keys_follow_the_new_normalization_and_reviews_merge():
    old = migrate(BEFORE_IDENTITY)
    try:
        GpuModel, GpuAlias = old.get_model("marketplace", "GpuModel"), old.get_model("marketplace", "GpuAlias")
        GpuNameReview = old.get_model("marketplace", "GpuNameReview")
        GpuAlias.objects.filter(name__in=["H100", "V100 32GB"]).delete()
        # A catalogue alias missing (older catalogue): re-created, then the unique constraints built
        # (on PostgreSQL, only once the new rows' deferred checks have run).
        GpuAlias.objects.filter(gpu_model__slug="l40s").delete()
        sxm = GpuModel.objects.get(slug="h100-sxm")
        GpuAlias.objects.create(name="H100", normalized="h100", gpu_model=sxm)  # as 0002 loaded it
        GpuAlias.objects.create(name="V100-32G", normalized="v10032g", gpu_model=GpuModel.objects.get(slug="v100-32"))
        GpuNameReview.objects.create(raw_name="Mystery 32G", normalized="mystery32g", offers_held=2)
        GpuNameReview.objects.create(raw_name="mystery-32gb", normalized="mystery32gb", offers_held=3)
    finally:
        new = migrate(AFTER_IDENTITY)

    GpuAlias, GpuModel = new.get_model("marketplace", "GpuAlias"), new.get_model("marketplace", "GpuModel")
    assert not GpuAlias.objects.filter(normalized="h100").exists()  # it pinned every H100 to the SXM
    assert GpuAlias.objects.get(name="V100-32G").normalized == "v10032gb"
    assert GpuAlias.objects.filter(gpu_model__slug="l40s", provider=None).exists()
    [review] = new.get_model("marketplace", "GpuNameReview").objects.all()
    assert (review.normalized, review.offers_held) == ("mystery32gb", 5)
    assert (GpuModel.objects.get(slug="mi300x").vendor, GpuModel.objects.get(slug="h100-pcie").family) == (
        "amd",
        "h100",
    )
    assert new.get_model("marketplace", "InstanceTypeFact").objects.filter(pattern="p5.*", form_factor="sxm").exists()
