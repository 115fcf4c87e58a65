from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase

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

from marketplace.currencies import is_iso_4217
from marketplace.fx import REFERENCE_CURRENCY, price_normalize
from marketplace.gpu_names import (
    AMBIGUOUS,
    CONTRADICTION,
    RESOLVED,
    UNKNOWN,
    Candidate,
    GpuQuery,
    decide,
    instance_type_form,
    name_facts,
    normalize_gpu_name,
    query_facts,
)


class GpuModel(models.Model):
    class Vendor(models.TextChoices):
        NVIDIA = "nvidia", "NVIDIA"
        AMD = "amd", "AMD"
        INTEL = "intel", "Intel"

    class FormFactor(models.TextChoices):
        SXM = "sxm", "SXM"
        PCIE = "pcie", "PCIe"
        NVL = "nvl", "NVL"
        SUPERCHIP = "superchip", _("Superchip (Grace)")
        OAM = "oam", "OAM"

    class Segment(models.TextChoices):
        DATACENTER = "datacenter", _("Data centre")
        WORKSTATION = "workstation", _("Workstation")
        CONSUMER = "consumer", _("Consumer")

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    vendor = models.CharField(max_length=10, choices=Vendor, default=Vendor.NVIDIA)
    # The product family a bare name stands for, normalized ("h100" for H100 SXM, PCIe and NVL):
    # a family of several models is never resolved by its name alone (marketplace/gpu_names.py).
    family = models.CharField(max_length=60, db_index=True)
    architecture = models.CharField(max_length=40)
    memory_gb = models.PositiveSmallIntegerField()
    memory_type = models.CharField(max_length=20)
    # Blank: the catalogue does not tell this GPU's form factors apart (V100 SXM2 and PCIe).
    form_factor = models.CharField(max_length=20, choices=FormFactor, blank=True)
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

    def candidate(self) -> Candidate:
        return Candidate(self.pk, self.family, self.memory_gb, self.form_factor, self.memory_type)


@dataclass(frozen=True)
class GpuResolution:
    """What the resolver made of a GPU name and its facts (marketplace/gpu_names.py says how)."""

    status: str  # resolved | unknown | ambiguous | contradiction
    gpu_model: GpuModel | None = None
    candidates: tuple[GpuModel, ...] = ()
    facts: dict = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        return self.gpu_model is not None


class GpuAliasQuerySet(models.QuerySet):
    def resolve_facts(self, queries: Iterable[GpuQuery], *, provider=None) -> dict[GpuQuery, GpuResolution]:
        """Map each query (a name and the facts its offer states) onto the catalogue, in three queries.

        The one resolver of GPU names (syncs, CSV imports, previews, the demo). A name's alias (of
        ``provider`` first, then a global one) wins when its model agrees with the stated facts;
        otherwise the name's family, narrowed by the facts, must leave exactly one model. Never a
        guess: an ambiguous name, an unknown one or contradicting facts resolve to no model.
        """
        queries = set(queries)
        parsed = {query: name_facts(query.name) for query in queries}
        keys = {facts.key for facts in parsed.values()} | {facts.family for facts in parsed.values()}
        aliases = self.filter(normalized__in=keys).filter(Q(provider__isnull=True) | Q(provider=provider))
        by_key: dict[str, GpuModel] = {}
        for alias in aliases.select_related("gpu_model").order_by(F("provider").asc(nulls_last=True)):
            by_key.setdefault(alias.normalized, alias.gpu_model)  # the provider's own alias first
        models_by_id = {gpu.pk: gpu for gpu in GpuModel.objects.all()}
        families: dict[str, list[Candidate]] = {}
        for gpu in models_by_id.values():
            families.setdefault(gpu.family, []).append(gpu.candidate())
        rules = InstanceTypeFact.objects.rules() if any(query.instance_type for query in queries) else []
        results, decided = {}, {}
        for query, name in parsed.items():
            alias_model = by_key.get(name.key) or by_key.get(name.family)
            facts = query_facts(query, name, instance_form(query.instance_type, rules))
            # Queries that differ only by what decides nothing (a node's size without a link)
            # share one decision: a sync asks hundreds of such variants of a few names.
            signature = (
                name,
                alias_model and alias_model.pk,
                facts.memory_gb,
                facts.form_factor,
                facts.memory_type,
                facts.nvlink_gpus,
                facts.pcie_link,
                tuple(facts.conflicts),
            )
            if (resolution := decided.get(signature)) is None:
                verdict = decide(
                    facts=facts,
                    parsed=name,
                    alias_model=alias_model.candidate() if alias_model else None,
                    families=families,
                )
                resolution = decided[signature] = GpuResolution(
                    status=verdict.status,
                    gpu_model=models_by_id.get(verdict.model_id) if verdict.model_id else None,
                    candidates=tuple(models_by_id[pk] for pk in verdict.candidate_ids),
                    facts=verdict.facts_shown,
                )
            results[query] = resolution
        return results

    def resolve_many(self, names: Iterable[str], *, slugs: bool = False, provider=None) -> dict[str, GpuModel | None]:
        """Names alone (no facts) onto the catalogue: each name to its GPU model, or None.

        With ``slugs``, a GPU model's own slug matches too (as CSV files may use them), first.
        """
        names = set(names)
        by_slug = {gpu.slug: gpu for gpu in GpuModel.objects.filter(slug__in=names)} if slugs else {}
        resolutions = self.resolve_facts([GpuQuery(name) for name in names - set(by_slug)], provider=provider)
        found = {query.name: resolution.gpu_model for query, resolution in resolutions.items()}
        return {name: by_slug.get(name) or found.get(name) for name in names}

    def resolve(self, raw_name: str) -> GpuModel | None:
        return self.resolve_many([raw_name])[raw_name]


def instance_form(instance_type: str, rules: list[tuple[str, str]]) -> str:
    """The form factor an instance type states: in its name, else by a known instance family."""
    if not instance_type:
        return ""
    if form := instance_type_form(instance_type):
        return form
    lowered = instance_type.lower()
    return next((form for pattern, form in rules if fnmatchcase(lowered, pattern)), "")


class GpuAlias(models.Model):
    """A name a provider uses for a GPU model, e.g. "H100 80GB HBM3" for H100 SXM 80GB.

    A global alias (no provider) applies to every provider; it may not pin a family of several
    models to one of them ("H100" to H100 SXM): such a name is mapped for one provider only, which
    knows what it sells under it.
    """

    gpu_model = models.ForeignKey(GpuModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=120)
    normalized = models.CharField(max_length=120, editable=False)
    provider = models.ForeignKey(
        "providers.Provider",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="gpu_aliases",
        help_text=_("Only for this provider's offers; empty: for every provider."),
    )

    objects = GpuAliasQuerySet.as_manager()

    class Meta:
        verbose_name = _("GPU alias")
        verbose_name_plural = _("GPU aliases")
        ordering = ["normalized"]
        constraints = [
            models.UniqueConstraint(
                fields=["normalized"], condition=Q(provider__isnull=True), name="gpualias_unique_global"
            ),
            models.UniqueConstraint(
                fields=["normalized", "provider"], condition=Q(provider__isnull=False), name="gpualias_unique_provider"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.gpu_model.name}"

    def clean(self):
        self.normalized = normalize_gpu_name(self.name)
        if self.provider_id is None and self.gpu_model_id:
            if variants := alias_pins_a_variant(self.name, self.gpu_model):
                raise ValidationError(
                    {
                        "name": _(
                            "“%(name)s” does not say which of %(models)s it is: for every provider it would pin "
                            "them all to %(gpu)s. Map it for one provider instead, or name the variant "
                            "(memory, form factor)."
                        )
                        % {"name": self.name, "models": ", ".join(variants), "gpu": self.gpu_model}
                    }
                )

    def save(self, *args, **kwargs):
        self.normalized = normalize_gpu_name(self.name)
        super().save(*args, **kwargs)


def alias_pins_a_variant(name: str, gpu_model: GpuModel) -> list[str]:
    """The models of the family ``name`` names when the name alone does not single out
    ``gpu_model`` among them (a global alias would then pin a guessed variant); else []."""
    parsed = name_facts(name)
    family = list(GpuModel.objects.filter(family=parsed.family)) if parsed.family else []
    if len(family) < 2:
        return []  # the name names no family of several models ("A100X" is a product of its own)
    candidates = {parsed.family: [gpu.candidate() for gpu in family]}
    verdict = decide(facts=query_facts(GpuQuery(name), parsed), parsed=parsed, alias_model=None, families=candidates)
    if verdict.status == RESOLVED and verdict.model_id == gpu_model.pk:
        return []
    return [gpu.name for gpu in family]


class InstanceTypeFactQuerySet(models.QuerySet):
    def rules(self) -> list[tuple[str, str]]:
        """(pattern, form factor), the longest (most specific) pattern first."""
        return sorted(self.values_list("pattern", "form_factor"), key=lambda rule: -len(rule[0]))


class InstanceTypeFact(models.Model):
    """What a cloud's instance family says about its GPUs that its GPU name does not.

    "p5.48xlarge" names an AWS instance of H100 SXM modules, while AWS calls the GPU "H100"; GCP's
    A2 and A3 machine types are SXM too. Loaded by a data migration from marketplace/gpu_catalogue.py,
    each with its source; editable in the admin. An instance type (in lower case) matches a glob
    pattern; the longest pattern that matches applies.
    """

    pattern = models.CharField(
        max_length=80, unique=True, help_text=_("A pattern in lower case, * for any text: “p5.*”, “vbm-*-h100-gpu”.")
    )
    form_factor = models.CharField(max_length=20, choices=GpuModel.FormFactor)
    source = models.CharField(max_length=200, blank=True, help_text=_("Where the cloud says so."))

    objects = InstanceTypeFactQuerySet.as_manager()

    class Meta:
        ordering = ["pattern"]
        verbose_name = _("instance type fact")

    def __str__(self) -> str:
        return f"{self.pattern} → {self.form_factor}"

    def save(self, *args, **kwargs):
        self.pattern = self.pattern.strip().lower()
        super().save(*args, **kwargs)


class GpuNameReview(models.Model):
    """A GPU name the resolver could not map, with the facts its offers stated: the admin review queue.

    Unknown (no catalogue model has this name), ambiguous (several fit the facts stated: the
    candidates are listed) or a contradiction (the facts fit no model of the name). Offers with
    such a name are held back, never listed under a guessed model. Mapping the name to a GPU model
    creates an alias (for the providers that used it, when the name stands for a family of several
    models); the held offers then appear on the connections' next sync.
    """

    class Status(models.TextChoices):
        UNKNOWN = UNKNOWN, _("Unknown name")
        AMBIGUOUS = AMBIGUOUS, _("Ambiguous: several models fit")
        CONTRADICTION = CONTRADICTION, _("Facts fit no model")

    raw_name = models.CharField(max_length=200)
    normalized = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.UNKNOWN)
    # The facts the offers stated (memory, form factor...), as last seen: {facts: offers}.
    facts = models.JSONField(default=list, blank=True)
    candidates = models.ManyToManyField(GpuModel, blank=True, related_name="+")
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


def validate_currency(code: str) -> None:
    """An active ISO 4217 code in capitals."""
    if not is_iso_4217(code):
        raise ValidationError(
            _("“%(code)s” is not an ISO 4217 currency code: use one like USD or EUR."),
            code="invalid_currency",
            params={"code": code},
        )


def validate_currency_field(code: str) -> None:
    """validate_currency(), with the error on the offer's currency field."""
    try:
        validate_currency(code)
    except ValidationError as error:
        raise ValidationError({"currency": error}) from None


def currency_without_rate_error(code: str, rates: Mapping[str, Decimal]) -> ValidationError:
    return ValidationError(
        _("The portal has no exchange rate for %(code)s, so its prices could not be compared: use one of %(codes)s."),
        code="currency_without_rate",
        params={"code": code, "codes": ", ".join(sorted(rates))},
    )


class ExchangeRateQuerySet(models.QuerySet):
    def units_per_eur(self) -> dict[str, Decimal]:
        """Every currency with a rate -> units per euro, the reference currency (1) included."""
        rates = dict(self.values_list("currency", "units_per_eur"))
        rates[REFERENCE_CURRENCY] = Decimal(1)
        return rates


class ExchangeRate(models.Model):
    """How many units of a currency one euro buys: the ECB's daily reference rate.

    One row per currency, replaced by each new day of rates (marketplace.services.
    exchange_rates_apply); a currency the ECB stops publishing keeps its last rate and date, so
    the offers priced in it stay comparable and the admin shows how old that rate is.
    """

    currency = models.CharField(max_length=3, primary_key=True, validators=[validate_currency])
    units_per_eur = models.DecimalField(max_digits=18, decimal_places=6, verbose_name=_("units per euro"))
    rate_date = models.DateField(verbose_name=_("rate of"))
    source = models.CharField(max_length=40, default="ECB")
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ExchangeRateQuerySet.as_manager()

    class Meta:
        ordering = ["currency"]
        verbose_name = _("exchange rate")
        constraints = [models.CheckConstraint(condition=Q(units_per_eur__gt=0), name="exchange_rate_positive")]

    def __str__(self) -> str:
        return f"1 EUR = {self.units_per_eur} {self.currency} ({self.rate_date})"


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
        """Offers a developer may see, fresh or stale: not withdrawn, from an approved provider."""
        return self.filter(status__in=Offer.LISTED, provider__status="approved")

    def listed_among(self, provider_ids):
        """listed(), with the approved providers given as ids (known already) rather than joined."""
        return self.filter(status__in=Offer.LISTED, provider_id__in=provider_ids)

    def fresh(self):
        """Verified recently enough (see offers_mark_stale(): staleness is a status, set on time)."""
        return self.filter(status=Offer.Status.ACTIVE)

    def stale(self):
        return self.filter(status=Offer.Status.STALE)


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
        # Still offered as far as anyone knows, but not verified recently: hidden by default.
        STALE = "stale", _("Stale")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    LISTED = (Status.ACTIVE, Status.STALE)

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        CSV = "csv", _("CSV import")
        SYNC = "sync", _("Synced")

    # No index of its own: the unique (provider, external_id) constraint's index serves it.
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="offers", db_index=False)
    # None only for a sold-out offer whose provider's API names no location at all: it is listed
    # once ("location not stated") and never under a country (docs/architecture.md, "Locations").
    region = models.ForeignKey(
        "providers.Region", on_delete=models.PROTECT, related_name="offers", null=True, blank=True
    )
    # Copied from the region on save, so the catalog filters by country without a join; "" without one.
    country = CountryField(editable=False, db_index=False, blank=True)
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
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    # The price in the reference currency (EUR), per marketplace.fx: what the catalog filters,
    # sorts and counts on. Set by the services from the exchange-rate table whenever the price,
    # the currency or the rates change. NULL only on withdrawn offers migrated from a currency
    # without a rate (a CHECK constraint keeps listed offers comparable).
    price_normalized = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True, editable=False)
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
    # Verification is per connection for synced offers: every active offer of a connection was
    # listed by its last successful sync, so it was verified then (``verified_at``), and a sync
    # writes no row it does not change. These two columns hold an offer's own verification: an
    # offer kept by hand or CSV, or a synced one since it turned stale (offers_mark_stale()
    # copies its connection's last success here). For an active synced offer they hold when it
    # last changed, nothing more.
    last_verified_at = models.DateTimeField(default=timezone.now)
    # When an offer kept by hand turns stale unless confirmed again (see Offer.stale_after()).
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
        ordering = ["price_normalized", "id"]
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
            models.CheckConstraint(
                condition=Q(status="withdrawn") | Q(price_normalized__isnull=False),
                name="offer_listed_has_normalized_price",
            ),
        ]
        # The catalog's indexes are partial ones (status = 'active'), made by migrations 0005 and
        # 0007: Meta cannot express them all (INCLUDE, NULLS LAST). None may hold last_verified_at
        # or stale_at, which every sync rewrites (see 0007).

    def __str__(self) -> str:
        return f"{self.gpus_per_node}x {self.gpu_model} · {self.region or _('location not stated')}"

    def get_absolute_url(self) -> str:
        return reverse("marketplace:offer_detail", args=[self.pk])

    def clean(self):
        if self.region_id and self.provider_id and self.region.provider_id != self.provider_id:
            raise ValidationError({"region": _("This region belongs to another provider.")})
        if self.region_id is None and self.nodes_available != 0:
            raise ValidationError({"region": _("An offer that is not sold out needs a region.")})
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

    def normalize_price(self, rates: Mapping[str, Decimal] | None = None) -> None:
        """Set ``price_normalized`` from the price, the currency and ``rates`` (units per euro,
        loaded from the exchange-rate table when not given). Raises ValidationError on the
        currency when it is not ISO 4217 or the portal has no rate for it."""
        validate_currency_field(self.currency)
        rates = ExchangeRate.objects.units_per_eur() if rates is None else rates
        rate = rates.get(self.currency)
        if rate is None:
            raise ValidationError({"currency": currency_without_rate_error(self.currency, rates)})
        if self.price_per_gpu_hour is not None:
            self.price_normalized = price_normalize(self.price_per_gpu_hour, rate)

    def stale_after(self) -> timedelta:
        """How long a verification of this offer holds (see verification_lifetime())."""
        return verification_lifetime(self.sync_connection.interval_seconds if self.sync_connection_id else None)

    def mark_verified(self, now=None) -> None:
        self.last_verified_at = now or timezone.now()
        self.stale_at = self.last_verified_at + self.stale_after()
        if self.status == self.Status.STALE:
            self.status = self.Status.ACTIVE

    def save(self, *args, **kwargs):
        self.country = self.region.country if self.region_id else ""
        if self.stale_at is None:
            self.stale_at = self.last_verified_at + self.stale_after()
        if self.price_normalized is None and self.status in self.LISTED:
            self.normalize_price()  # the services set it; this covers a bare create()
        super().save(*args, **kwargs)

    @property
    def is_stale(self) -> bool:
        return self.status == self.Status.STALE

    @property
    def verified_at(self) -> datetime:
        """When the offer was last verified: by its connection's last success while it is active
        and synced (load ``sync_connection`` with it), else its own verification."""
        if self.status == self.Status.ACTIVE and self.sync_connection_id:
            # Even if the offer alone was confirmed since (a PATCH by API): the conservative one.
            return self.sync_connection.last_success_at or self.last_verified_at
        return self.last_verified_at

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
