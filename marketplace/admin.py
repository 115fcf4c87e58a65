from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from marketplace import services
from marketplace.models import GpuAlias, GpuModel, GpuNameReview, Offer, OfferSnapshot, normalize_gpu_name

admin.site.site_header = _("GPU Marketplace administration")
admin.site.site_title = _("GPU Marketplace admin")
admin.site.index_title = _("Providers, GPU catalogue, offers and syncs")


class GpuAliasForm(forms.ModelForm):
    class Meta:
        model = GpuAlias
        fields = ["gpu_model", "name"]

    def clean_name(self):
        # ``normalized`` is unique but not a form field, so its clash must be reported here.
        name = self.cleaned_data["name"]
        clash = GpuAlias.objects.filter(normalized=normalize_gpu_name(name)).exclude(pk=self.instance.pk)
        clash = clash.select_related("gpu_model").first()
        if clash:
            raise ValidationError(
                _("“%(name)s” already maps to %(gpu)s (as “%(alias)s”)."),
                params={"name": name, "gpu": clash.gpu_model, "alias": clash.name},
            )
        return name


class GpuAliasInline(admin.TabularInline):
    model = GpuAlias
    form = GpuAliasForm
    extra = 1
    fields = ["name", "normalized"]
    readonly_fields = ["normalized"]


@admin.register(GpuModel)
class GpuModelAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "architecture",
        "memory_gb",
        "memory_type",
        "form_factor",
        "segment",
        "release_year",
        "sort_order",
    ]
    list_filter = ["segment", "form_factor", "architecture"]
    search_fields = ["name", "slug", "aliases__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [GpuAliasInline]


@admin.register(GpuAlias)
class GpuAliasAdmin(admin.ModelAdmin):
    form = GpuAliasForm
    list_display = ["name", "normalized", "gpu_model"]
    list_filter = ["gpu_model"]
    search_fields = ["name", "normalized", "gpu_model__name"]
    autocomplete_fields = ["gpu_model"]
    list_select_related = ["gpu_model"]
    readonly_fields = ["normalized"]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
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
    readonly_fields = ["country", "gpus_available", "last_verified_at", "stale_at", "created_at", "updated_at"]
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
    actions = ["withdraw"]
    show_full_result_count = False  # the catalog holds 100,000+ offers

    def has_delete_permission(self, request, obj=None):
        return False  # offers are withdrawn, never deleted: their history stays

    @admin.action(description=_("Withdraw selected offers"), permissions=["change"])
    def withdraw(self, request, queryset):
        count = queryset.filter(status=Offer.Status.ACTIVE).update(status=Offer.Status.WITHDRAWN)
        self.message_user(request, ngettext("%d offer withdrawn.", "%d offers withdrawn.", count) % count)


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


# --- The review queue: GPU names a provider's API used that the alias table does not know -----


class ResolvedFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", _("Awaiting review")), ("yes", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class GpuNameReviewForm(forms.ModelForm):
    """The change form maps the name: choosing a GPU model and saving resolves the review."""

    class Meta:
        model = GpuNameReview
        fields = ["gpu_model"]
        labels = {"gpu_model": _("Map to GPU model")}
        help_texts = {
            "gpu_model": _(
                "Saving creates an alias from this name to the model; the providers' connections then sync "
                "at once and the held offers are listed."
            )
        }

    def clean_gpu_model(self):
        gpu_model = self.cleaned_data["gpu_model"]
        if gpu_model is None:
            raise ValidationError(_("Choose the GPU model this name stands for."))
        clash = GpuAlias.objects.filter(normalized=self.instance.normalized).select_related("gpu_model").first()
        if clash and clash.gpu_model_id != gpu_model.pk:
            raise ValidationError(
                _("“%(name)s” already maps to %(gpu)s (as the alias “%(alias)s”): change that alias instead."),
                params={"name": self.instance.raw_name, "gpu": clash.gpu_model, "alias": clash.name},
            )
        return gpu_model


class MapToGpuModelForm(forms.Form):
    gpu_model = forms.ModelChoiceField(GpuModel.objects.all(), label=_("GPU model"))


@admin.register(GpuNameReview)
class GpuNameReviewAdmin(admin.ModelAdmin):
    """Map each unknown name to a GPU model (one by one on the change form, or several at once
    with the "Map to GPU model" action); the held offers appear on the next sync."""

    form = GpuNameReviewForm
    list_display = [
        "raw_name",
        "provider_names",
        "offers_held",
        "first_seen_at",
        "last_seen_at",
        "is_resolved",
        "gpu_model",
    ]
    list_filter = [ResolvedFilter]
    search_fields = ["raw_name", "normalized", "providers__name"]
    list_select_related = ["gpu_model"]
    readonly_fields = [
        "raw_name",
        "normalized",
        "provider_names",
        "offers_held",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
    ]
    fields = [*readonly_fields, "gpu_model"]
    autocomplete_fields = ["gpu_model"]
    actions = ["map_to_gpu_model"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("providers")

    def has_add_permission(self, request):
        return False  # names come from syncs

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.resolved_at:
            # Resolved: the alias is the mapping now; change it on the GPU alias page.
            return [*self.readonly_fields, "gpu_model"]
        return self.readonly_fields

    @admin.display(description=_("providers"))
    def provider_names(self, obj: GpuNameReview) -> str:
        return ", ".join(provider.name for provider in obj.providers.all())

    @admin.display(description=_("resolved"), boolean=True, ordering="resolved_at")
    def is_resolved(self, obj: GpuNameReview) -> bool:
        return obj.resolved_at is not None

    def save_model(self, request, obj, form, change):
        if obj.resolved_at:
            return
        due = services.gpu_name_review_resolve(review=obj, gpu_model=obj.gpu_model, now=timezone.now())
        self.message_user(request, self._resolved_message(obj, obj.gpu_model, due), messages.SUCCESS)

    def save_related(self, request, form, formsets, change):
        pass  # providers are read-only here; nothing else is related

    @admin.action(description=_("Map to GPU model…"), permissions=["change"])
    def map_to_gpu_model(self, request, queryset):
        """Pick a GPU model on an intermediate page, then resolve every selected name to it."""
        queryset = queryset.filter(resolved_at__isnull=True)
        form = MapToGpuModelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            gpu_model, now = form.cleaned_data["gpu_model"], timezone.now()
            for review in queryset:
                try:
                    due = services.gpu_name_review_resolve(review=review, gpu_model=gpu_model, now=now)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    self.message_user(request, self._resolved_message(review, gpu_model, due), messages.SUCCESS)
            return None
        if not queryset.exists():
            self.message_user(request, _("The selected names are already resolved."), messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Map GPU names to a GPU model"),
            "opts": self.model._meta,
            "reviews": queryset,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/marketplace/gpunamereview/map_to_gpu_model.html", context)

    @staticmethod
    def _resolved_message(review: GpuNameReview, gpu_model: GpuModel, due: int) -> str:
        return ngettext(
            "“%(name)s” now maps to %(gpu)s; %(count)d connection syncs now to list the held offers.",
            "“%(name)s” now maps to %(gpu)s; %(count)d connections sync now to list the held offers.",
            due,
        ) % {"name": review.raw_name, "gpu": gpu_model, "count": due}
