from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords


class Certification(models.Model):
    """A kind of certification a provider may hold (SOC 2 Type II, ISO 27001...): reference data.
    What a provider holds is a ProviderCertification record, with its scope, issuer and validity."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProviderQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Provider.Status.APPROVED)

    def for_user(self, user):
        """Providers the user is a member of."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Provider(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    hq_country = CountryField(verbose_name=_("headquarters country"))
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    contact_email = models.EmailField(blank=True)
    # Sovereignty facts: who operates the capacity, under which jurisdiction (blank: not stated).
    legal_entity = models.CharField(
        max_length=200, blank=True, verbose_name=_("legal entity"), help_text=_("e.g. Nebius B.V.")
    )
    incorporation_country = CountryField(blank=True, verbose_name=_("country of incorporation"))
    # Legal identifiers: what an admin checks an application against (a company register, the
    # EU's VIES), shown on the public profile when stated (blank: not stated).
    registration_number = models.CharField(
        max_length=60,
        blank=True,
        verbose_name=_("company registration number"),
        help_text=_("e.g. the trade register number (KvK, SIREN, HRB...)."),
    )
    vat_number = models.CharField(
        max_length=30,
        blank=True,
        verbose_name=_("VAT number"),
        help_text=_("With its country prefix, e.g. NL123456789B01."),
    )
    parent_name = models.CharField(max_length=200, blank=True, verbose_name=_("ultimate parent"))
    parent_country = CountryField(
        blank=True,
        verbose_name=_("ultimate parent's country"),
        help_text=_("Where the company that ultimately controls it is incorporated; its own if it has no parent."),
    )
    # A GDPR data processing agreement is a document a provider offers, not a certification.
    dpa_offered = models.BooleanField(default=False, verbose_name=_("offers a GDPR data processing agreement"))
    dpa_url = models.URLField(blank=True, verbose_name=_("data processing agreement (link)"))
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who approved the provider (last), and when: set by services.provider_approve.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Every change, with who made it (simple_history's middleware records the request's user).
    history = HistoricalRecords(excluded_fields=["created_at"])

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketplace:provider_detail", args=[self.slug])

    def clean(self):
        if self.dpa_url and not self.dpa_offered:
            raise ValidationError({"dpa_url": _("Tick “offers a GDPR data processing agreement” to link one.")})

    @property
    def jurisdictions(self) -> list[str]:
        """The countries whose law governs the operator: its own and its ultimate parent's, when stated."""
        return [country.code for country in (self.incorporation_country, self.parent_country) if country]

    def operated_from(self, countries: set[str] | frozenset[str]) -> bool:
        """Whether the operator and its ultimate parent are both stated and both in ``countries``."""
        return bool(self.incorporation_country and self.parent_country) and set(self.jurisdictions) <= countries


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who joined, changed role or left, and who did it: the owners read it on the dashboard's history.
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.provider} ({self.role})"


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        """Not accepted, not revoked and not expired: the invitations a link still opens."""
        return self.filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An owner's invitation to join the provider's team, sent to an e-mail address.

    Only the SHA-256 of its token is stored: the token itself is in the e-mail's link, and a
    database dump does not let anyone join a team. Whoever accepts must be signed in with the
    invited address. Accepted, revoked and expired invitations are kept, as the team's history.
    """

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role, default=Membership.Role.STAFF)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["provider", "email"], name="invitation_provider_email")]

    def __str__(self) -> str:
        return f"{self.email} to {self.provider} ({self.role})"

    def is_for(self, user) -> bool:
        """Whether ``user`` signed in with the invited address: only they may accept."""
        return bool(user.email) and self.email.casefold() == user.email.casefold()

    @property
    def gone_reason(self) -> str:
        """Why the invitation's link no longer works ("" while it does)."""
        if self.accepted_at:
            return gettext("This invitation was already accepted.")
        if self.revoked_at:
            return gettext("This invitation was withdrawn by the team's owners.")
        if self.expires_at <= timezone.now():
            return gettext("This invitation has expired: ask the team's owners for a new one.")
        return ""


class Region(models.Model):
    """A provider's location, with the code the provider itself uses for it."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="regions")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=120, blank=True)
    country = CountryField(db_index=True)
    # The other countries the region spans, only when the provider says so (its feed's "countries",
    # or a region mapping an admin made from the provider's own description). Its offers are then
    # listed under each of them, and marked as such.
    other_countries = CountryField(multiple=True, blank=True)
    city = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["provider", "code"]
        constraints = [models.UniqueConstraint(fields=["provider", "code"], name="region_unique_code")]

    def __str__(self) -> str:
        place = ", ".join(part for part in [self.city, self.country.name] if part)
        return f"{self.code} ({place})"

    @property
    def countries(self) -> list[str]:
        """Every country the region is in: its country, then the others it spans."""
        return [self.country.code, *(country.code for country in self.other_countries)]


class ProviderCertificationQuerySet(models.QuerySet):
    def valid(self, today: date | None = None):
        """Records that count: verified by an admin and not expired."""
        today = today or timezone.localdate()
        return self.filter(verified_at__isnull=False, valid_until__gte=today)


class ProviderCertification(models.Model):
    """A certification a provider holds, as a record an admin can check.

    Its scope is the whole provider or named regions. Only a record an admin verified and whose
    validity has not ended counts (in the catalog's filter and its badges); the provider is e-mailed
    30 days before it expires. Editing a record on the dashboard makes it unverified again.
    """

    class Scope(models.TextChoices):
        PROVIDER = "provider", _("The whole provider")
        REGIONS = "regions", _("Named regions")

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="certification_records")
    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="records")
    scope = models.CharField(max_length=10, choices=Scope, default=Scope.PROVIDER)
    regions = models.ManyToManyField(Region, blank=True, related_name="certification_records")
    issuer = models.CharField(max_length=200, blank=True, help_text=_("The body that issued it, e.g. BSI, Schellman."))
    certificate_id = models.CharField(max_length=120, blank=True, verbose_name=_("certificate id"))
    valid_until = models.DateField(null=True, blank=True)
    evidence_url = models.URLField(blank=True, verbose_name=_("evidence (link)"))
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expiry_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProviderCertificationQuerySet.as_manager()

    class Meta:
        ordering = ["provider", "certification__name"]
        verbose_name = _("certification record")

    def __str__(self) -> str:
        return f"{self.provider}: {self.certification}"

    def state(self, today: date | None = None) -> str:
        """valid | expired | unverified: what its badge says."""
        today = today or timezone.localdate()
        if self.valid_until is not None and self.valid_until < today:
            return "expired"
        if self.verified_at is None or self.valid_until is None:
            return "unverified"
        return "valid"
