"""What the API answers: plain, documented shapes (the OpenAPI schema is built from these)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace.models import GpuModel, Offer, OfferSnapshot
from providers.models import Provider, ProviderCertification, Region
from providers.services import FACT_FIELDS


class GpuModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = GpuModel
        fields = ["slug", "name", "vendor", "architecture", "memory_gb", "memory_type", "form_factor", "segment"]


class GpuModelStatsSerializer(GpuModelSerializer):
    offer_count = serializers.IntegerField(help_text="Listed, fresh offers.")
    gpus_available = serializers.IntegerField(help_text="GPUs available now in those offers (published counts).")
    country_count = serializers.IntegerField()
    lowest_price = serializers.DecimalField(
        max_digits=16,
        decimal_places=10,
        allow_null=True,
        help_text="Lowest price per GPU-hour, converted to EUR (the reference currency).",
    )

    class Meta(GpuModelSerializer.Meta):
        fields = [*GpuModelSerializer.Meta.fields, "offer_count", "gpus_available", "country_count", "lowest_price"]


class RegionSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code")

    class Meta:
        model = Region
        fields = ["code", "name", "country", "city"]


class ProviderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["slug", "name"]


class CertificationRecordSerializer(serializers.ModelSerializer):
    certification = serializers.CharField(source="certification.slug")
    name = serializers.CharField(source="certification.name")
    state = serializers.SerializerMethodField(
        help_text="valid (verified by an administrator, not expired: it counts), expired or unverified."
    )

    class Meta:
        model = ProviderCertification
        fields = ["certification", "name", "scope", "issuer", "valid_until", "state"]

    def get_state(self, record) -> str:
        return record.state()


class ProviderSerializer(serializers.ModelSerializer):
    """A provider's public facts: who operates it (blank: not stated) and its certifications."""

    hq_country = serializers.CharField(source="hq_country.code")
    incorporation_country = serializers.CharField(source="incorporation_country.code", allow_blank=True)
    parent_country = serializers.CharField(source="parent_country.code", allow_blank=True)
    certifications = CertificationRecordSerializer(source="certification_records", many=True, read_only=True)

    class Meta:
        model = Provider
        fields = [
            "slug",
            "name",
            "hq_country",
            "website",
            "description",
            *FACT_FIELDS,
            "certifications",
        ]


class ProviderStatsSerializer(ProviderSerializer):
    offer_count = serializers.IntegerField()
    gpus_available = serializers.IntegerField()
    country_count = serializers.IntegerField()

    class Meta(ProviderSerializer.Meta):
        fields = [*ProviderSerializer.Meta.fields, "offer_count", "gpus_available", "country_count"]


class ShownPriceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    price_per_gpu_hour = serializers.DecimalField(max_digits=16, decimal_places=4)


class OfferSerializer(serializers.ModelSerializer):
    provider = ProviderRefSerializer()
    region = RegionSerializer(allow_null=True, help_text="null: sold out, and its source names no location.")
    gpu_model = GpuModelSerializer()
    country = serializers.CharField(source="country.code", allow_blank=True)
    gpus_available = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="GPUs rentable now; null when available with no published count."
    )
    stale = serializers.BooleanField(
        source="is_stale", help_text="Not verified recently: its facts may be out of date."
    )
    last_verified_at = serializers.DateTimeField(
        source="verified_at", help_text="When the provider last confirmed it (its connection's last sync, if synced)."
    )
    price_eur = serializers.DecimalField(
        source="price_normalized",
        max_digits=16,
        decimal_places=10,
        help_text="The price per GPU-hour converted to EUR at the ECB's reference rate: what filters, sorts compare.",
    )
    shown_price = serializers.SerializerMethodField(
        help_text="The price per GPU-hour in the currency asked for (?currency=), the provider's own figure when it "
        "is in that currency; null when it cannot be converted."
    )

    class Meta:
        model = Offer
        # What the provider states (Offer.SPEC_FIELDS) between where and what, then what we know.
        fields = [
            "id",
            "provider",
            "region",
            "country",
            "gpu_model",
            *Offer.SPEC_FIELDS,
            "gpus_available",
            "price_eur",
            "shown_price",
            "status",
            "last_verified_at",
            "stale",
        ]
        extra_kwargs = {
            "price_per_gpu_hour": {"help_text": "The price per GPU-hour as the provider states it, in currency."},
            "nodes_available": {"help_text": "Whole nodes rentable now; 0 is sold out, null available with no count."},
        }

    @extend_schema_field(ShownPriceSerializer(allow_null=True))
    def get_shown_price(self, offer) -> dict | None:
        display = self.context["display"]
        shown = display.shown(offer.price_per_gpu_hour, offer.currency, offer.price_normalized)
        if shown is None:
            return None
        return ShownPriceSerializer({"currency": display.currency, "price_per_gpu_hour": shown}).data


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = OfferSnapshot
        fields = ["recorded_at", "price_per_gpu_hour", "nodes_available"]


class CountryCapacitySerializer(serializers.Serializer):
    country = serializers.CharField()
    name = serializers.CharField()
    offers = serializers.IntegerField()
    gpus = serializers.IntegerField(help_text="GPUs available now, in the offers that publish a count.")
    offers_without_count = serializers.IntegerField(
        source="unknown", help_text="Offers available now that publish no count (their GPUs are not in gpus)."
    )
    providers = serializers.IntegerField()


class PriceIndexSerializer(serializers.Serializer):
    country = serializers.CharField()
    pricing_type = serializers.CharField()
    currency = serializers.CharField(help_text="Every offer's price converted to it (?currency=), to compare.")
    offers = serializers.IntegerField()
    low = serializers.DecimalField(max_digits=10, decimal_places=4)
    median = serializers.DecimalField(max_digits=10, decimal_places=4)
    high = serializers.DecimalField(max_digits=10, decimal_places=4)


class PushResultSerializer(serializers.Serializer):
    run = serializers.IntegerField(help_text="The sync run that recorded the push (on the dashboard).")
    outcome = serializers.CharField()
    replayed = serializers.BooleanField(help_text="True: the same Idempotency-Key was applied before.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    skipped = serializers.IntegerField()
    suspicious = serializers.BooleanField(
        help_text="A sudden shrink: offers missing from the document were kept, not withdrawn "
        '(send "withdraw_all": true).'
    )
    warnings = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField()


class AvailabilitySerializer(serializers.Serializer):
    nodes_available = serializers.IntegerField(min_value=0, allow_null=True)
    nodes_total = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    price_per_gpu_hour = serializers.DecimalField(max_digits=10, decimal_places=4, min_value=0, required=False)
