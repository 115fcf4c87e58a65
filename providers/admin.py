from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin

from providers import services
from providers.models import Certification, Membership, Provider, Region


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
    fields = ["code", "name", "country", "city"]


@admin.register(Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    # marketplace/admin.py adds the offer counts to this admin (this app does not know offers).
    list_display = ["name", "slug", "hq_country", "status", "region_count", "created_at"]
    list_filter = ["status", ("hq_country", CountryFilter), "certifications"]
    search_fields = ["name", "slug", "website", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["certifications"]
    readonly_fields = ["created_at", "approved_by", "approved_at"]
    inlines = [MembershipInline, RegionInline]
    actions = ["approve", "suspend"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(region_count=provider_count(Region))

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
