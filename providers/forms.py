from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.models import GpuModel, Offer
from providers.models import Provider, Region, SyncConnection


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field when the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "country", "city"]
        help_texts = {"code": _("Your own code for this location, e.g. eu-fra-1. Used in CSV imports and feeds.")}

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        taken = self.provider.regions.filter(code=code).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("You already have a region with this code."))
        return code


class OfferForm(forms.ModelForm):
    external_id = forms.CharField(
        label=_("Your id for this offer"),
        max_length=200,
        required=False,
        help_text=_("Optional. Keys CSV imports; generated when left blank."),
    )

    class Meta:
        model = Offer
        fields = [
            "region",
            "gpu_model",
            "gpus_per_node",
            "vcpus",
            "ram_gb",
            "storage_gb",
            "gpu_interconnect",
            "network",
            "pricing_type",
            "min_term_months",
            "price_per_gpu_hour",
            "currency",
            "nodes_available",
            "nodes_total",
            "external_id",
        ]
        labels = {
            "gpu_model": _("GPU model"),
            "gpus_per_node": _("GPUs per node"),
            "vcpus": _("vCPUs"),
            "gpu_interconnect": _("GPU interconnect (in a node)"),
            "network": _("Network (between nodes)"),
            "min_term_months": _("Minimum term (months)"),
            "price_per_gpu_hour": _("Price per GPU-hour"),
            "nodes_available": _("Nodes available now"),
            "nodes_total": _("Nodes in total"),
        }
        help_texts = {"min_term_months": _("Required for reserved pricing.")}

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        # Model.clean() compares the region's provider with the offer's: set it before validation.
        self.instance.provider = provider
        self.fields["region"].queryset = provider.regions.all()
        self.fields["gpu_model"].queryset = GpuModel.objects.all()
        self.fields["price_per_gpu_hour"].validators.append(_non_negative)
        self.fields["price_per_gpu_hour"].widget.attrs.update(min="0", step="0.0001")

    def clean_external_id(self) -> str:
        external_id = self.cleaned_data["external_id"].strip()
        if external_id and self.provider.offers.filter(external_id=external_id).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("Another of your offers already has this id."))
        return external_id

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise ValidationError(_("Use a three-letter ISO 4217 code, e.g. USD or EUR."))
        return currency

    def validate_constraints(self):
        # Model.clean() already reports the check constraints' rules next to their fields: run the
        # database constraints only when nothing else is wrong, so one mistake shows one message.
        if not self._errors:
            super().validate_constraints()


def _non_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("A price cannot be negative."))


class ConnectionForm(forms.ModelForm):
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Sent as a bearer token. Stored encrypted and never shown again."),
    )
    remove_credentials = forms.BooleanField(label=_("Remove the stored API key"), required=False)

    class Meta:
        model = SyncConnection
        fields = ["kind", "name", "base_url", "interval_seconds"]
        labels = {"base_url": _("Feed URL"), "interval_seconds": _("Sync every (seconds)")}

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.provider = provider
        self.fields["interval_seconds"].widget.attrs["min"] = "30"
        self.fields["base_url"].widget.attrs["placeholder"] = "https://inventory.example.com/gpu-feed.json"
        if self.instance._state.adding or not self.instance.has_credentials:
            del self.fields["remove_credentials"]
        else:
            self.fields["api_key"].help_text = _("Leave blank to keep the stored key.")

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"]
        if not url.lower().startswith(("https://", "http://")):
            raise ValidationError(_("Use an http:// or https:// URL."))
        return url


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma-separated, with a header row."))
