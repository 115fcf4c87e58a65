"""Forms of the deals app: a capacity request, a quote, messages, saved searches."""

import calendar
from datetime import date, timedelta

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deals.models import CapacityRequest, Quote, SavedSearch
from deals.services import REQUEST_FIELDS
from marketplace.country_groups import COUNTRY_GROUPS
from marketplace.filters import country_choices
from marketplace.models import GpuModel, Offer

GPUS_PER_NODE = [("", _("Any")), ("1", "1"), ("2", "2"), ("4", "4"), ("8", "8"), ("16", "16")]
MAX_VALUES = 50  # per multi-value field: a request names a few countries or models, not hundreds
MAX_DURATION_DAYS = 5 * 366


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months, on the same day or the month's last (31 January + 1 = 28/29 February)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


class CappedMultipleChoiceField(forms.MultipleChoiceField):
    """A multiple choice whose values are deduplicated and at most MAX_VALUES."""

    def clean(self, value):
        value = list(dict.fromkeys(value or []))
        if len(value) > MAX_VALUES:
            raise forms.ValidationError(_("Choose at most %(max)d.") % {"max": MAX_VALUES})
        return super().clean(value)


class CapacityRequestForm(forms.ModelForm):
    gpu_models = forms.ModelMultipleChoiceField(
        GpuModel.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("GPU models"),
        help_text=_("Any of these. Or leave them all unticked and give a minimum GPU memory."),
    )
    countries = CappedMultipleChoiceField(
        choices=country_choices,
        required=False,
        label=_("Countries"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Where the GPUs must be. Leave empty (and no group) for anywhere."),
    )
    country_groups = CappedMultipleChoiceField(
        choices=[(group.slug, group.label) for group in COUNTRY_GROUPS.values()],
        required=False,
        label=_("Or country groups"),
        widget=forms.CheckboxSelectMultiple,
    )
    hq_countries = CappedMultipleChoiceField(
        choices=country_choices,
        required=False,
        label=_("Provider headquartered in"),
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Optional: only providers based in these countries."),
    )
    gpus_per_node = forms.TypedChoiceField(
        choices=GPUS_PER_NODE, coerce=int, empty_value=None, required=False, label=_("GPUs per node")
    )
    gpu_interconnect = forms.ChoiceField(
        choices=[("", _("Any")), *Offer.GpuInterconnect.choices], required=False, label=_("GPU interconnect")
    )
    network = forms.ChoiceField(
        choices=[("", _("Any")), *Offer.Network.choices], required=False, label=_("Network between nodes")
    )
    duration = forms.IntegerField(min_value=1, max_value=520, label=_("For"))
    duration_unit = forms.ChoiceField(
        choices=[("weeks", _("weeks")), ("months", _("months"))], initial="months", label=_("Unit")
    )

    class Meta:
        model = CapacityRequest
        # What the request_file service takes (its end date is computed from the duration).
        fields = sorted(REQUEST_FIELDS - {"end_date"})
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "pricing_type": forms.RadioSelect,
        }
        help_texts = {
            "gpu_count": _("In all, across nodes."),
            "budget_per_gpu_hour": _("Optional. Shown to providers; it does not limit who receives the request."),
            "notes": _("Anything else providers should know: workload, storage, support. No contact details here."),
        }

    def clean_budget_currency(self) -> str:
        return self.cleaned_data["budget_currency"].strip().upper()

    def clean_start_date(self) -> date:
        start = self.cleaned_data["start_date"]
        if start <= timezone.localdate():
            raise forms.ValidationError(_("The start must be after today: a request expires at its start."))
        return start

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("gpu_models") and not cleaned.get("min_gpu_memory_gb"):
            self.add_error("gpu_models", _("Choose GPU models, or a minimum GPU memory."))
        if cleaned.get("pricing_type") == CapacityRequest.PricingType.RESERVED and not cleaned.get(
            "reserved_term_months"
        ):
            self.add_error("reserved_term_months", _("A reserved price needs a term."))
        if cleaned.get("budget_per_gpu_hour") is not None and not cleaned.get("budget_currency"):
            self.add_error("budget_currency", _("Give the currency of your budget."))
        start, duration, unit = cleaned.get("start_date"), cleaned.get("duration"), cleaned.get("duration_unit")
        if start and duration and unit:
            end = add_months(start, duration) if unit == "months" else start + timedelta(weeks=duration)
            if (end - start).days > MAX_DURATION_DAYS:
                self.add_error("duration", _("At most five years."))
            self.instance.end_date = cleaned["end_date"] = end
        return cleaned

    @property
    def request_fields(self) -> dict:
        """The cleaned values as the request_file service takes them."""
        names = set(self.Meta.fields) | {"end_date"}
        return {name: value for name, value in self.cleaned_data.items() if name in names}


def request_initial_from_catalog(params: QueryDict) -> dict:
    """Pre-fill a request from the catalog's URL parameters (docs/catalog.md)."""
    initial: dict = {}
    if gpus := params.getlist("gpu")[:MAX_VALUES]:
        initial["gpu_models"] = list(GpuModel.objects.filter(slug__in=gpus))
    if countries := [code.upper() for code in params.getlist("country")[:MAX_VALUES]]:
        initial["countries"] = countries
    if groups := [slug for slug in params.getlist("region_group")[:MAX_VALUES] if slug in COUNTRY_GROUPS]:
        initial["country_groups"] = groups
    if hq := [code.upper() for code in params.getlist("hq_country")[:MAX_VALUES]]:
        initial["hq_countries"] = hq
    if (count := params.get("min_gpus", "")).isdigit():
        initial["gpu_count"] = int(count)
    per_node = params.getlist("gpus_per_node")
    if len(per_node) == 1 and per_node[0] in {value for value, _label in GPUS_PER_NODE}:
        initial["gpus_per_node"] = per_node[0]
    pricing = params.getlist("pricing")
    if len(pricing) == 1 and pricing[0] in CapacityRequest.PricingType.values:
        initial["pricing_type"] = pricing[0]
    links = params.getlist("interconnect")
    if links:
        initial["gpu_interconnect"] = next((link for link in links if link in Offer.GpuInterconnect.values), "")
        initial["network"] = next((link for link in links if link in Offer.Network.values), "")
    return initial


def request_initial_from_offer(offer: Offer) -> dict:
    """Pre-fill a request from an offer: its GPU, place, node shape, pricing and price."""
    initial = {
        "gpu_models": [offer.gpu_model],
        "countries": [offer.country.code],
        "gpus_per_node": str(offer.gpus_per_node) if offer.gpus_per_node in (1, 2, 4, 8, 16) else "",
        "gpu_count": offer.gpus_per_node,
        "gpu_interconnect": offer.gpu_interconnect,
        "network": offer.network,
        "pricing_type": offer.pricing_type,
        "reserved_term_months": offer.min_term_months,
        "budget_per_gpu_hour": offer.price_per_gpu_hour,
        "budget_currency": offer.currency,
    }
    return {name: value for name, value in initial.items() if value not in (None, "")}


class ExtendForm(forms.Form):
    start_date = forms.DateField(label=_("New start"), widget=forms.DateInput(attrs={"type": "date"}))


class QuoteForm(forms.ModelForm):
    class Meta:
        model = Quote
        fields = [
            "price_per_gpu_hour",
            "currency",
            "gpu_count",
            "start_date",
            "end_date",
            "valid_until",
            "offer",
            "terms",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
            "terms": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "terms": _("Payment, commitment, support, what is included. The contract itself is signed off-platform."),
            "offer": _("Optional: the listed offer this quote is for."),
        }

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = provider.offers.filter(status__in=Offer.LISTED).select_related(
            "gpu_model", "region"
        )
        self.fields["price_per_gpu_hour"].widget.attrs.update(min="0", step="0.0001")

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", _("The end must be after the start."))
        return cleaned

    def validate_constraints(self):
        pass  # the service checks them, with the request's state (request_file, quote_submit)

    @property
    def quote_fields(self) -> dict:
        return dict(self.cleaned_data)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you cannot serve it"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class SavedSearchForm(forms.ModelForm):
    class Meta:
        model = SavedSearch
        fields = ["name", "alert_new", "price_below", "price_currency", "alerts_enabled"]
        labels = {"alerts_enabled": _("Send alert e-mails")}

    def clean_price_currency(self) -> str:
        return (self.cleaned_data["price_currency"] or "USD").strip().upper()
