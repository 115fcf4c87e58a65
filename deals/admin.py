"""Admin for deals: read-mostly records, with moderation (hide a spam request, suspend its developer)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deals import services
from deals.models import Agreement, CapacityRequest, Message, Quote, Recipient, SavedSearch


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records made by the services: read them here, change them through the site."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecipientInline(admin.TabularInline):
    model = Recipient
    extra = 0
    fields = ["provider", "status", "priority", "routed_at", "seen_at", "declined_reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class QuoteInline(admin.TabularInline):
    model = Quote
    extra = 0
    fields = ["provider", "price_per_gpu_hour", "currency", "gpu_count", "start_date", "end_date", "status"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CapacityRequest)
class CapacityRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "developer", "organisation", "gpu_count", "start_date", "end_date", "status", "hidden_at"]
    list_filter = ["status", ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["organisation", "developer__username", "developer__email", "notes"]
    list_select_related = ["developer"]
    date_hierarchy = "created_at"
    inlines = [RecipientInline, QuoteInline]
    actions = ["hide", "suspend_developers"]

    @admin.action(description=_("Hide selected requests (spam)"), permissions=["view"])
    def hide(self, request, queryset):
        hidden = [services.request_hide(request=item) for item in queryset.filter(hidden_at__isnull=True)]
        count = len(hidden)
        self.message_user(request, ngettext("%d request hidden.", "%d requests hidden.", count) % count)

    @admin.action(description=_("Suspend the developers of selected requests"), permissions=["view"])
    def suspend_developers(self, request, queryset):
        developers = {item.developer for item in queryset.select_related("developer") if item.developer.is_active}
        hidden = sum(services.developer_suspend(user=user) for user in developers)
        self.message_user(
            request,
            _("%(users)d developers suspended, %(requests)d open requests hidden.")
            % {"users": len(developers), "requests": hidden},
        )


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ["id", "request", "provider", "price_per_gpu_hour", "currency", "gpu_count", "status", "automatic"]
    list_filter = ["status", "automatic", "currency"]
    search_fields = ["provider__name", "terms"]
    list_select_related = ["request", "provider"]


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["id", "provider", "developer_organisation", "gpu_count", "price_per_gpu_hour", "currency"]
    search_fields = ["provider__name", "developer_organisation", "developer_email"]
    list_select_related = ["provider"]
    date_hierarchy = "created_at"


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "request", "provider", "from_provider", "body"]
    search_fields = ["body"]
    list_select_related = ["request", "provider"]


@admin.register(SavedSearch)
class SavedSearchAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "alerts_enabled", "alert_new", "price_below", "last_sent_at"]
    list_filter = ["alerts_enabled"]
    search_fields = ["name", "user__username", "query"]
    list_select_related = ["user"]
