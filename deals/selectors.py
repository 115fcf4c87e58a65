"""Reads of the deals app for the developer's pages and the provider dashboard.

Visibility is decided here, once: a developer reads only their own requests; a provider reads
only the requests routed to it, its own quotes and its own threads, and a developer's contact
only through an agreement.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from deals.models import Agreement, CapacityRequest, Message, Quote, Recipient, SavedSearch
from marketplace.models import ExchangeRate, Offer, SearchDemand
from marketplace.selectors import price_display
from providers.models import Provider


def requests_of_developer(*, user: User) -> QuerySet[CapacityRequest]:
    return (
        CapacityRequest.objects.for_developer(user)
        .visible()
        .prefetch_related("gpu_models")
        .annotate(
            recipient_count=Count("recipients", distinct=True),
            offered_count=Count("quotes", filter=Q(quotes__status=Quote.Status.OFFERED), distinct=True),
        )
    )


def request_of_developer(*, user: User, pk: int) -> CapacityRequest | None:
    return CapacityRequest.objects.for_developer(user).visible().filter(pk=pk).first()


@dataclass
class Thread:
    """A request's exchange with one provider, as the developer sees it."""

    recipient: Recipient
    quotes: list[Quote] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def live_quote(self) -> Quote | None:
        return next((quote for quote in self.quotes if quote.status == Quote.Status.OFFERED), None)


def request_threads(*, request: CapacityRequest) -> list[Thread]:
    """One thread per provider the request reached, in the order they were asked, in three queries."""
    threads = {
        recipient.provider_id: Thread(recipient)
        for recipient in request.recipients.select_related("provider").order_by("priority", "routed_at", "id")
    }
    for quote in request.quotes.select_related("offer__gpu_model", "offer__region").order_by("-created_at"):
        if quote.provider_id in threads:
            threads[quote.provider_id].quotes.append(quote)
    for message in request.messages.order_by("created_at", "id"):
        if message.provider_id in threads:
            threads[message.provider_id].messages.append(message)
    return list(threads.values())


@dataclass(frozen=True)
class QuotesCompared:
    """The live quotes side by side, cheapest total first, every total also in one currency."""

    currency: str
    rates_date: date | None
    quotes: list[Quote]  # each with total_converted: its total in ``currency`` (None: no rate)


def quotes_compared(*, threads: list[Thread], currency: str = "") -> QuotesCompared:
    """Compare the live quotes in ``currency`` when the portal has its rate, else in the catalog's.

    A quote's own total stays in its own currency; the converted one (at the ECB reference rates
    the catalog uses) only ranks and compares them. A quote in a currency without a rate is
    shown last, unconverted: never a guessed rate.
    """
    display = price_display(currency=currency)
    rates = ExchangeRate.objects.units_per_eur()
    live = [thread.live_quote for thread in threads if thread.live_quote]
    for quote in live:
        quote.total_converted = None
        if quote.currency == display.currency:
            quote.total_converted = quote.total
        elif quote.currency in rates:
            in_eur = quote.total / rates[quote.currency]
            quote.total_converted = (in_eur * display.rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    live.sort(key=lambda quote: (quote.total_converted is None, quote.total_converted or 0, quote.currency))
    return QuotesCompared(currency=display.currency, rates_date=display.rates_date, quotes=live)


def agreement_of_developer(*, user: User, pk: int) -> Agreement | None:
    return Agreement.objects.filter(developer=user, pk=pk).select_related("provider", "quote", "request").first()


def saved_searches_of(*, user: User) -> QuerySet[SavedSearch]:
    return SavedSearch.objects.filter(user=user).annotate(
        unsent=Count("matches", filter=Q(matches__sent_at__isnull=True))
    )


# --- The provider side ---------------------------------------------------------------------------

INBOX_STATUSES = ("open", "answered", "closed", "all")


def inbox(*, provider: Provider, status: str = "open") -> QuerySet[Recipient]:
    """The requests routed to ``provider``, newest first: open and unanswered, answered, closed, or all."""
    recipients = (
        Recipient.objects.filter(provider=provider, request__hidden_at__isnull=True)
        .select_related("request")
        .prefetch_related("request__gpu_models")
        .order_by("-routed_at", "-id")
    )
    open_request = Q(request__status__in=[CapacityRequest.Status.OPEN, CapacityRequest.Status.QUOTED])
    if status == "open":
        return recipients.filter(open_request, status__in=[Recipient.Status.NEW, Recipient.Status.SEEN])
    if status == "answered":
        return recipients.filter(open_request, status__in=[Recipient.Status.QUOTED, Recipient.Status.DECLINED])
    if status == "closed":
        return recipients.exclude(open_request)
    return recipients


def inbox_new_count(*, provider: Provider) -> int:
    """Requests routed to the provider it has not opened yet, for the dashboard's badge."""
    return Recipient.objects.filter(
        provider=provider,
        status=Recipient.Status.NEW,
        request__hidden_at__isnull=True,
        request__status__in=[CapacityRequest.Status.OPEN, CapacityRequest.Status.QUOTED],
    ).count()


def recipient_of_provider(*, provider: Provider, request_pk: int) -> Recipient | None:
    """The provider's inbox entry for a request, or None when the request was not routed to it."""
    return (
        Recipient.objects.filter(provider=provider, request_id=request_pk, request__hidden_at__isnull=True)
        .select_related("request", "provider")
        .first()
    )


def provider_thread(*, recipient: Recipient) -> Thread:
    """The provider's own exchange on a request: its quotes and messages only."""
    request = recipient.request
    quotes = list(request.quotes.filter(provider_id=recipient.provider_id).order_by("-created_at"))
    messages = list(request.messages.filter(provider_id=recipient.provider_id).order_by("created_at", "id"))
    return Thread(recipient, quotes, messages)


def agreement_of_recipient(*, recipient: Recipient) -> Agreement | None:
    """The agreement of the request with this provider, if the developer accepted its quote."""
    return Agreement.objects.filter(request_id=recipient.request_id, provider_id=recipient.provider_id).first()


def agreement_of_provider(*, provider: Provider, pk: int) -> Agreement | None:
    return Agreement.objects.filter(provider=provider, pk=pk).select_related("quote", "request").first()


# --- Demand insights -----------------------------------------------------------------------------


@dataclass
class Demand:
    days: int
    gpus: list[str]
    countries: list[str]
    daily: list[tuple[date, int]]  # searches per day for the provider's GPU models and countries
    top: list[dict]  # by GPU model and country: searches, empty
    empty: int
    searches: int
    requests_received: int
    quotes_sent: int
    quotes_decided: int  # accepted, declined or expired: the developer chose
    quotes_won: int

    @property
    def bars(self) -> list[dict]:
        """The daily searches as bars of a 100-high chart, 10 units apart."""
        top = max((count for _day, count in self.daily), default=0) or 1
        bars = []
        for index, (day, count) in enumerate(self.daily):
            height = round(count * 100 / top)
            bars.append({"x": index * 10, "y": 100 - height, "height": height, "day": day, "count": count})
        return bars

    @property
    def chart_width(self) -> int:
        return self.days * 10

    @property
    def win_rate(self) -> float | None:
        return self.quotes_won / self.quotes_decided if self.quotes_decided else None


def provider_demand(*, provider: Provider, days: int = 30, today: date | None = None) -> Demand:
    """What developers look for in the provider's countries and GPU models, and how its quotes fare.

    Searches count once per (GPU model, country) they name, when the country is one of the
    provider's (whatever the GPU model), or when they name none and one of its GPU models:
    aggregated counts only, no person behind them.
    """
    today = today or timezone.localdate()
    since = today - timedelta(days=days - 1)
    gpus = sorted(set(Offer.objects.filter(provider=provider).values_list("gpu_model__slug", flat=True)))
    countries = sorted({str(code) for code in provider.regions.values_list("country", flat=True)})
    # In its countries (any GPU model: a model it does not list there is an opportunity), or for
    # its GPU models without a country.
    relevant = SearchDemand.objects.filter(day__gte=since, day__lte=today).filter(
        Q(country__in=countries) | Q(country="", gpu__in=gpus)
    )
    per_day = dict(relevant.values("day").annotate(n=Sum("searches")).values_list("day", "n"))
    daily = [(since + timedelta(days=offset), per_day.get(since + timedelta(days=offset), 0)) for offset in range(days)]
    top = list(
        relevant.values("gpu", "country")
        .annotate(searches=Sum("searches"), empty=Sum("empty"))
        .order_by("-searches")[:20]
    )
    totals = relevant.aggregate(searches=Sum("searches", default=0), empty=Sum("empty", default=0))
    received = Recipient.objects.filter(provider=provider, routed_at__date__gte=since).count()
    quotes = Quote.objects.filter(provider=provider, created_at__date__gte=since)
    return Demand(
        days=days,
        gpus=gpus,
        countries=countries,
        daily=daily,
        top=top,
        empty=totals["empty"],
        searches=totals["searches"],
        requests_received=received,
        quotes_sent=quotes.exclude(status=Quote.Status.WITHDRAWN).count(),
        quotes_decided=quotes.filter(
            status__in=[Quote.Status.ACCEPTED, Quote.Status.DECLINED, Quote.Status.EXPIRED]
        ).count(),
        quotes_won=quotes.filter(status=Quote.Status.ACCEPTED).count(),
    )
