from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.models import CapacityWindow, GpuModel, Offer
from providers.models import Provider, Region
from sync.forms import ConnectionSettingsForm


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "country", "city"]
        labels = {"code": _("Code"), "name": _("Name"), "country": _("Country"), "city": _("City")}
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


class ListingForm(forms.ModelForm):
    """What an offer's and a capacity window's forms share: the provider's own regions, every GPU
    model, an optional id of the provider's (unique among its ``listings``)."""

    listings: str  # the provider's related manager of the model: "offers", "capacity_windows"
    id_taken: str  # the message when another of them has the id
    external_id = forms.CharField(
        label=_("Your id"),
        max_length=200,
        required=False,
        help_text=_("Optional. Keys CSV imports; generated when left blank."),
    )

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        # Model.clean() compares the region's provider with the listing's: set it before validation.
        self.instance.provider = provider
        self.fields["region"].queryset = provider.regions.all()
        self.fields["gpu_model"].queryset = GpuModel.objects.all()

    def clean_external_id(self) -> str:
        external_id = self.cleaned_data["external_id"].strip()
        taken = getattr(self.provider, self.listings).filter(external_id=external_id).exclude(pk=self.instance.pk)
        if external_id and taken.exists():
            raise ValidationError(self.id_taken)
        return external_id

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise ValidationError(_("Use a three-letter ISO 4217 code, e.g. USD or EUR."))
        return currency

    def validate_constraints(self):
        # Model.clean() already reports the check constraints' rules next to their fields: run the
        # database constraints only when nothing else is wrong, so one mistake shows one message.
        if not self._errors:
            super().validate_constraints()


class OfferForm(ListingForm):
    listings = "offers"
    id_taken = _("Another of your offers already has this id.")

    class Meta:
        model = Offer
        fields = ["region", "gpu_model", *Offer.SPEC_FIELDS, "external_id"]
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
            "region": _("Region"),
            "pricing_type": _("Pricing type"),
            "currency": _("Currency"),
        }
        help_texts = {
            "min_term_months": _("Required for reserved pricing."),
            "nodes_available": _("0 means sold out. Leave blank if it is available but you do not publish a count."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price_per_gpu_hour"].validators.append(_non_negative)
        self.fields["price_per_gpu_hour"].widget.attrs.update(min="0", step="0.0001")


def _non_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("A price cannot be negative."))


class ConnectionForm(ConnectionSettingsForm):
    """A provider's connection, on its dashboard."""

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.provider = provider


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma-separated, with a header row."))


class WindowForm(ListingForm):
    listings = "capacity_windows"
    id_taken = _("Another of your windows already has this id.")

    class Meta:
        model = CapacityWindow
        fields = [
            "region",
            "gpu_model",
            "gpus",
            "starts_on",
            "ends_on",
            "price_per_gpu_hour",
            "currency",
            "external_id",
        ]
        labels = {
            "region": _("Region"),
            "gpu_model": _("GPU model"),
            "gpus": _("GPUs"),
            "starts_on": _("From"),
            "ends_on": _("Until"),
            "price_per_gpu_hour": _("Price per GPU-hour"),
            "currency": _("Currency"),
        }
        help_texts = {
            "gpus": _("How many GPUs you can provide over the whole window."),
            "price_per_gpu_hour": _("Optional: leave blank if you price on request."),
        }
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }
