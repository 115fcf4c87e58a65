"""Securing capacity: a developer's request, the providers it reaches, their quotes, the
agreement that closes it; and saved catalog searches with their alerts.

The contract itself stays between developer and provider: the portal records who agreed to
what, and hands each side the other's contact only once a quote is accepted.
"""

from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code, e.g. USD or EUR."))


class CapacityRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=[CapacityRequest.Status.OPEN, CapacityRequest.Status.QUOTED])

    def for_developer(self, user):
        return self.filter(developer=user) if user.is_authenticated else self.none()

    def visible(self):
        """Requests not hidden by a moderator."""
        return self.filter(hidden_at__isnull=True)


class CapacityRequest(models.Model):
    """What a developer needs: GPUs of a kind, where, from when, for how long."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        QUOTED = "quoted", _("Quoted")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class PricingType(models.TextChoices):
        ANY = "", _("Any")
        ON_DEMAND = "on_demand", _("On demand")
        SPOT = "spot", _("Spot")
        RESERVED = "reserved", _("Reserved")

    developer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="capacity_requests")
    organisation = models.CharField(_("organisation"), max_length=120)
    gpu_models = models.ManyToManyField(
        "marketplace.GpuModel", blank=True, related_name="+", verbose_name=_("GPU models")
    )
    min_gpu_memory_gb = models.PositiveSmallIntegerField(_("or any GPU with at least (GB)"), null=True, blank=True)
    gpu_count = models.PositiveIntegerField(_("GPUs"), validators=[MinValueValidator(1)])
    gpus_per_node = models.PositiveSmallIntegerField(_("GPUs per node"), null=True, blank=True)  # None: any
    countries = CountryField(_("countries"), multiple=True, blank=True)
    country_groups = models.JSONField(_("country groups"), default=list, blank=True)
    hq_countries = CountryField(_("provider headquartered in"), multiple=True, blank=True)
    gpu_interconnect = models.CharField(_("GPU interconnect"), max_length=10, blank=True)
    network = models.CharField(_("network between nodes"), max_length=12, blank=True)
    pricing_type = models.CharField(_("pricing"), max_length=10, choices=PricingType, blank=True)
    reserved_term_months = models.PositiveSmallIntegerField(_("reserved term (months)"), null=True, blank=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    budget_per_gpu_hour = models.DecimalField(
        _("budget per GPU-hour"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    budget_currency = models.CharField(_("currency"), max_length=3, blank=True, validators=[CURRENCY_CODE])
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN, db_index=True)
    # Filed from an offer page: that offer's provider is asked first.
    source_offer = models.ForeignKey(
        "marketplace.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Moderation: a hidden request reaches no one and shows nowhere but in the admin.
    hidden_at = models.DateTimeField(null=True, blank=True)

    objects = CapacityRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("capacity request")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="request_ends_after_start"),
            models.CheckConstraint(condition=Q(gpu_count__gte=1), name="request_gpu_count_gte_1"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.gpu_count} GPUs from {self.start_date} ({self.developer})"

    def get_absolute_url(self) -> str:
        return reverse("deals:request_detail", args=[self.pk])

    @property
    def hours(self) -> int:
        """Hours between the start and the end: what a quote's total is computed over."""
        return (self.end_date - self.start_date).days * 24

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.QUOTED)


class Recipient(models.Model):
    """One provider a request was routed to: its inbox entry and its answer."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        SEEN = "seen", _("Seen")
        QUOTED = "quoted", _("Quoted")
        DECLINED = "declined", _("Declined")

    request = models.ForeignKey(CapacityRequest, on_delete=models.CASCADE, related_name="recipients")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="capacity_requests")
    status = models.CharField(max_length=10, choices=Status, default=Status.NEW)
    # Why it could serve: {"offers": n, "windows": n, "countries": [...], "gpus": n or null}.
    match = models.JSONField(default=dict, blank=True)
    # 0 for the provider of the offer the request was filed from: asked first, listed first.
    priority = models.PositiveSmallIntegerField(default=1)
    declined_reason = models.TextField(blank=True, max_length=2000)
    routed_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "routed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["request", "provider"], name="recipient_unique")]
        indexes = [models.Index(fields=["provider", "-routed_at"], name="recipient_inbox")]

    def __str__(self) -> str:
        return f"{self.request} → {self.provider}"


class Quote(models.Model):
    """A provider's answer to a request: a price for so many GPUs over a period."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    request = models.ForeignKey(CapacityRequest, on_delete=models.CASCADE, related_name="quotes")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="quotes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    price_per_gpu_hour = models.DecimalField(_("price per GPU-hour"), max_digits=10, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3, validators=[CURRENCY_CODE])
    gpu_count = models.PositiveIntegerField(_("GPUs"), validators=[MinValueValidator(1)])
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    valid_until = models.DateField(_("valid until"))
    terms = models.TextField(_("terms"), blank=True, max_length=10000)
    offer = models.ForeignKey(
        "marketplace.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("offer")
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.OFFERED, db_index=True)
    # Demo partners answer requests by themselves; such a quote says so.
    automatic = models.BooleanField(default=False)
    decline_reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="quote_ends_after_start"),
            models.CheckConstraint(condition=Q(price_per_gpu_hour__gte=0), name="quote_price_gte_0"),
            # One live quote per provider and request: a new one replaces it (the old is withdrawn).
            models.UniqueConstraint(
                fields=["request", "provider"], condition=Q(status="offered"), name="quote_one_offered_per_provider"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.price_per_gpu_hour} {self.currency}/GPU-h for {self.request}"

    @property
    def hours(self) -> int:
        return (self.end_date - self.start_date).days * 24

    @property
    def total(self):
        """The price of the whole quote: GPUs x hours x price per GPU-hour, in its currency."""
        return self.price_per_gpu_hour * self.gpu_count * self.hours

    def is_expired(self, today: date | None = None) -> bool:
        return self.valid_until < (today or timezone.localdate())


class Message(models.Model):
    """One message of the thread between a request's developer and one provider it reached."""

    request = models.ForeignKey(CapacityRequest, on_delete=models.CASCADE, related_name="messages")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who wrote it, as the thread shows it: the developer, or the provider's staff.
    from_provider = models.BooleanField()
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "provider", "created_at"], name="message_thread")]

    def __str__(self) -> str:
        return f"{self.request} / {self.provider}: {self.body[:40]}"


class Agreement(models.Model):
    """The record of an accepted quote: who agreed to what. The contract is signed off-platform.

    Contacts are copied at acceptance, so the record says what each side was given.
    """

    request = models.OneToOneField(CapacityRequest, on_delete=models.PROTECT, related_name="agreement")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="agreement")
    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="agreements")
    developer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreements")
    price_per_gpu_hour = models.DecimalField(max_digits=10, decimal_places=4)
    currency = models.CharField(max_length=3)
    gpu_count = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    terms = models.TextField(blank=True)
    provider_legal_name = models.CharField(max_length=200)
    provider_contact_email = models.EmailField(blank=True)
    provider_website = models.URLField(blank=True)
    developer_organisation = models.CharField(max_length=120)
    developer_email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Agreement #{self.pk}: {self.provider} × {self.developer_organisation}"

    @property
    def total(self):
        return self.price_per_gpu_hour * self.gpu_count * (self.end_date - self.start_date).days * 24


class SavedSearch(models.Model):
    """A catalog search a developer keeps, with e-mail alerts for new matches and price drops."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(_("name"), max_length=120)
    # The catalog's URL parameters, normalized (sorted, deduplicated, no page or sort).
    query = models.CharField(max_length=2000, blank=True)  # blank: the whole catalog
    alert_new = models.BooleanField(_("e-mail me about new matching offers"), default=True)
    # Alert when a matching offer's price per GPU-hour falls below this (in the offer's currency
    # when it is this one; offers in other currencies are compared once converted).
    price_below = models.DecimalField(
        _("...and when a matching price drops below"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    price_currency = models.CharField(_("currency"), max_length=3, default="USD", validators=[CURRENCY_CODE])
    alerts_enabled = models.BooleanField(default=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the search asks for, to find the searches an offer could match without running them
    # all (see deals.services.alerts_evaluate): empty lists mean "any".
    gpu_ids = models.JSONField(default=list, blank=True)
    country_codes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = _("saved searches")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketplace:catalog") + (f"?{self.query}" if self.query else "")


class AlertMatch(models.Model):
    """An offer that matched a saved search: recorded once per change, e-mailed at most once."""

    class Kind(models.TextChoices):
        NEW = "new", _("New offer")
        PRICE_DROP = "price_drop", _("Price drop")

    search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="matches")
    offer = models.ForeignKey("marketplace.Offer", on_delete=models.CASCADE, related_name="+")
    # The snapshot that revealed the match: the same change never makes two matches.
    snapshot = models.ForeignKey("marketplace.OfferSnapshot", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind)
    price_per_gpu_hour = models.DecimalField(max_digits=10, decimal_places=4)
    currency = models.CharField(max_length=3)
    matched_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["matched_at", "id"]
        constraints = [models.UniqueConstraint(fields=["search", "snapshot"], name="alert_match_once")]
        indexes = [models.Index(fields=["search"], condition=Q(sent_at__isnull=True), name="alert_match_unsent")]


class AlertCursor(models.Model):
    """How far alert evaluation has read the snapshot log (one row)."""

    last_snapshot_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
