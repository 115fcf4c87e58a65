from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin

from providers import services
from providers.models import Certification, Invitation, Membership, Provider, ProviderCertification, Region


def provider_count(model, **filters) -> Subquery:
    """A correlated COUNT(*) of ``model`` rows per provider: cheaper than joining several tables together."""
    rows = model.objects.filter(provider=OuterRef("pk"), **filters).order_by().values("provider")
    return Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField())


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]


class RegionInline(admin.TabularInline):
    model = Region
    extra = 0
    fields = ["code", "name", "country", "other_countries", "city"]


class ProviderCertificationInline(admin.TabularInline):
    """The provider's records, to read; they are edited and verified on their own admin page."""

    model = ProviderCertification
    extra = 0
    fields = ["certification", "scope", "issuer", "certificate_id", "valid_until", "verified_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    # marketplace/admin.py adds the offer counts to this admin (this app does not know offers).
    list_display = ["name", "slug", "hq_country", "status", "region_count", "created_at"]
    list_filter = [
        "status",
        ("hq_country", CountryFilter),
        ("incorporation_country", CountryFilter),
        ("parent_country", CountryFilter),
    ]
    search_fields = ["name", "slug", "website", "contact_email", "legal_entity", "parent_name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["applied_by", "applied_at", "certification_evidence", "approved_by", "approved_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "hq_country", "website", "contact_email", "description"]}),
        # What an admin checks before approving: who the business is, who applied, and the
        # evidence of the certifications it claims (verified on each record's own page).
        (
            _("Application"),
            {
                "fields": [
                    "legal_entity",
                    "registration_number",
                    "vat_number",
                    "applied_by",
                    "applied_at",
                    "certification_evidence",
                ]
            },
        ),
        (
            _("Sovereignty facts"),
            {"fields": [name for name in services.FACT_FIELDS if name != "legal_entity"]},
        ),
        (None, {"fields": ["approved_by", "approved_at"]}),
    ]
    inlines = [MembershipInline, RegionInline, ProviderCertificationInline]
    actions = ["approve", "suspend"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(region_count=provider_count(Region))

    def get_fieldsets(self, request, obj=None):
        """A pending provider's page opens on its application: what the admin is there to check."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.status == Provider.Status.PENDING:
            return [fieldsets[1], fieldsets[0], *fieldsets[2:]]
        return fieldsets

    @admin.display(description=_("applied by"))
    def applied_by(self, provider: Provider) -> str:
        """The provider's owners (the applicant first), each with their e-mail address."""
        if provider.pk is None:
            return "—"
        owners = provider.memberships.filter(role=Membership.Role.OWNER).select_related("user").order_by("created_at")
        return (
            format_html_join(
                mark_safe("<br>"),
                '{} &lt;<a href="mailto:{}">{}</a>&gt;',
                ((m.user.get_username(), m.user.email, m.user.email) for m in owners),
            )
            or "—"
        )

    @admin.display(description=_("date applied"))
    def applied_at(self, provider: Provider) -> str:
        # A readonly callable is shown as text: formatted here as the admin formats its dates.
        return formats.localize(timezone.localtime(provider.created_at)) if provider.created_at else "—"

    @admin.display(description=_("certification evidence"))
    def certification_evidence(self, provider: Provider) -> str:
        """Each certification record: its state, issuer and id, the evidence link, and a link to
        the record's page where it is verified."""
        if provider.pk is None:
            return "—"
        records = provider.certification_records.select_related("certification")
        today = timezone.localdate()
        states = {"valid": _("Valid"), "expired": _("Expired"), "unverified": _("Not verified")}
        rows = [
            format_html(
                '<a href="{}">{}</a> ({}){}{}{}',
                reverse("admin:providers_providercertification_change", args=[record.pk]),
                record.certification.name,
                states[record.state(today)],
                format_html(", {}", record.issuer) if record.issuer else "",
                format_html(", {}", record.certificate_id) if record.certificate_id else "",
                format_html(
                    ' — <a href="{}" rel="noopener noreferrer" target="_blank">{}</a>',
                    record.evidence_url,
                    _("evidence"),
                )
                if record.evidence_url
                else format_html(" — {}", _("no evidence link")),
            )
            for record in records
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((row,) for row in rows)) or "—"

    def save_model(self, request, obj, form, change):
        """A status changed on the form goes through the services like the list actions (who
        approved, the history, the owners' e-mail); the other fields are saved as they are."""
        if not change or "status" not in form.changed_data:
            return super().save_model(request, obj, form, change)
        status, obj.status = obj.status, form.initial["status"]
        super().save_model(request, obj, form, change)
        service = {
            Provider.Status.APPROVED: services.provider_approve,
            Provider.Status.SUSPENDED: services.provider_suspend,
        }.get(status)
        if service is not None:
            service(provider=obj, by=request.user)
        else:  # back to pending: no service, no e-mail
            obj.status = status
            obj.save(update_fields=["status"])

    @admin.display(description=_("regions"), ordering="region_count")
    def region_count(self, provider: Provider) -> int:
        return provider.region_count or 0

    @admin.action(description=_("Approve selected providers"), permissions=["change"])
    def approve(self, request, queryset):
        count = self._each(request, queryset, services.provider_approve, gettext("Approved."))
        self.message_user(request, ngettext("%d provider approved.", "%d providers approved.", count) % count)

    @admin.action(description=_("Suspend selected providers"), permissions=["change"])
    def suspend(self, request, queryset):
        count = self._each(request, queryset, services.provider_suspend, gettext("Suspended."))
        self.message_user(request, ngettext("%d provider suspended.", "%d providers suspended.", count) % count)

    def _each(self, request, queryset, service, message: str) -> int:
        """Apply a status service to each provider as the admin's user, logging each change in the
        admin's history (LogEntry) as well as the provider's; how many changed."""
        count = 0
        for provider in queryset:
            if service(provider=provider, by=request.user):
                self.log_change(request, provider, message)
                count += 1
        return count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "provider__name"]
    autocomplete_fields = ["user", "provider"]
    list_select_related = ["user", "provider"]
    readonly_fields = ["created_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: owners invite and withdraw on their dashboard; the token's hash is never shown."""

    list_display = ["email", "provider", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email", "provider__name"]
    list_select_related = ["provider", "invited_by"]
    exclude = ["token_hash"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "provider", "country", "city"]
    list_filter = [("country", CountryFilter)]
    search_fields = ["code", "name", "city", "provider__name"]
    autocomplete_fields = ["provider"]
    list_select_related = ["provider"]


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class CertificationStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("valid", _("Valid")), ("unverified", _("Not verified")), ("expired", _("Expired"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.valid(today)
        if self.value() == "expired":
            return queryset.filter(valid_until__lt=today)
        if self.value() == "unverified":
            return queryset.exclude(valid_until__lt=today).exclude(pk__in=queryset.valid(today).values("pk"))
        return queryset


class ProviderCertificationForm(forms.ModelForm):
    class Meta:
        model = ProviderCertification
        fields = [
            "provider",
            "certification",
            "scope",
            "regions",
            "issuer",
            "certificate_id",
            "valid_until",
            "evidence_url",
        ]

    def clean(self):
        cleaned = super().clean()
        provider, scope, regions = cleaned.get("provider"), cleaned.get("scope"), cleaned.get("regions")
        if scope == ProviderCertification.Scope.PROVIDER and regions:
            self.add_error("regions", _("A certification of the whole provider names no regions."))
        elif scope == ProviderCertification.Scope.REGIONS and regions is not None and not regions:
            self.add_error("regions", _("Name the regions the certification covers."))
        elif provider and regions and any(region.provider_id != provider.pk for region in regions):
            self.add_error("regions", _("Only the provider's own regions can be named."))
        return cleaned


@admin.register(ProviderCertification)
class ProviderCertificationAdmin(admin.ModelAdmin):
    """Certification records: an admin checks the evidence, then marks them verified."""

    form = ProviderCertificationForm

    list_display = [
        "provider",
        "certification",
        "scope",
        "issuer",
        "certificate_id",
        "valid_until",
        "state_badge",
        "evidence",
    ]
    list_filter = [CertificationStateFilter, "certification", "scope"]
    search_fields = ["provider__name", "certification__name", "issuer", "certificate_id"]
    autocomplete_fields = ["provider", "regions"]
    list_select_related = ["provider", "certification"]
    readonly_fields = ["verified_at", "verified_by", "expiry_notified_at", "created_at"]
    actions = ["verify", "unverify"]

    @admin.display(description=_("state"))
    def state_badge(self, record: ProviderCertification) -> str:
        return {"valid": _("Valid"), "expired": _("Expired"), "unverified": _("Not verified")}[record.state()]

    @admin.display(description=_("evidence"))
    def evidence(self, record: ProviderCertification) -> str:
        if not record.evidence_url:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', record.evidence_url, _("open")
        )

    def save_model(self, request, obj, form, change):
        # An admin's edit keeps the verification; the regions are saved next, by save_related.
        services.certification_record_save(record=obj, by_admin=True)

    @admin.action(description=_("Mark as verified (evidence checked)"), permissions=["change"])
    def verify(self, request, queryset):
        count = services.certification_records_verify(records=queryset, user=request.user)
        self.message_user(request, ngettext("%d record verified.", "%d records verified.", count) % count)

    @admin.action(description=_("Mark as not verified"), permissions=["change"])
    def unverify(self, request, queryset):
        count = queryset.exclude(verified_at=None).update(verified_at=None, verified_by=None)
        self.message_user(request, ngettext("%d record unverified.", "%d records unverified.", count) % count)
