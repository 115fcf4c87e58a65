from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from marketplace.models import Offer
from providers.models import Certification, Membership, Provider, Region, SyncConnection, SyncRun
from providers.tasks import sync_connection_task


def _count(model, **filters) -> Subquery:
    """A correlated COUNT(*) subquery, cheaper than joining offers and regions together."""
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
    fields = ["code", "name", "country", "city"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "hq_country", "status", "region_count", "active_offer_count", "created_at"]
    list_filter = ["status", ("hq_country", CountryFilter), "certifications"]
    search_fields = ["name", "slug", "website", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["certifications"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline, RegionInline]
    actions = ["approve", "suspend"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                region_count=_count(Region),
                active_offer_count=_count(Offer, status=Offer.Status.ACTIVE),
            )
        )

    @admin.display(description=_("regions"), ordering="region_count")
    def region_count(self, provider: Provider) -> int:
        return provider.region_count or 0

    @admin.display(description=_("active offers"), ordering="active_offer_count")
    def active_offer_count(self, provider: Provider) -> int:
        return provider.active_offer_count or 0

    @admin.action(description=_("Approve selected providers"), permissions=["change"])
    def approve(self, request, queryset):
        count = queryset.exclude(status=Provider.Status.APPROVED).update(status=Provider.Status.APPROVED)
        self.message_user(request, ngettext("%d provider approved.", "%d providers approved.", count) % count)

    @admin.action(description=_("Suspend selected providers"), permissions=["change"])
    def suspend(self, request, queryset):
        # Suspended providers disappear from the catalog (Offer.objects.listed()); nothing is deleted.
        count = queryset.exclude(status=Provider.Status.SUSPENDED).update(status=Provider.Status.SUSPENDED)
        self.message_user(request, ngettext("%d provider suspended.", "%d providers suspended.", count) % count)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "provider__name"]
    autocomplete_fields = ["user", "provider"]
    list_select_related = ["user", "provider"]
    readonly_fields = ["created_at"]


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


class SyncConnectionAdminForm(forms.ModelForm):
    """Credentials can be replaced or removed, never read back: the stored token is not a field."""

    new_credentials = forms.CharField(
        label=_("New credentials"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("An API key or token. Stored encrypted; leave empty to keep the current one."),
    )
    remove_credentials = forms.BooleanField(label=_("Remove the stored credentials"), required=False)

    class Meta:
        model = SyncConnection
        # An explicit list, so that credentials_encrypted can never become a form field.
        fields = ["provider", "name", "kind", "base_url", "interval_seconds", "enabled", "next_sync_at"]

    def save(self, commit=True):
        connection = super().save(commit=False)
        if self.cleaned_data.get("new_credentials"):
            connection.set_credentials(self.cleaned_data["new_credentials"])
        elif self.cleaned_data.get("remove_credentials"):
            connection.set_credentials("")
        if commit:
            connection.save()
        return connection


@admin.register(SyncConnection)
class SyncConnectionAdmin(admin.ModelAdmin):
    form = SyncConnectionAdminForm
    list_display = [
        "provider",
        "name",
        "kind",
        "interval_seconds",
        "enabled",
        "health_display",
        "last_success_at",
        "consecutive_failures",
        "next_sync_at",
        "runs_link",
    ]
    list_filter = ["kind", "enabled"]
    search_fields = ["provider__name", "name", "base_url"]
    autocomplete_fields = ["provider"]
    list_select_related = ["provider"]
    readonly_fields = [
        "has_credentials_display",
        "health_display",
        "last_run_at",
        "last_success_at",
        "consecutive_failures",
        "last_error",
        "created_at",
        "runs_link",
    ]
    fieldsets = [
        (None, {"fields": ["provider", "name", "kind", "base_url", "interval_seconds", "enabled", "next_sync_at"]}),
        (_("Credentials"), {"fields": ["has_credentials_display", "new_credentials", "remove_credentials"]}),
        (
            _("Health"),
            {
                "fields": [
                    "health_display",
                    "last_run_at",
                    "last_success_at",
                    "consecutive_failures",
                    "last_error",
                    "created_at",
                    "runs_link",
                ]
            },
        ),
    ]
    actions = ["sync_now"]

    @admin.display(description=_("credentials stored"), boolean=True)
    def has_credentials_display(self, connection: SyncConnection) -> bool:
        return connection.has_credentials

    @admin.display(description=_("health"))
    def health_display(self, connection: SyncConnection) -> str:
        return connection.health

    @admin.display(description=_("runs"))
    def runs_link(self, connection: SyncConnection) -> str:
        if not connection.pk:
            return "-"
        url = reverse("admin:providers_syncrun_changelist") + f"?connection__id__exact={connection.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Sync runs"))

    @admin.action(description=_("Sync now"), permissions=["change"])
    def sync_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for connection_id in ids:
            sync_connection_task.delay_on_commit(connection_id)
        self.message_user(request, ngettext("%d sync queued.", "%d syncs queued.", len(ids)) % len(ids))


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """Sync runs are a log: read them, never write them by hand."""

    list_display = [
        "started_at",
        "connection",
        "outcome",
        "created",
        "updated",
        "unchanged",
        "withdrawn",
        "skipped",
        "duration",
        "short_error",
    ]
    list_filter = ["outcome", "started_at", "connection__kind"]
    search_fields = ["connection__provider__name", "connection__name", "error"]
    list_select_related = ["connection__provider"]
    date_hierarchy = "started_at"
    show_full_result_count = False  # COUNT(*) of a long log on every page is not worth it

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("error"))
    def short_error(self, run: SyncRun) -> str:
        return run.error[:80]
