"""What the apps' admins share."""

from simple_history.admin import SimpleHistoryAdmin


class ServiceFormAdmin(SimpleHistoryAdmin):
    """An admin whose form saves through the app's services (in its form's ``save()``), so that
    an admin's edit follows the same rules as the dashboard's; the admin itself writes nothing.

    The object's ``owner_field`` (its provider) is read-only once the object exists. Its
    "History" page lists every change with who made it (django-simple-history).
    """

    owner_field = "provider"

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, self.owner_field] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        pass  # the form's save() saved it through the services

    def save_related(self, request, form, formsets, change):
        pass  # nothing else to save: no many-to-many fields, no inlines
