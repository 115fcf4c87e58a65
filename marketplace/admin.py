from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from marketplace import services
from marketplace.fx import rates_stale
from marketplace.models import (
    ExchangeRate,
    GpuAlias,
    GpuModel,
    InstanceTypeFact,
    Offer,
    OfferSnapshot,
    normalize_gpu_name,
)
from portal.admin import ServiceFormAdmin
from providers.admin import ProviderAdmin, provider_count
from providers.models import Provider

admin.site.site_header = _("GPU Marketplace administration")
admin.site.site_title = _("GPU Marketplace admin")
admin.site.index_title = _("Providers, GPU catalogue, offers and syncs")


class GpuAliasForm(forms.ModelForm):
    class Meta:
        model = GpuAlias
        fields = ["gpu_model", "name", "provider"]

    def clean(self):
        # ``normalized`` is unique (per provider) but not a form field, so its clash is reported here.
        cleaned = super().clean()
        name, provider = cleaned.get("name"), cleaned.get("provider")
        if not name:
            return cleaned
        clash = GpuAlias.objects.filter(normalized=normalize_gpu_name(name), provider=provider)
        clash = clash.exclude(pk=self.instance.pk).select_related("gpu_model").first()
        if clash:
            self.add_error(
                "name",
                ValidationError(
                    _("“%(name)s” already maps to %(gpu)s (as “%(alias)s”)."),
                    params={"name": name, "gpu": clash.gpu_model, "alias": clash.name},
                ),
            )
        return cleaned


class GpuAliasInline(admin.TabularInline):
    model = GpuAlias
    form = GpuAliasForm
    extra = 1
    fields = ["name", "provider", "normalized"]
    readonly_fields = ["normalized"]
    autocomplete_fields = ["provider"]


@admin.register(GpuModel)
class GpuModelAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "vendor",
        "family",
        "architecture",
        "memory_gb",
        "memory_type",
        "form_factor",
        "segment",
        "release_year",
        "sort_order",
    ]
    list_filter = ["vendor", "segment", "form_factor", "architecture"]
    search_fields = ["name", "slug", "aliases__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [GpuAliasInline]


@admin.register(GpuAlias)
class GpuAliasAdmin(admin.ModelAdmin):
    form = GpuAliasForm
    list_display = ["name", "normalized", "gpu_model", "provider"]
    list_filter = ["gpu_model", ("provider", admin.EmptyFieldListFilter)]
    search_fields = ["name", "normalized", "gpu_model__name", "provider__name"]
    autocomplete_fields = ["gpu_model", "provider"]
    list_select_related = ["gpu_model", "provider"]
    readonly_fields = ["normalized"]


@admin.register(InstanceTypeFact)
class InstanceTypeFactAdmin(admin.ModelAdmin):
    """Instance families whose GPUs' form factor the cloud documents but the GPU name does not say."""

    list_display = ["pattern", "form_factor", "source"]
    list_filter = ["form_factor"]
    search_fields = ["pattern", "source"]


# The provider admin, with each provider's active offers counted beside its regions.
admin.site.unregister(Provider)


@admin.register(Provider)
class ProviderWithOffersAdmin(ProviderAdmin):
    list_display = [*ProviderAdmin.list_display[:-1], "active_offer_count", ProviderAdmin.list_display[-1]]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(active_offer_count=provider_count(Offer, status=Offer.Status.ACTIVE))
        )

    @admin.display(description=_("active offers"), ordering="active_offer_count")
    def active_offer_count(self, provider: Provider) -> int:
        return provider.active_offer_count or 0


class OfferAdminForm(forms.ModelForm):
    """Saving goes through the offer services, as on the dashboard: freshness, snapshots and the
    rules about synced offers are the same whoever edits. Status changes are list actions."""

    class Meta:
        model = Offer
        fields = ["provider", *sorted(services.OFFER_FIELDS)]

    def save(self, commit=True):
        """Create or update the offer through the services (always saved, whatever ``commit``: the
        admin, a ServiceFormAdmin, saves nothing itself)."""
        values = {name: self.cleaned_data[name] for name in services.OFFER_FIELDS}
        if self.instance._state.adding:
            return services.offer_create(provider=self.cleaned_data["provider"], **values)
        return services.offer_update(offer=self.instance, **values)


@admin.register(Offer)
class OfferAdmin(ServiceFormAdmin):
    form = OfferAdminForm
    list_display = [
        "id",
        "provider",
        "gpu_model",
        "gpus_per_node",
        "region",
        "country",
        "pricing_type",
        "price_per_gpu_hour",
        "currency",
        "nodes_available",
        "nodes_total",
        "status",
        "source",
        "last_verified_at",
    ]
    list_filter = ["status", "pricing_type", ("country", CountryFilter), "gpu_model", "source"]
    search_fields = ["external_id", "provider__name"]
    list_select_related = ["provider", "region", "gpu_model"]
    autocomplete_fields = ["provider", "region", "gpu_model", "sync_connection"]
    readonly_fields = [
        "country",
        "status",
        "gpus_available",
        "source",
        "sync_connection",
        "last_verified_at",
        "stale_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["provider", "region", "country", "gpu_model", "gpus_per_node", "status"]}),
        (_("Node"), {"fields": ["vcpus", "ram_gb", "storage_gb", "gpu_interconnect", "network"]}),
        (_("Price"), {"fields": ["pricing_type", "min_term_months", "price_per_gpu_hour", "currency"]}),
        (_("Capacity"), {"fields": ["nodes_available", "nodes_total", "gpus_available"]}),
        (
            _("Provenance"),
            {
                "fields": [
                    "external_id",
                    "source",
                    "sync_connection",
                    "last_verified_at",
                    "stale_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    actions = ["withdraw", "reactivate"]
    show_full_result_count = False  # the catalog holds 100,000+ offers

    def has_delete_permission(self, request, obj=None):
        return False  # offers are withdrawn, never deleted: their history stays

    @admin.action(description=_("Withdraw selected offers"), permissions=["change"])
    def withdraw(self, request, queryset):
        count = self._each(request, queryset.filter(status__in=Offer.LISTED), services.offer_withdraw)
        self.message_user(request, ngettext("%d offer withdrawn.", "%d offers withdrawn.", count) % count)

    @admin.action(description=_("List selected offers again"), permissions=["change"])
    def reactivate(self, request, queryset):
        count = self._each(request, queryset.filter(status=Offer.Status.WITHDRAWN), services.offer_reactivate)
        self.message_user(request, ngettext("%d offer listed again.", "%d offers listed again.", count) % count)

    def _each(self, request, offers, service) -> int:
        """Apply an offer service to each offer, each change in the admin's log; how many there were."""
        offers = list(offers.select_related("sync_connection"))
        for offer in offers:
            service(offer=offer)
            self.log_change(request, offer, gettext("Status set to %(status)s.") % {"status": offer.status})
        return len(offers)


@admin.register(OfferSnapshot)
class OfferSnapshotAdmin(admin.ModelAdmin):
    """Snapshots are history: read-only."""

    list_display = ["recorded_at", "offer", "price_per_gpu_hour", "nodes_available"]
    list_filter = ["recorded_at"]
    search_fields = ["offer__external_id", "offer__provider__name"]
    list_select_related = ["offer__gpu_model", "offer__region"]
    raw_id_fields = ["offer"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """The ECB's reference rates behind every converted price: read here, never typed in.

    They come from the shipped snapshot (migrations) and, in production, from the periodic task
    ``exchange_rates_refresh_task``; ``manage.py exchange_rates_load`` loads them by hand.
    """

    list_display = ["currency", "units_per_eur", "rate_date", "is_stale", "source", "updated_at"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("stale"), boolean=True)
    def is_stale(self, rate: ExchangeRate) -> bool:
        return rates_stale(rate.rate_date, today=timezone.localdate(), max_age_days=settings.FX_STALE_AFTER_DAYS)

    def changelist_view(self, request, extra_context=None):
        newest = ExchangeRate.objects.order_by("-rate_date").values_list("rate_date", flat=True).first()
        today = timezone.localdate()
        if rates_stale(newest, today=today, max_age_days=settings.FX_STALE_AFTER_DAYS):
            message = (
                _("The exchange rates are stale: the newest is of %(date)s. Prices are still converted with them.")
                % {"date": newest}
                if newest
                else _("There are no exchange rates: no offer can be listed.")
            )
            self.message_user(request, message, messages.WARNING)
        return super().changelist_view(request, extra_context)
