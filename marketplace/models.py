import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords


def normalize_gpu_name(name: str) -> str:
    """The key aliases are stored and looked up under.

    "NVIDIA H100-SXM", "h100_sxm" and "H100 SXM" all become "h100sxm".
    """
    name = name.lower().replace("nvidia", "").replace("geforce", "")
    return re.sub(r"[^a-z0-9]+", "", name)


class GpuModel(models.Model):
    class FormFactor(models.TextChoices):
        SXM = "sxm", "SXM"
        PCIE = "pcie", "PCIe"
        NVL = "nvl", "NVL"
        SUPERCHIP = "superchip", _("Superchip (Grace)")

    class Segment(models.TextChoices):
        DATACENTER = "datacenter", _("Data centre")
        WORKSTATION = "workstation", _("Workstation")
        CONSUMER = "consumer", _("Consumer")

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    architecture = models.CharField(max_length=40)
    memory_gb = models.PositiveSmallIntegerField()
    memory_type = models.CharField(max_length=20)
    form_factor = models.CharField(max_length=20, choices=FormFactor)
    segment = models.CharField(max_length=20, choices=Segment, default=Segment.DATACENTER)
    release_year = models.PositiveSmallIntegerField(null=True, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("GPU model")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketplace:gpu_detail", args=[self.slug])


class GpuAliasQuerySet(models.QuerySet):
    def resolve_many(self, names: Iterable[str], *, slugs: bool = False) -> dict[str, GpuModel | None]:
        """Map names onto the catalogue in one query: each name to its GPU model, or None.

        The one resolver of GPU names (syncs, CSV imports, previews, the demo): a name matches an
        alias after normalize_gpu_name(). With ``slugs``, a GPU model's own slug matches too (as
        CSV files may use them), before any alias.
        """
        names = set(names)
        keys = {name: normalize_gpu_name(name) for name in names}
        aliases = self.filter(normalized__in=set(keys.values())).select_related("gpu_model")
        by_key = {alias.normalized: alias.gpu_model for alias in aliases}
        by_slug = {gpu.slug: gpu for gpu in GpuModel.objects.filter(slug__in=names)} if slugs else {}
        return {name: by_slug.get(name) or by_key.get(key) for name, key in keys.items()}

    def resolve(self, raw_name: str) -> GpuModel | None:
        return self.resolve_many([raw_name])[raw_name]


class GpuAlias(models.Model):
    """A name a provider uses for a GPU model, e.g. "H100 80GB HBM3" for H100 SXM 80GB."""

    gpu_model = models.ForeignKey(GpuModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=120)
    normalized = models.CharField(max_length=120, unique=True, editable=False)

    objects = GpuAliasQuerySet.as_manager()

    class Meta:
        verbose_name = _("GPU alias")
        verbose_name_plural = _("GPU aliases")
        ordering = ["normalized"]

    def __str__(self) -> str:
        return f"{self.name} → {self.gpu_model.name}"

    def save(self, *args, **kwargs):
        self.normalized = normalize_gpu_name(self.name)
        super().save(*args, **kwargs)


class GpuNameReview(models.Model):
    """A GPU name a provider's API used that the alias table does not know: the admin review queue.

    Offers with such a name are held back (never listed under a guessed model). Mapping the name
    to a GPU model creates an alias; the held offers then appear on the connection's next sync.
    """

    raw_name = models.CharField(max_length=200)
    normalized = models.CharField(max_length=200, unique=True)
    providers = models.ManyToManyField("providers.Provider", related_name="gpu_names_in_review", blank=True)
    offers_held = models.PositiveIntegerField(default=0, help_text=_("Offers held back at the latest sync."))
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    gpu_model = models.ForeignKey(GpuModel, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["resolved_at", "-last_seen_at"]
        verbose_name = _("GPU name awaiting review")
        verbose_name_plural = _("GPU names awaiting review")

    def __str__(self) -> str:
        return self.raw_name


def verification_lifetime(sync_interval_seconds: int | None) -> timedelta:
    """The staleness rule: how long a verification holds before an offer is stale.

    A synced offer (its connection syncs every ``sync_interval_seconds``) holds for a few sync
    intervals, and never less than a minimum, so that a short interval does not flap; an offer
    kept by hand or by CSV (None) holds for a week, until its provider confirms it again.
    """
    if sync_interval_seconds is not None:
        seconds = sync_interval_seconds * settings.STALE_AFTER_INTERVALS
        return timedelta(seconds=max(seconds, settings.STALE_AFTER_MIN_SECONDS))
    return timedelta(seconds=settings.MANUAL_OFFER_STALE_AFTER_SECONDS)


class OfferQuerySet(models.QuerySet):
    def listed(self):
        """Offers a developer may see: active, from an approved provider."""
        return self.filter(status=Offer.Status.ACTIVE, provider__status="approved")

    def fresh(self, now=None):
        return self.filter(stale_at__gt=now or timezone.now())

    def stale(self, now=None):
        return self.filter(stale_at__lte=now or timezone.now())


class Offer(models.Model):
    """What a developer can rent: a region x GPU model x GPUs per node, at a price.

    Keyed by ``(provider, external_id)``, the provider's own id for it, so that syncs and CSV
    imports update offers in place. Offers are withdrawn, never deleted: history stays.
    """

    class PricingType(models.TextChoices):
        ON_DEMAND = "on_demand", _("On demand")
        SPOT = "spot", _("Spot")
        RESERVED = "reserved", _("Reserved")

    class GpuInterconnect(models.TextChoices):
        NVLINK = "nvlink", "NVLink"
        PCIE = "pcie", "PCIe"

    class Network(models.TextChoices):
        INFINIBAND = "infiniband", "InfiniBand"
        ROCE = "roce", "RoCE"
        ETHERNET = "ethernet", "Ethernet"

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        CSV = "csv", _("CSV import")
        SYNC = "sync", _("Synced")

    # No index of its own: the unique (provider, external_id) constraint's index serves it.
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="offers", db_index=False)
    region = models.ForeignKey("providers.Region", on_delete=models.PROTECT, related_name="offers")
    # Copied from the region on save, so the catalog filters by country without a join.
    country = CountryField(editable=False, db_index=False)
    gpu_model = models.ForeignKey(GpuModel, on_delete=models.PROTECT, related_name="offers")
    gpus_per_node = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    vcpus = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("vCPUs"))
    ram_gb = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("RAM (GB)"))
    storage_gb = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("storage (GB)"))
    gpu_interconnect = models.CharField(max_length=10, choices=GpuInterconnect, blank=True)
    network = models.CharField(max_length=12, choices=Network, blank=True)
    pricing_type = models.CharField(max_length=10, choices=PricingType, default=PricingType.ON_DEMAND)
    min_term_months = models.PositiveSmallIntegerField(null=True, blank=True)
    price_per_gpu_hour = models.DecimalField(max_digits=10, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD")
    # Whole nodes rentable now; 0 is sold out. NULL: available, but the provider does not publish
    # how many (e.g. an API that only lists "regions with capacity"). gpus_available is then NULL
    # too (NULL x n), and the catalog must treat it as "some" when filtering and sorting.
    nodes_available = models.PositiveIntegerField(default=0, null=True, blank=True)
    nodes_total = models.PositiveIntegerField(null=True, blank=True)
    gpus_available = models.GeneratedField(
        expression=F("nodes_available") * F("gpus_per_node"),
        output_field=models.PositiveIntegerField(),
        db_persist=True,
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    external_id = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source, default=Source.MANUAL)
    sync_connection = models.ForeignKey(
        "sync.SyncConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    last_verified_at = models.DateTimeField(default=timezone.now)
    # When the offer stops being trustworthy unless verified again (see Offer.stale_after()).
    stale_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Changes made through the services' save(): by hand, CSV, admin, with who made them. A sync's
    # set-based writes are not in it (SyncRun counts them, snapshots keep price and availability).
    history = HistoricalRecords(excluded_fields=["gpus_available", "created_at", "updated_at"])

    objects = OfferQuerySet.as_manager()

    # What a provider states about an offer (by hand, CSV or sync), after region and GPU model.
    # Everything else (status, provenance, freshness) is managed by the services.
    SPEC_FIELDS = (
        "gpus_per_node",
        "vcpus",
        "ram_gb",
        "storage_gb",
        "gpu_interconnect",
        "network",
        "pricing_type",
        "min_term_months",
        "price_per_gpu_hour",
        "currency",
        "nodes_available",
        "nodes_total",
    )

    class Meta:
        ordering = ["price_per_gpu_hour", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="offer_unique_external_id"),
            models.CheckConstraint(condition=Q(price_per_gpu_hour__gte=0), name="offer_price_gte_0"),
            models.CheckConstraint(condition=Q(gpus_per_node__gte=1), name="offer_gpus_per_node_gte_1"),
            # With nodes_available NULL the comparison is NULL, which a CHECK (and Django's
            # validation of it) lets through: an unknown count fits any total.
            models.CheckConstraint(
                condition=Q(nodes_total__isnull=True) | Q(nodes_total__gte=F("nodes_available")),
                name="offer_available_lte_total",
            ),
        ]
        # The catalog's indexes are partial ones (status = 'active'), made by migrations 0005 and
        # 0007: Meta cannot express them all (INCLUDE, NULLS LAST). None may hold last_verified_at
        # or stale_at, which every sync rewrites (see 0007).

    def __str__(self) -> str:
        return f"{self.gpus_per_node}x {self.gpu_model} · {self.region}"

    def get_absolute_url(self) -> str:
        return reverse("marketplace:offer_detail", args=[self.pk])

    def clean(self):
        if self.region_id and self.provider_id and self.region.provider_id != self.provider_id:
            raise ValidationError({"region": _("This region belongs to another provider.")})
        if (
            self.nodes_total is not None
            and self.nodes_available is not None
            and self.nodes_available > self.nodes_total
        ):
            raise ValidationError({"nodes_available": _("Cannot exceed the total number of nodes.")})
        if self.pricing_type == self.PricingType.RESERVED and not self.min_term_months:
            raise ValidationError({"min_term_months": _("A reserved price needs a minimum term.")})
        if self.price_per_gpu_hour is not None and self.price_per_gpu_hour < 0:
            raise ValidationError({"price_per_gpu_hour": _("A price cannot be negative.")})

    def stale_after(self) -> timedelta:
        """How long a verification of this offer holds (see verification_lifetime())."""
        return verification_lifetime(self.sync_connection.interval_seconds if self.sync_connection_id else None)

    def mark_verified(self, now=None) -> None:
        self.last_verified_at = now or timezone.now()
        self.stale_at = self.last_verified_at + self.stale_after()

    def save(self, *args, **kwargs):
        if self.region_id:
            self.country = self.region.country
        if self.stale_at is None:
            self.mark_verified(self.last_verified_at)
        super().save(*args, **kwargs)

    @property
    def is_stale(self) -> bool:
        return self.stale_at <= timezone.now()

    @property
    def price_per_node_hour(self) -> Decimal:
        return self.price_per_gpu_hour * self.gpus_per_node


class OfferSnapshot(models.Model):
    """Price and availability of an offer when they changed, for history charts."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="snapshots")
    recorded_at = models.DateTimeField(default=timezone.now)
    price_per_gpu_hour = models.DecimalField(max_digits=10, decimal_places=4)
    nodes_available = models.PositiveIntegerField(null=True, blank=True)  # NULL: available, count unknown

    class Meta:
        ordering = ["offer", "recorded_at"]
        indexes = [models.Index(fields=["offer", "recorded_at"], name="snapshot_offer_time")]


class CapacityWindowQuerySet(models.QuerySet):
    def listed(self):
        """Windows a developer may see: active, from an approved provider."""
        return self.filter(status=CapacityWindow.Status.ACTIVE, provider__status="approved")

    def covering(self, start: date, end: date):
        """Windows open for the whole of [start, end)."""
        return self.filter(starts_on__lte=start, ends_on__gte=end)


class CapacityWindow(models.Model):
    """Forward capacity a provider publishes: so many GPUs of a model in a region, over a period.

    Keyed by ``(provider, external_id)`` like offers, so the dashboard, CSV files and feeds
    (provider feed v1.1, "capacity_windows") update windows in place; withdrawn, never deleted.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="capacity_windows")
    region = models.ForeignKey("providers.Region", on_delete=models.PROTECT, related_name="capacity_windows")
    # Copied from the region on save, as for offers.
    country = CountryField(editable=False)
    gpu_model = models.ForeignKey(GpuModel, on_delete=models.PROTECT, related_name="capacity_windows")
    gpus = models.PositiveIntegerField(validators=[MinValueValidator(1)], verbose_name=_("GPUs"))
    starts_on = models.DateField(verbose_name=_("from"))
    ends_on = models.DateField(verbose_name=_("until"))
    # Optional: a window may be published before its price is set.
    price_per_gpu_hour = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    external_id = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Offer.Source, default=Offer.Source.MANUAL)
    sync_connection = models.ForeignKey(
        "sync.SyncConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="capacity_windows"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CapacityWindowQuerySet.as_manager()

    # What a provider states about a window, after region and GPU model.
    SPEC_FIELDS = ("gpus", "starts_on", "ends_on", "price_per_gpu_hour", "currency")

    class Meta:
        ordering = ["starts_on", "id"]
        verbose_name = _("capacity window")
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="window_unique_external_id"),
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="window_ends_after_start"),
            models.CheckConstraint(
                condition=Q(price_per_gpu_hour__isnull=True) | Q(price_per_gpu_hour__gte=0), name="window_price_gte_0"
            ),
        ]
        indexes = [
            models.Index(
                fields=["gpu_model", "country", "starts_on"], condition=Q(status="active"), name="window_listed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gpus}x {self.gpu_model} · {self.region} · {self.starts_on} → {self.ends_on}"

    def clean(self):
        if self.region_id and self.provider_id and self.region.provider_id != self.provider_id:
            raise ValidationError({"region": _("This region belongs to another provider.")})
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": _("The window must end after it starts.")})
        if self.price_per_gpu_hour is not None and not self.currency:
            raise ValidationError({"currency": _("Give the currency of the price.")})

    def save(self, *args, **kwargs):
        if self.region_id:
            self.country = self.region.country
        super().save(*args, **kwargs)


class SearchDemand(models.Model):
    """How many catalog searches asked for a GPU model in a country on a day: aggregated counts,
    no person and no search stored. A blank GPU (slug) or country: the search did not name one.
    (Blanks rather than NULLs, so that one unique constraint holds on every database.)"""

    day = models.DateField()
    gpu = models.SlugField(blank=True, verbose_name=_("GPU model"))
    country = CountryField(blank=True)
    searches = models.PositiveIntegerField(default=0)
    # Searches that found no offer at all.
    empty = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["day", "gpu", "country"], name="search_demand_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.gpu or '*'} {self.country or '*'}: {self.searches}"
