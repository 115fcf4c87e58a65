"""Admin for syncs: connections (through the same services as the dashboard), runs (a read-only
log), the review queue of GPU names the catalogue cannot resolve, the region mappings (data) and
the review queue of region codes nothing places."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_countries.filters import CountryFilter

from marketplace.models import GpuAlias, GpuModel, GpuNameReview
from portal.admin import ServiceFormAdmin
from sync import services
from sync.forms import ConnectionSettingsForm
from sync.models import RegionMapping, RegionReview, SyncConnection, SyncRun


class SyncConnectionAdminForm(ConnectionSettingsForm):
    """The dashboard's connection settings, plus the provider (when adding) and "enabled".

    Saving goes through the same services as the dashboard (sync/services.py): only the settings
    columns are written, a connection paused after failures resumes, and so on.
    """

    class Meta(ConnectionSettingsForm.Meta):
        fields = ["provider", *ConnectionSettingsForm.Meta.fields, "enabled"]

    def save(self, commit=True):
        """Create or update the connection through the services (always saved, whatever ``commit``:
        the admin, a ServiceFormAdmin, saves nothing itself)."""
        if self.instance._state.adding:
            values = self.settings_data
            values.pop("remove_credentials", None)
            connection = services.connection_create(provider=self.cleaned_data["provider"], **values)
        else:
            connection = services.connection_update(connection=self.instance, **self.settings_data)
        if connection.enabled != self.cleaned_data["enabled"]:
            services.connection_set_enabled(connection=connection, enabled=self.cleaned_data["enabled"])
        return connection


@admin.register(SyncConnection)
class SyncConnectionAdmin(ServiceFormAdmin):
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
    health_fields = [
        "health_display",
        "next_sync_at",
        "paused_at",
        "last_run_at",
        "last_success_at",
        "consecutive_failures",
        "last_error",
        "created_at",
        "runs_link",
    ]
    readonly_fields = ["has_credentials_display", *health_fields]
    fieldsets = [
        (None, {"fields": ["provider", "name", "kind", "base_url", "interval_seconds", "enabled"]}),
        (_("Credentials"), {"fields": ["has_credentials_display", "api_key", "remove_credentials"]}),
        (_("Health"), {"fields": health_fields}),
    ]
    actions = ["sync_now"]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.has_credentials:
            return self.fieldsets
        # Nothing stored to remove (the form has no such field then).
        credentials = (_("Credentials"), {"fields": ["has_credentials_display", "api_key"]})
        return [self.fieldsets[0], credentials, self.fieldsets[2]]

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
        url = reverse("admin:sync_syncrun_changelist") + f"?connection__id__exact={connection.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Sync runs"))

    @admin.action(description=_("Sync now"), permissions=["change"])
    def sync_now(self, request, queryset):
        count = 0
        for connection in queryset.select_related("provider"):
            try:
                queued = services.connection_sync_request(connection=connection)
            except ValidationError as error:
                self.message_user(request, f"{connection}: {' '.join(error.messages)}", messages.WARNING)
                continue
            if not queued:
                self.message_user(request, _("The task queue is unavailable: nothing was queued."), messages.ERROR)
                return
            count += 1
            self.log_change(request, connection, gettext("Sync queued."))
        self.message_user(request, ngettext("%d sync queued.", "%d syncs queued.", count) % count)


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
                "Saving creates an alias from this name to the model (only for the providers listed when the "
                "name stands for several models); their connections then sync at once and the held offers are listed."
            )
        }

    def clean_gpu_model(self):
        gpu_model = self.cleaned_data["gpu_model"]
        if gpu_model is None:
            raise ValidationError(_("Choose the GPU model this name stands for."))
        clash = GpuAlias.objects.filter(normalized=self.instance.normalized, provider=None)
        clash = clash.select_related("gpu_model").first()
        if clash and clash.gpu_model_id != gpu_model.pk:
            raise ValidationError(
                _("“%(name)s” already maps to %(gpu)s (as the alias “%(alias)s”): change that alias instead."),
                params={"name": self.instance.raw_name, "gpu": clash.gpu_model, "alias": clash.name},
            )
        return gpu_model


def _facts_text(facts: dict) -> str:
    parts = []
    if facts.get("memory_gb"):
        parts.append(_("%(n)s GB per GPU") % {"n": facts["memory_gb"]})
    if facts.get("form_factor"):
        parts.append(_("form factor %(form)s") % {"form": facts["form_factor"]})
    if facts.get("memory_type"):
        parts.append(facts["memory_type"])
    if facts.get("nvlink_gpus"):
        parts.append(_("NVLink across %(n)s GPUs") % {"n": facts["nvlink_gpus"]})
    parts += facts.get("conflicts", [])
    return ", ".join(str(part) for part in parts)


class MapToGpuModelForm(forms.Form):
    gpu_model = forms.ModelChoiceField(GpuModel.objects.all(), label=_("GPU model"))


@admin.register(GpuNameReview)
class GpuNameReviewAdmin(admin.ModelAdmin):
    """Map each unknown name to a GPU model (one by one on the change form, or several at once
    with the "Map to GPU model" action); the held offers appear on the next sync."""

    form = GpuNameReviewForm
    list_display = [
        "raw_name",
        "status",
        "facts_display",
        "provider_names",
        "offers_held",
        "first_seen_at",
        "last_seen_at",
        "is_resolved",
        "gpu_model",
    ]
    list_filter = [ResolvedFilter, "status"]
    search_fields = ["raw_name", "normalized", "providers__name"]
    list_select_related = ["gpu_model"]
    readonly_fields = [
        "raw_name",
        "normalized",
        "status",
        "facts_display",
        "candidate_names",
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
        return super().get_queryset(request).prefetch_related("providers", "candidates")

    @admin.display(description=_("facts stated"))
    def facts_display(self, obj: GpuNameReview) -> str:
        """What the offers said of their GPUs: "80 GB, sxm, NVLink across 8 GPUs"; one line per combination."""
        lines = [_facts_text(facts) for facts in obj.facts or []]
        return "; ".join(line for line in lines if line) or _("no memory, form factor or interconnect stated")

    @admin.display(description=_("models that fit"))
    def candidate_names(self, obj: GpuNameReview) -> str:
        return ", ".join(gpu.name for gpu in obj.candidates.all()) or "-"

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
        due = services.gpu_name_review_map(review=obj, gpu_model=obj.gpu_model, now=timezone.now())
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
                    due = services.gpu_name_review_map(review=review, gpu_model=gpu_model, now=now)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    self.message_user(request, self._resolved_message(review, gpu_model, due), messages.SUCCESS)
                    self.log_change(request, review, gettext("Mapped to %(gpu)s.") % {"gpu": gpu_model})
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
        return TemplateResponse(request, "admin/sync/map_to_gpu_model.html", context)

    @staticmethod
    def _resolved_message(review: GpuNameReview, gpu_model: GpuModel, due: int) -> str:
        return ngettext(
            "“%(name)s” now maps to %(gpu)s; %(count)d connection syncs now to list the held offers.",
            "“%(name)s” now maps to %(gpu)s; %(count)d connections sync now to list the held offers.",
            due,
        ) % {"name": review.raw_name, "gpu": gpu_model, "count": due}


# --- Regions: where each API's region codes are (data), and the codes nothing places yet -----------


@admin.register(RegionMapping)
class RegionMappingAdmin(admin.ModelAdmin):
    """Where a provider API's region codes are, when its answers do not say. Editing one takes
    effect at the next sync of every connection of that kind, without a deploy."""

    list_display = ["kind", "code", "country", "other_countries", "city", "name", "source"]
    list_filter = ["kind", ("country", CountryFilter)]
    search_fields = ["code", "name", "city", "source"]


class RegionReviewForm(forms.ModelForm):
    """The change form places the region: its country (and city), and the other countries it
    spans only when the provider's own description says so."""

    country = CountryField().formfield(label=_("Country"), required=True)
    city = forms.CharField(label=_("City"), required=False, max_length=120)
    other_countries = CountryField(multiple=True).formfield(
        label=_("Other countries"),
        required=False,
        help_text=_("Only when the provider's description says the region spans several countries."),
    )

    class Meta:
        model = RegionReview
        fields: list[str] = []


@admin.register(RegionReview)
class RegionReviewAdmin(admin.ModelAdmin):
    """Map each region code nothing places to where its provider says it is; the held offers appear
    at the connections' next sync."""

    form = RegionReviewForm
    list_display = ["code", "kind", "description", "provider_names", "offers_held", "last_seen_at", "is_resolved"]
    list_filter = [ResolvedFilter, "kind"]
    search_fields = ["code", "description", "providers__name"]
    readonly_fields = ["kind", "code", "description", "provider_names", "offers_held", "first_seen_at", "last_seen_at"]
    fields = [*readonly_fields, "country", "city", "other_countries"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("providers")

    def has_add_permission(self, request):
        return False  # codes come from syncs

    @admin.display(description=_("providers"))
    def provider_names(self, obj: RegionReview) -> str:
        return ", ".join(provider.name for provider in obj.providers.all())

    @admin.display(description=_("resolved"), boolean=True, ordering="resolved_at")
    def is_resolved(self, obj: RegionReview) -> bool:
        return obj.resolved_at is not None

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        due = services.region_review_map(
            review=obj,
            country=data["country"],
            city=data["city"],
            other_countries=tuple(data["other_countries"] or ()),
            source=_("Mapped in the admin from the provider's description: %(description)s")
            % {"description": obj.description or obj.code},
            now=timezone.now(),
        )
        message = ngettext(
            "“%(code)s” is in %(country)s now; %(count)d connection syncs now to list the held offers.",
            "“%(code)s” is in %(country)s now; %(count)d connections sync now to list the held offers.",
            due,
        ) % {"code": obj.code, "country": data["country"], "count": due}
        self.message_user(request, message, messages.SUCCESS)

    def save_related(self, request, form, formsets, change):
        pass
