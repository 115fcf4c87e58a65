from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords


class Certification(models.Model):
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
    certifications = models.ManyToManyField(Certification, blank=True, related_name="providers")
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


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.provider} ({self.role})"


class Region(models.Model):
    """A provider's location, with the code the provider itself uses for it."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="regions")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=120, blank=True)
    country = CountryField(db_index=True)
    city = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["provider", "code"]
        constraints = [models.UniqueConstraint(fields=["provider", "code"], name="region_unique_code")]

    def __str__(self) -> str:
        place = ", ".join(part for part in [self.city, self.country.name] if part)
        return f"{self.code} ({place})"
