from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.models import CapacityWindow, ExchangeRate, GpuModel, Offer
from providers.models import Membership, Provider, ProviderCertification, Region
from providers.services import FACT_FIELDS, PROFILE_FIELDS
from sync.adapters.registry import ADAPTERS
from sync.forms import ConnectionSettingsForm
from sync.models import SyncConnection


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


class ProviderFactsForm(forms.ModelForm):
    """Who operates the provider: the facts the catalog's jurisdiction filters and badges use."""

    class Meta:
        model = Provider
        fields = list(FACT_FIELDS)
        help_texts = {
            "legal_entity": _("The company that contracts with customers, e.g. Nebius B.V."),
            "incorporation_country": _("Where that company is incorporated."),
            "parent_name": _("The company that ultimately controls it; leave blank if it has none."),
            "dpa_url": _("A link to the agreement you offer customers under the GDPR, if it is public."),
        }


class ProfileForm(forms.ModelForm):
    """The provider's public profile and legal identifiers: its owners edit them."""

    class Meta:
        model = Provider
        fields = list(PROFILE_FIELDS)
        labels = {
            "hq_country": _("Headquarters country"),
            "website": _("Website"),
            "contact_email": _("Contact e-mail"),
            "description": _("Description"),
            "registration_number": _("Company registration number"),
            "vat_number": _("VAT number"),
        }
        help_texts = {
            "website": _("Shown on your public profile, e.g. https://example.com."),
            "contact_email": _("Where capacity requests and notices about your syncs are sent."),
            "description": _("A few lines on your public profile: what you offer, where."),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_(
            "We e-mail them a link valid for 7 days. They accept it signed in with this address, "
            "or after creating an account with it."
        ),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.STAFF)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class CertificationRecordForm(forms.ModelForm):
    """A certification the provider holds; saving it makes it wait for an admin's verification."""

    class Meta:
        model = ProviderCertification
        fields = ["certification", "scope", "regions", "issuer", "certificate_id", "valid_until", "evidence_url"]
        labels = {
            "certification": _("Certification"),
            "scope": _("Covers"),
            "regions": _("Regions covered"),
            "issuer": _("Issued by"),
            "valid_until": _("Valid until"),
        }
        help_texts = {
            "regions": _("Only when it covers named regions."),
            "evidence_url": _("Where an administrator can check it: the certificate, or your trust page."),
        }
        widgets = {
            "regions": forms.CheckboxSelectMultiple,
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.provider = provider
        self.fields["regions"].queryset = provider.regions.order_by("code")
        self.fields["valid_until"].required = True

    def clean(self):
        cleaned = super().clean()
        scope, regions = cleaned.get("scope"), cleaned.get("regions")
        if scope == ProviderCertification.Scope.PROVIDER and regions:
            self.add_error("regions", _("A certification of the whole provider names no regions."))
        elif scope == ProviderCertification.Scope.REGIONS and regions is not None and not regions:
            self.add_error("regions", _("Name the regions the certification covers."))
        return cleaned


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
        self.fields["region"].required = True  # only a sync may list an offer with no location
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

    def clean_currency(self) -> str:
        # ISO 4217 and with an exchange rate: the model's check, with the rates at hand.
        currency = super().clean_currency()
        self.instance.currency, self.instance.price_per_gpu_hour = currency, self.cleaned_data.get("price_per_gpu_hour")
        try:
            self.instance.normalize_price(ExchangeRate.objects.units_per_eur())
        except ValidationError as error:
            raise ValidationError(error.message_dict["currency"]) from None
        return currency


def _non_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("A price cannot be negative."))


class ConnectionForm(ConnectionSettingsForm):
    """A provider's connection, on its dashboard. Left blank, its name is its kind's
    ("Lambda Cloud API"; "Inventory feed" for a feed, whose kind's label is a description)."""

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.provider = provider
        self.fields["name"].required = False
        self.fields["name"].help_text = _("Leave blank to name it after its API kind.")
        if self.instance._state.adding:
            self.initial["name"] = ""  # not the model's default: blank takes the kind's name

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("name") and cleaned.get("kind"):
            cleaned["name"] = connection_default_name(cleaned["kind"])
        return cleaned


def connection_default_name(kind: str) -> str:
    if kind == SyncConnection.FEED:
        return str(_("Inventory feed"))
    return str(ADAPTERS[kind].label)


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
