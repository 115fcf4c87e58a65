"""The settings of a sync connection as people edit them, on the dashboard and in the admin."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.lib.http import UnsafeURLError, check_url
from sync.adapters.registry import ADAPTERS
from sync.models import SyncConnection


class ConnectionSettingsForm(forms.ModelForm):
    """Kind, name, base URL, interval and credentials, validated the same wherever they are edited.

    Credentials can be replaced or removed, never read back: the stored token is not a field.
    """

    api_key = forms.CharField(
        label=_("API key or credentials"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again. What to enter depends on the kind: see the help."),
    )
    remove_credentials = forms.BooleanField(label=_("Remove the stored credentials"), required=False)

    class Meta:
        model = SyncConnection
        # An explicit list, so that credentials_encrypted can never become a form field.
        fields = ["kind", "name", "base_url", "interval_seconds"]
        labels = {
            "kind": _("API kind"),
            "name": _("Name"),
            "base_url": _("Base URL"),
            "interval_seconds": _("Sync every (seconds)"),
        }
        help_texts = {"base_url": _("The API's base URL, or your feed's URL. https:// only.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interval_seconds"].widget.attrs["min"] = "30"
        adapter = ADAPTERS.get(self["kind"].value() or "")
        self.fields["base_url"].widget.attrs["placeholder"] = adapter.base_url_example if adapter else ""
        if self.instance._state.adding or not self.instance.has_credentials:
            del self.fields["remove_credentials"]
        else:
            self.fields["api_key"].help_text = _("Leave blank to keep the stored credentials.")

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"]
        if not url.lower().startswith(("https://", "http://")):
            raise ValidationError(_("Use an https:// URL."))
        allow_private = settings.SYNC_ALLOW_PRIVATE_ADDRESSES
        if not allow_private and not url.lower().startswith("https://"):
            raise ValidationError(_("Use an https:// URL: the portal only fetches over HTTPS."))
        try:
            check_url(url, allow_private=allow_private)
        except UnsafeURLError as error:
            # Its message names the address and why it is refused (loopback, private network...).
            raise ValidationError(str(error)) from None
        return url

    def clean(self):
        cleaned = super().clean()
        kind, secret = cleaned.get("kind"), cleaned.get("api_key")
        if kind == "verda" and secret and ":" not in secret:
            self.add_error("api_key", _("Verda needs “client_id:client_secret”: the two joined by a colon."))
        return cleaned

    @property
    def settings_data(self) -> dict:
        """The cleaned settings, as the connection services take them."""
        names = ["kind", "name", "base_url", "interval_seconds", "api_key", "remove_credentials"]
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
