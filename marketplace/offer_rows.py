"""The rows of the offer tables (catalog, provider and GPU pages), rendered in Python.

Templates are the default in this codebase; these rows are the exception because they are the
hot path: a catalog page shows up to 200 of them. As a template (with its country, capacity
and freshness includes) a row cost 0.6 to 1 ms, spread over the template machinery itself:
some 40 variable lookups, 15 tags, four reverse(), a dozen translations looked up again for
every row. Here whatever does not change from row to row (translations, URL prefixes, flags,
labels, links to the same GPUs, providers and countries) is built once per page, and a row
is one str.format() of values escaped where they are read: a seventh of the time
(``python -m bench.rows``).

The markup is the row template's, byte for byte, plus each cell's column heading in data-label
(the cards of a narrow screen); marketplace/tests/test_offer_rows.py pins it,
and checks that the country link and the freshness note still match components/country.html
and components/freshness.html, which other pages use.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from html import escape  # what django.utils.html.escape calls, without its lazy-string check

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format, number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django_countries.fields import Country

from marketplace.formats import count_text, price_l10n, size_parts
from marketplace.fx import PriceDisplay
from marketplace.models import GpuModel, Offer
from providers.models import Provider

# Every value put into these is HTML already: escaped, or a translation (as in templates,
# translations are ours and not escaped), or a number.
ROW = (
    '<tr class="offer-row{classes}" data-offer="{pk}">\n'
    '  <td data-label="{label_gpu}">{gpu}</td>\n'
    '  <td data-label="{label_provider}">{provider}</td>\n'
    '  <td class="location" data-label="{label_location}"><span class="place">{country}{city}</span>{spans}<br>'
    '<small class="muted">{region}</small></td>\n'
    '  <td class="num" data-label="{label_gpus_per_node}">{gpus_per_node}</td>\n'
    '  <td data-label="{label_node}"><small>{node}<br><span class="muted">{storage}{links}</span></small></td>\n'
    '  <td class="num price" data-label="{label_price}"><strong>{price}</strong>&nbsp;<small>{currency}</small><br>'
    '{listed}<small class="muted">{pricing}{term}</small>{total}</td>\n'
    # The newline before </td> is the one components/capacity.html ended with: the same bytes.
    '  <td class="num capacity" data-label="{label_capacity}">{capacity}\n</td>\n'
    '  <td data-label="{label_verified}"><small>{freshness}</small></td>\n'
    '  <td class="details"><a href="{url}" aria-label="{details_label}">{details}</a></td>\n'
    "</tr>\n"
)
# Each cell's data-label is its column's heading (components/offer_table_head.html): a narrow
# screen shows the rows as cards, each value under its heading (static/css/portal.css).
LINK = '<a href="{url}">{text}</a>'
# The provider's own price and currency, beside a converted price.
LISTED = '<small class="listed" title="{title}">{price}&nbsp;{currency}</small><br>'
# What N GPUs would cost over the chosen term, under the price.
TOTAL = '<br><small class="total" title="{title}">{text}</small>'
# The other countries a region spans, as its provider says.
SPANS = ' <small class="spans" title="{title}">+&nbsp;{codes}</small>'
# A header row before each pricing type (and term) of a grouped table.
GROUP = '<tr class="pricing-group"><th colspan="9" scope="rowgroup">{label}</th></tr>\n'
# components/country.html with link=True short=True.
COUNTRY_LINK = (
    '<a href="{url}" class="country" title="{name}">'
    '<img class="flag" src="{flag}" alt="" width="16" height="11" loading="lazy">{code}</a>'
)
# What components/capacity.html was: a count of GPUs, "Available" (count not published) or "Sold out".
GPUS = '<strong>{gpus}</strong> <small>{label}</small><br><small class="muted">{nodes}</small>'
UNKNOWN_COUNT = (
    '<strong class="availability unknown-count" title="{title}">{label}</strong>'
    '<br><small class="muted">{nodes}</small>'
)
SOLD_OUT = '<strong class="availability sold-out">{label}</strong>'
SOLD_OUT_OF = '{sold_out}<br><small class="muted">{nodes}</small>'
# components/freshness.html.
FRESHNESS = '<time datetime="{iso}" title="{title}" class="verified">{verified}</time>{stale}'
STALE_MARKER = ' <span class="badge bad stale-marker" title="{title}">{label}</span>'


HOURS_PER_MONTH = Decimal(730)  # 365 x 24 / 12


@dataclass(frozen=True)
class TotalSpec:
    """Show, in each row, what ``gpus`` GPUs (in whole nodes) would cost over ``months``."""

    gpus: int
    months: int


def url_maker(name: str) -> Callable[[object], str]:
    """reverse() for one URL name, done once: the argument of each row then goes in its place.

    reverse() costs as much as the rest of a row; the arguments here (ids, slugs, country
    codes) are never quoted by it, so the URL is the same.
    """
    marker = "1234567890"  # matches any converter: int, slug, str
    head, tail = escape(reverse(name, args=[marker])).split(marker)
    return lambda value: f"{head}{escape(str(value))}{tail}"


class OfferRows:
    """Renders offer rows in the active language and time zone. Make one per page.

    With a ``display``, prices are shown in its currency, each beside the provider's own price
    when that is in another currency; without one, as listed.
    """

    def __init__(self, display: PriceDisplay | None = None, total: TotalSpec | None = None):
        self.display, self.total_spec = display, total
        self.offer_url = url_maker("marketplace:offer_detail")
        self.gpu_url = url_maker("marketplace:gpu_detail")
        self.provider_url = url_maker("marketplace:provider_detail")
        self.country_url = url_maker("marketplace:country_detail")
        self.time_zone = timezone.get_current_timezone()
        self.datetime_format = get_format("DATETIME_FORMAT")
        self.pricing_labels = {value: escape(str(label)) for value, label in Offer.PricingType.choices}
        self.interconnect_labels = {value: escape(label) for value, label in Offer.GpuInterconnect.choices}
        self.network_labels = {value: escape(label) for value, label in Offer.Network.choices}
        # Translations, looked up once: a row only puts its numbers in.
        self.details_label = gettext("Offer details")
        self.details = gettext("Details")
        self.column_labels = {
            f"label_{name}": escape(heading)
            for name, heading in [
                ("gpu", gettext("GPU")),
                ("provider", gettext("Provider")),
                ("location", gettext("Location")),
                ("gpus_per_node", gettext("GPUs / node")),
                ("node", gettext("Node")),
                ("price", gettext("Price / GPU-h")),
                ("capacity", gettext("Available")),
                ("verified", gettext("Verified")),
            ]
        }
        self.vcpus = gettext("%(n)s vCPU")
        # Sizes read "2048 GB" as "2 TB" (marketplace.formats.size_parts): one text per unit.
        self.ram = {"GB": gettext("%(n)s GB RAM"), "TB": gettext("%(n)s TB RAM")}
        self.disk = {"GB": gettext("%(n)s GB disk"), "TB": gettext("%(n)s TB disk")}
        self.gpus = gettext("GPUs")
        self.nodes_of = gettext("%(a)s / %(t)s nodes")
        self.available = gettext("Available")
        self.available_title = gettext("Available now; the provider does not publish how many.")
        self.count_not_published = gettext("count not published")
        self.count_not_published_of = gettext("count not published, %(t)s nodes in total")
        self.sold_out = SOLD_OUT.format(label=gettext("Sold out"))
        self.sold_out_of = gettext("0 / %(t)s nodes")
        self.verified = gettext("verified %(ago)s")
        self.listed_title = escape(gettext("The provider's own price, in its own currency"))
        self.not_stated = escape(gettext("Location not stated"))
        self.not_stated_title = escape(
            gettext("The provider's API lists it in no location: it is in no country search.")
        )
        self.spans_title = escape(gettext("The provider says this region spans several countries: %(countries)s"))
        self.total_title = escape(
            gettext(
                "Price per GPU-hour × GPUs in whole nodes × 730 hours a month, over a reserved offer's term at least"
            )
        )
        self.stale_marker = STALE_MARKER.format(
            title=gettext("Not verified recently: the provider has not confirmed this offer."), label=gettext("stale")
        )
        # Per page, what recurs from row to row.
        self.gpu = cache(self._gpu)
        self.provider = cache(self._provider)
        self.country_link = cache(self._country_link)
        self.nodes = cache(self._nodes)
        self.term = cache(self._term)
        self.freshness = cache(self._freshness)
        self.total_text = cache(self._total_text)
        self.size = cache(size_parts)
        self.price_text = cache(price_l10n)  # in the active language: "2,50" in French

    def render(self, offers: Iterable[Offer], *, grouped: bool = False) -> SafeString:
        """The rows; ``grouped`` puts a header row before each pricing type (and reserved term)."""
        if not grouped:
            return mark_safe("".join(self.row(offer) for offer in offers))  # noqa: S308 (see ROW)
        parts, group = [], None
        for offer in offers:
            if (offer.pricing_type, offer.min_term_months) != group:
                group = (offer.pricing_type, offer.min_term_months)
                parts.append(GROUP.format(label=self.group_label(*group)))
            parts.append(self.row(offer))
        return mark_safe("".join(parts))  # noqa: S308 (see ROW)

    def group_label(self, pricing_type: str, months: int | None) -> str:
        label = self.pricing_labels.get(pricing_type) or escape(pricing_type)
        if pricing_type == Offer.PricingType.RESERVED and months:
            label = ngettext("Reserved, %(months)s month term", "Reserved, %(months)s month term", months) % {
                "months": months
            }
        return label

    def row(self, offer: Offer) -> str:
        stale = offer.is_stale
        region = offer.region
        if region is None:
            return self._row(offer, stale, country=f'<span title="{self.not_stated_title}">{self.not_stated}</span>')
        return self._row(offer, stale, region=region)

    def _row(self, offer: Offer, stale: bool, *, region=None, country: str = "") -> str:
        spans = ""
        if region is not None and region.other_countries:
            codes = [country.code for country in region.other_countries]
            spans = SPANS.format(
                title=self.spans_title % {"countries": escape(", ".join(region.countries))}, codes=", ".join(codes)
            )
        return ROW.format(
            classes=(" stale" if stale else "") + (" sold-out" if offer.nodes_available == 0 else ""),
            pk=offer.pk,
            gpu=self.gpu(offer.gpu_model),
            provider=self.provider(offer.provider),
            country=country or self.country_link(offer.country),
            city=f" {escape(region.city)}" if region is not None and region.city else "",
            spans=spans,
            region=escape(region.code) if region is not None else "",
            gpus_per_node=offer.gpus_per_node,
            node=self.node(offer),
            storage=self.storage(offer),
            links=self.links(offer),
            **self.price(offer),
            total=self.total(offer),
            pricing=self.pricing_labels.get(offer.pricing_type) or escape(offer.pricing_type),
            term=self.term(offer.min_term_months),
            capacity=self.capacity(offer),
            freshness=self.freshness(offer.verified_at, stale),
            url=self.offer_url(offer.pk),
            details_label=self.details_label,
            details=self.details,
            **self.column_labels,
        )

    def shown_price(self, offer: Offer) -> tuple[Decimal, str]:
        """The price shown and its currency: in the display's currency when it can be converted."""
        display = self.display
        if display is None or offer.currency == display.currency or offer.price_normalized is None:
            return offer.price_per_gpu_hour, offer.currency
        return display.shown(offer.price_per_gpu_hour, offer.currency, offer.price_normalized), display.currency

    def price(self, offer: Offer) -> dict[str, str]:
        """The price cell's parts: the price shown, its currency, and the listed price beside it."""
        shown, currency = self.shown_price(offer)
        listed = ""
        if currency != offer.currency:
            listed = LISTED.format(
                title=self.listed_title,
                price=self.price_text(offer.price_per_gpu_hour),
                currency=escape(offer.currency),
            )
        return {"price": self.price_text(shown), "currency": escape(currency), "listed": listed}

    def _total_text(self, months: int) -> str:
        return ngettext(
            "%(total)s %(currency)s for %(gpus)s GPU over %(months)s month",
            "%(total)s %(currency)s for %(gpus)s GPU over %(months)s months",
            months,
        )

    def total(self, offer: Offer) -> str:
        """What the chosen number of GPUs would cost over the chosen term, in the shown currency."""
        spec = self.total_spec
        if spec is None:
            return ""
        price, currency = self.shown_price(offer)
        # The total of the price as shown (rounded as price_text rounds it), so the two agree.
        price = price.quantize(Decimal("0.0001"))
        gpus = math.ceil(spec.gpus / offer.gpus_per_node) * offer.gpus_per_node
        months = max(spec.months, offer.min_term_months or 0)
        total = (price * gpus * HOURS_PER_MONTH * months).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        text = self.total_text(months) % {
            "total": number_format(total, decimal_pos=0, use_l10n=True, force_grouping=True),
            "currency": currency,
            "gpus": gpus,
            "months": months,
        }
        return TOTAL.format(title=self.total_title, text=escape(text))

    def _gpu(self, gpu: GpuModel) -> str:
        return LINK.format(url=self.gpu_url(gpu.slug), text=f"<strong>{escape(gpu.name)}</strong>")

    def _provider(self, provider: Provider) -> str:
        return LINK.format(url=self.provider_url(provider.slug), text=escape(provider.name))

    def _country_link(self, country: Country) -> str:
        return COUNTRY_LINK.format(
            url=self.country_url(country.code.lower()),
            name=escape(str(country.name)),
            flag=escape(country.flag),
            code=escape(country.code),
        )

    def node(self, offer: Offer) -> str:
        """The node's CPUs and memory: "128 vCPU · 2 TB RAM"."""
        vcpus = self.vcpus % {"n": offer.vcpus} if offer.vcpus else ""
        ram = self.sized(self.ram, offer.ram_gb) if offer.ram_gb else ""
        return f"{vcpus} · {ram}" if vcpus and ram else vcpus or ram

    def storage(self, offer: Offer) -> str:
        if not offer.storage_gb:
            return ""
        disk = self.sized(self.disk, offer.storage_gb)
        return f"{disk} · " if offer.gpu_interconnect or offer.network else disk

    def sized(self, texts: dict[str, str], gb: int) -> str:
        number, unit = self.size(gb)
        return texts[unit] % {"n": number}

    def links(self, offer: Offer) -> str:
        """The GPU interconnect and the network: "NVLink / InfiniBand"."""
        interconnect = self.interconnect_labels.get(offer.gpu_interconnect) or escape(offer.gpu_interconnect)
        network = self.network_labels.get(offer.network) or escape(offer.network)
        return f"{interconnect} / {network}" if interconnect and network else interconnect or network

    def _term(self, months: int | None) -> str:
        if not months:
            return ""
        return ", " + ngettext("min %(months)s month", "min %(months)s months", months) % {"months": months}

    def _nodes(self, available: int) -> str:
        return ngettext("%(a)s node", "%(a)s nodes", available) % {"a": available}

    def capacity(self, offer: Offer) -> str:
        available, total = offer.nodes_available, offer.nodes_total
        if available is None:
            if total is None:
                nodes = self.count_not_published
            else:
                nodes = self.count_not_published_of % {"t": total}
            return UNKNOWN_COUNT.format(title=self.available_title, label=self.available, nodes=nodes)
        if available == 0:
            if total is None:
                return self.sold_out
            return SOLD_OUT_OF.format(sold_out=self.sold_out, nodes=self.sold_out_of % {"t": total})
        nodes = self.nodes(available) if total is None else self.nodes_of % {"a": available, "t": total}
        return GPUS.format(gpus=count_text(offer.gpus_available), label=self.gpus, nodes=nodes)

    def _freshness(self, verified_at: datetime, stale: bool) -> str:
        """When the offer was last verified ("verified 3 minutes ago", as of now), and if stale.

        Per page and timestamp: the offers of one sync share theirs."""
        verified = verified_at.astimezone(self.time_zone)
        return FRESHNESS.format(
            iso=verified.isoformat(),
            title=escape(dateformat.format(verified, self.datetime_format)),
            verified=self.verified % {"ago": escape(naturaltime(verified_at))},
            stale=self.stale_marker if stale else "",
        )
