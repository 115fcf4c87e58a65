"""How the portal reads a provider's inventory (SyncConnection) and each attempt (SyncRun)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from portal.lib.crypto import decrypt_secret, encrypt_secret


class SyncConnectionQuerySet(models.QuerySet):
    def due(self, now=None):
        """Enabled connections whose time has come, of approved providers only: a pending or
        suspended provider's connections never make a worker fetch, nor do those that receive
        pushes (they are never fetched)."""
        return self.filter(
            enabled=True, receives_pushes=False, next_sync_at__lte=now or timezone.now(), provider__status="approved"
        )


def adapter_kind_choices() -> list[tuple[str, str]]:
    # The adapter registry is the one list of kinds; imported late to keep models import-light.
    from sync.adapters.registry import adapter_choices

    return adapter_choices()


class SyncConnection(models.Model):
    """How the portal reads a provider's inventory: an adapter kind, a URL, credentials."""

    FEED = "feed"

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="sync_connections")
    name = models.CharField(max_length=120, default="Inventory feed")
    kind = models.CharField(max_length=20, choices=adapter_kind_choices, default=FEED)
    base_url = models.URLField(max_length=500)
    # Fernet token; use set_credentials()/get_credentials(), never read or render this field.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    interval_seconds = models.PositiveIntegerField(default=300, validators=[MinValueValidator(30)])
    enabled = models.BooleanField(default=True)
    next_sync_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Set (with enabled=False) when the connection failed too often in a row; editing it resumes.
    paused_at = models.DateTimeField(null=True, blank=True)
    # The provider sends its inventory to the API (a feed document per push) instead of being
    # fetched: never dispatched; its interval is how often pushes are expected (staleness).
    receives_pushes = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Changes of its settings, with who made them; never the credentials (not even encrypted) nor
    # the health columns a sync run writes.
    history = HistoricalRecords(
        excluded_fields=[
            "credentials_encrypted",
            "next_sync_at",
            "last_run_at",
            "last_success_at",
            "last_error",
            "consecutive_failures",
            "created_at",
        ]
    )

    objects = SyncConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["provider", "name"]
        indexes = [
            models.Index(fields=["next_sync_at"], condition=Q(enabled=True), name="syncconn_due"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.name}"

    PUSH_NAME = "Inventory pushed to the API"

    def set_credentials(self, secret: str) -> None:
        self.credentials_encrypted = encrypt_secret(secret) if secret else ""

    def get_credentials(self) -> str:
        return decrypt_secret(self.credentials_encrypted) if self.credentials_encrypted else ""

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    @property
    def health(self) -> str:
        """paused_after_failures, paused (by hand), failing, ok or never (no successful sync yet)."""
        if self.paused_at:
            return "paused_after_failures"
        if not self.enabled:
            return "paused"
        if self.consecutive_failures:
            return "failing"
        return "ok" if self.last_success_at else "never"


class SyncRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCESS = "success", _("Success")
        FAILED = "failed", _("Failed")

    connection = models.ForeignKey(SyncConnection, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome, default=Outcome.RUNNING)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # Capacity windows the source lists after the run; null when it publishes none.
    windows = models.PositiveIntegerField(null=True, blank=True)
    # The inventory shrank suddenly: its missing offers were kept, not withdrawn (see warnings).
    suspicious = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # Problems that did not fail the run, e.g. GPU names the catalogue does not know.
    warnings = models.JSONField(default=list, blank=True)
    # A push's Idempotency-Key: the same key again within a day answers this run, applies nothing.
    idempotency_key = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["connection", "-started_at"], name="syncrun_conn_started")]
        # A connection syncs once at a time: starting a run is claiming it (sync/engine.py).
        constraints = [
            models.UniqueConstraint(
                fields=["connection"], condition=Q(outcome="running"), name="syncrun_one_running_per_connection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection} @ {self.started_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class ApiToken(models.Model):
    """A provider's key to the JSON API, for pushing its inventory. Only a digest is stored: the
    token is shown once, when it is created; ``prefix`` identifies it in lists and logs."""

    class Scope(models.TextChoices):
        INVENTORY_WRITE = "inventory:write", _("Push inventory and update offers")

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)  # SHA-256 of the secret part, hex
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.provider}: {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ConnectionTest(models.Model):
    """One "test connection": asked for on the dashboard, run by a worker (sync.tasks), shown by
    the dashboard as it polls. ``result`` is what would be listed (sync.preview.preview_json)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    connection = models.ForeignKey(SyncConnection, on_delete=models.CASCADE, related_name="tests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.connection} test @ {self.requested_at:%Y-%m-%d %H:%M:%S} ({self.status})"

    @property
    def pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def abandoned(self) -> bool:
        """Still pending long after any worker would have finished it (no worker is running)."""
        limit = settings.CONNECTION_TEST_TIMEOUT_SECONDS * 3
        return self.pending and (timezone.now() - self.requested_at).total_seconds() > limit


class Heartbeat(models.Model):
    """When a periodic job last ran (the dispatcher beat sends), for /healthz."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at}"


class RegionMapping(models.Model):
    """Where a provider API's region is, when the API's answer does not say: data, not code.

    Keyed by adapter kind and the API's own region code ("lambda", "us-east-1"). Loaded by a data
    migration with what the adapters knew, edited in the admin; an unknown code goes to the review
    queue (RegionReview), and mapping it there lists its held offers at the next sync. A region
    spans several countries only when the provider's own description says so.
    """

    kind = models.CharField(max_length=20, choices=adapter_kind_choices)
    code = models.CharField(max_length=64)
    country = CountryField()
    other_countries = CountryField(
        multiple=True, blank=True, help_text=_("Only if the provider says the region spans several countries.")
    )
    city = models.CharField(max_length=120, blank=True)
    name = models.CharField(max_length=120, blank=True, help_text=_("The provider's own description of it."))
    source = models.CharField(max_length=200, blank=True, help_text=_("Where the provider says so."))

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("region mapping")
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="regionmapping_unique_kind_code")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.code} → {self.country.code}"


class RegionReview(models.Model):
    """A region code an API used that no mapping (and no region of the provider) places: the admin
    review queue, like the GPU names'. Its offers are held back, never placed in a guessed country."""

    kind = models.CharField(max_length=20, choices=adapter_kind_choices)
    code = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True, help_text=_("The provider's own words for it."))
    providers = models.ManyToManyField("providers.Provider", related_name="regions_in_review", blank=True)
    offers_held = models.PositiveIntegerField(default=0, help_text=_("Offers held back at the latest sync."))
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    mapping = models.ForeignKey(RegionMapping, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["resolved_at", "-last_seen_at"]
        verbose_name = _("region awaiting review")
        verbose_name_plural = _("regions awaiting review")
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="regionreview_unique_kind_code")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.code}"
