"""Writes of the deals app: requests, their routing, quotes, messages, agreements, expiry;
saved searches and their alerts.

Services are keyword-only, validate with ``full_clean()`` and change several rows in one
transaction. E-mails go out from Celery tasks enqueued on commit (deals/tasks.py), so a
rolled-back change never mails anyone.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import email_is_verified
from deals import notifications
from deals.models import Agreement, AlertCursor, AlertMatch, CapacityRequest, Message, Quote, Recipient, SavedSearch
from deals.signals import request_routed
from marketplace.country_groups import countries_in_groups
from marketplace.filters import CatalogFilter
from marketplace.models import CapacityWindow, Offer, OfferSnapshot
from providers.models import Provider

logger = logging.getLogger(__name__)

# The fields of a request its developer sets (gpu_models is a many-to-many, set after saving).
REQUEST_FIELDS = frozenset(
    {
        "organisation",
        "gpu_models",
        "min_gpu_memory_gb",
        "gpu_count",
        "gpus_per_node",
        "countries",
        "country_groups",
        "hq_countries",
        "gpu_interconnect",
        "network",
        "pricing_type",
        "reserved_term_months",
        "start_date",
        "end_date",
        "budget_per_gpu_hour",
        "budget_currency",
        "notes",
    }
)
QUOTE_FIELDS = frozenset(
    {"price_per_gpu_hour", "currency", "gpu_count", "start_date", "end_date", "valid_until", "terms", "offer"}
)


def _notify(kind: str, *args) -> None:
    """Enqueue the ``kind`` e-mails (deals/notifications.py) once the current transaction commits.

    Robust: with the broker down, the change stands and the failure is logged (the e-mail is
    lost, the change is not; the pages show every state the e-mails tell of).
    """
    transaction.on_commit(partial(notifications.notify.delay, kind, *args), robust=True)


# --- Requests -----------------------------------------------------------------------------------


@transaction.atomic
def request_file(*, developer: User, source_offer: Offer | None = None, **fields: Any) -> CapacityRequest:
    """File a capacity request and route it to every provider that could serve it.

    The developer's e-mail must be verified, and a developer has at most
    REQUESTS_MAX_OPEN_PER_DEVELOPER open requests (spam costs providers' time). Raises
    ValidationError otherwise, or when the request itself is invalid.
    """
    if not email_is_verified(user=developer):
        raise ValidationError(_("Confirm your e-mail address first: providers answer to it."))
    open_count = CapacityRequest.objects.for_developer(developer).open().count()
    if open_count >= settings.REQUESTS_MAX_OPEN_PER_DEVELOPER:
        raise ValidationError(
            _("You have %(count)d open requests, the most one may have: withdraw one or wait for answers.")
            % {"count": open_count}
        )
    unknown = set(fields) - REQUEST_FIELDS
    if unknown:
        raise TypeError(f"not request fields: {sorted(unknown)}")
    gpu_models = list(fields.pop("gpu_models", []))
    request = CapacityRequest(developer=developer, source_offer=source_offer, **fields)
    request.full_clean()
    if not gpu_models and not request.min_gpu_memory_gb:
        raise ValidationError({"gpu_models": _("Choose GPU models, or a minimum GPU memory.")})
    request.save()
    request.gpu_models.set(gpu_models)
    request_route(request=request)
    return request


@dataclass
class Capacity:
    """What one provider lists that matches a request."""

    offers: int = 0
    windows: int = 0
    gpus: int = 0  # the GPUs those offers' nodes (all of them) and windows hold
    unknown: bool = False  # an offer publishes no count at all: it may be enough
    countries: set[str] | None = None

    def could_serve(self, gpu_count: int) -> bool:
        return self.unknown or self.gpus >= gpu_count

    def as_match(self) -> dict:
        return {
            "offers": self.offers,
            "windows": self.windows,
            "gpus": None if self.unknown else self.gpus,
            "countries": sorted(self.countries or ()),
        }


def request_countries(request: CapacityRequest) -> set[str]:
    """The countries a request accepts: those named and those of its groups; empty is anywhere."""
    return {str(code) for code in request.countries} | countries_in_groups(list(request.country_groups))


def _fitting(rows: QuerySet, request: CapacityRequest) -> QuerySet:
    """Offers or capacity windows of the request's GPUs (or memory), countries and headquarters."""
    gpu_ids = [gpu.pk for gpu in request.gpu_models.all()]
    if gpu_ids:
        rows = rows.filter(gpu_model_id__in=gpu_ids)
    else:
        rows = rows.filter(gpu_model__memory_gb__gte=request.min_gpu_memory_gb or 0)
    if countries := request_countries(request):
        rows = rows.filter(country__in=countries)
    if request.hq_countries:
        rows = rows.filter(provider__hq_country__in=[str(code) for code in request.hq_countries])
    return rows


def matching_offers(request: CapacityRequest) -> QuerySet[Offer]:
    """Listed, fresh offers that fit the request's GPUs, places, node shape and pricing."""
    offers = _fitting(Offer.objects.listed().fresh(), request)
    if request.gpus_per_node:
        offers = offers.filter(gpus_per_node=request.gpus_per_node)
    if request.gpu_interconnect:
        offers = offers.filter(gpu_interconnect=request.gpu_interconnect)
    if request.network:
        offers = offers.filter(network=request.network)
    if request.pricing_type == CapacityRequest.PricingType.RESERVED:
        # A provider whose minimum term is longer than the one asked for cannot serve it.
        term = request.reserved_term_months or 0
        offers = offers.filter(pricing_type=Offer.PricingType.RESERVED, min_term_months__lte=term)
    elif request.pricing_type:
        offers = offers.filter(pricing_type=request.pricing_type)
    return offers


def matching_windows(request: CapacityRequest) -> QuerySet[CapacityWindow]:
    """Listed capacity windows open for the whole request, of its GPUs, in its places."""
    return _fitting(CapacityWindow.objects.listed().covering(request.start_date, request.end_date), request)


def request_capacity_by_provider(request: CapacityRequest) -> dict[int, Capacity]:
    """For every approved provider with matching offers or windows, what it lists that matches."""
    capacity: dict[int, Capacity] = defaultdict(lambda: Capacity(countries=set()))
    rows = matching_offers(request).values_list(
        "provider_id", "country", "gpus_per_node", "nodes_total", "nodes_available"
    )
    for provider_id, country, per_node, total, available in rows:
        entry = capacity[provider_id]
        entry.offers += 1
        entry.countries.add(country)
        nodes = total if total is not None else available
        if nodes is None:
            entry.unknown = True
        else:
            entry.gpus += nodes * per_node
    for provider_id, country, gpus in matching_windows(request).values_list("provider_id", "country", "gpus"):
        entry = capacity[provider_id]
        entry.windows += 1
        entry.countries.add(country)
        entry.gpus += gpus
    return dict(capacity)


def request_route(*, request: CapacityRequest) -> list[Recipient]:
    """Send the request to every approved provider whose listed offers or capacity windows could
    serve it (enough GPUs in total), and to the provider of the offer it was filed from, first.

    Recipients already reached stay as they are. E-mails each new recipient (on commit).
    """
    capacity = request_capacity_by_provider(request)
    chosen = {pid: entry for pid, entry in capacity.items() if entry.could_serve(request.gpu_count)}
    first = request.source_offer.provider_id if request.source_offer_id else None
    if first is not None and request.source_offer.provider.status == Provider.Status.APPROVED:
        chosen.setdefault(first, capacity.get(first, Capacity(countries=set())))
    already = set(request.recipients.values_list("provider_id", flat=True))
    recipients = [
        Recipient(request=request, provider_id=pid, match=entry.as_match(), priority=0 if pid == first else 1)
        for pid, entry in chosen.items()
        if pid not in already
    ]
    Recipient.objects.bulk_create(recipients)
    if recipients:
        ids = [recipient.provider_id for recipient in recipients]
        _notify("request_routed", request.pk, ids)
        transaction.on_commit(
            lambda: request_routed.send(sender=CapacityRequest, request_id=request.pk, provider_ids=ids), robust=True
        )
    return recipients


def request_withdraw(*, request: CapacityRequest) -> CapacityRequest:
    """The developer no longer needs it: open quotes are withdrawn with it, providers are told."""
    if not request.is_open:
        raise ValidationError(_("Only an open request can be withdrawn."))
    with transaction.atomic():
        request.status = CapacityRequest.Status.WITHDRAWN
        request.save(update_fields=["status", "updated_at"])
        request.quotes.filter(status=Quote.Status.OFFERED).update(
            status=Quote.Status.WITHDRAWN, decided_at=timezone.now()
        )
        _notify("request_withdrawn", request.pk)
    return request


def request_extend(*, request: CapacityRequest, start_date: date) -> CapacityRequest:
    """Move an open or expired request to a later start, keeping its duration: it is open again."""
    if request.status not in (
        CapacityRequest.Status.OPEN,
        CapacityRequest.Status.QUOTED,
        CapacityRequest.Status.EXPIRED,
    ):
        raise ValidationError(_("Only an open or expired request can be extended."))
    if start_date < timezone.localdate():
        raise ValidationError({"start_date": _("The new start cannot be in the past.")})
    with transaction.atomic():
        duration = request.end_date - request.start_date
        request.start_date, request.end_date = start_date, start_date + duration
        offered = request.quotes.filter(status=Quote.Status.OFFERED).exists()
        request.status = CapacityRequest.Status.QUOTED if offered else CapacityRequest.Status.OPEN
        request.full_clean()
        request.save()
        request_route(request=request)  # capacity may have appeared for the new dates
    return request


def requests_expire(*, today: date | None = None) -> int:
    """Expire open requests whose start date has come (unless extended); returns how many."""
    today = today or timezone.localdate()
    expiring = CapacityRequest.objects.open().filter(start_date__lte=today)
    ids = list(expiring.values_list("pk", flat=True))
    with transaction.atomic():
        CapacityRequest.objects.filter(pk__in=ids).update(
            status=CapacityRequest.Status.EXPIRED, updated_at=timezone.now()
        )
        Quote.objects.filter(request_id__in=ids, status=Quote.Status.OFFERED).update(
            status=Quote.Status.EXPIRED, decided_at=timezone.now()
        )
        for request_id in ids:
            _notify("request_expired", request_id)
    return len(ids)


def recipient_mark_seen(*, recipient: Recipient) -> Recipient:
    if recipient.status == Recipient.Status.NEW:
        recipient.status, recipient.seen_at = Recipient.Status.SEEN, timezone.now()
        recipient.save(update_fields=["status", "seen_at"])
    return recipient


@transaction.atomic
def recipient_decline(*, recipient: Recipient, reason: str) -> Recipient:
    """The provider cannot serve the request; the developer is told why."""
    if not recipient.request.is_open:
        raise ValidationError(_("This request is no longer open."))
    if not reason.strip():
        raise ValidationError({"declined_reason": _("Say why, so the developer knows what to change.")})
    recipient.status, recipient.declined_reason = Recipient.Status.DECLINED, reason.strip()
    recipient.save(update_fields=["status", "declined_reason"])
    recipient.request.quotes.filter(provider_id=recipient.provider_id, status=Quote.Status.OFFERED).update(
        status=Quote.Status.WITHDRAWN, decided_at=timezone.now()
    )
    _notify("recipient_declined", recipient.pk)
    return recipient


# --- Quotes -------------------------------------------------------------------------------------


@transaction.atomic
def quote_submit(*, recipient: Recipient, author: User | None, automatic: bool = False, **fields: Any) -> Quote:
    """A provider answers a request routed to it with a quote; a previous live quote of the same
    provider is withdrawn (the new one replaces it). The developer is e-mailed."""
    request = CapacityRequest.objects.select_for_update().get(pk=recipient.request_id)
    if not request.is_open:
        raise ValidationError(_("This request is no longer open."))
    unknown = set(fields) - QUOTE_FIELDS
    if unknown:
        raise TypeError(f"not quote fields: {sorted(unknown)}")
    offer = fields.get("offer")
    if offer is not None and offer.provider_id != recipient.provider_id:
        raise ValidationError({"offer": _("Link one of your own offers.")})
    quote = Quote(request=request, provider_id=recipient.provider_id, author=author, automatic=automatic, **fields)
    quote.currency = (quote.currency or "").upper()
    quote.full_clean(exclude=["request", "provider"], validate_constraints=False)
    if quote.valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("A quote must be valid at least until today.")})
    request.quotes.filter(provider_id=recipient.provider_id, status=Quote.Status.OFFERED).update(
        status=Quote.Status.WITHDRAWN, decided_at=timezone.now()
    )
    quote.save()
    recipient.status = Recipient.Status.QUOTED
    recipient.save(update_fields=["status"])
    if request.status == CapacityRequest.Status.OPEN:
        request.status = CapacityRequest.Status.QUOTED
        request.save(update_fields=["status", "updated_at"])
    _notify("quote_received", quote.pk)
    return quote


def quote_withdraw(*, quote: Quote) -> Quote:
    if quote.status != Quote.Status.OFFERED:
        raise ValidationError(_("Only a quote on offer can be withdrawn."))
    quote.status, quote.decided_at = Quote.Status.WITHDRAWN, timezone.now()
    quote.save(update_fields=["status", "decided_at"])
    return quote


@transaction.atomic
def quote_accept(*, quote: Quote, developer: User) -> Agreement:
    """The developer takes this quote: the request closes, every other live quote is declined,
    and the agreement records who agreed to what, with each side's contact for the other.

    Raises PermissionDenied for someone else's request; ValidationError when the quote or the
    request can no longer be accepted (expired, withdrawn, already decided).
    """
    request = CapacityRequest.objects.select_for_update().get(pk=quote.request_id)
    if request.developer_id != developer.pk:
        raise PermissionDenied
    quote = Quote.objects.select_for_update().select_related("provider").get(pk=quote.pk)
    if not request.is_open:
        raise ValidationError(_("This request is closed."))
    if quote.status != Quote.Status.OFFERED or quote.is_expired():
        raise ValidationError(_("This quote can no longer be accepted."))
    now = timezone.now()
    quote.status, quote.decided_at = Quote.Status.ACCEPTED, now
    quote.save(update_fields=["status", "decided_at"])
    others = list(request.quotes.filter(status=Quote.Status.OFFERED).exclude(pk=quote.pk).values_list("pk", flat=True))
    Quote.objects.filter(pk__in=others).update(
        status=Quote.Status.DECLINED, decided_at=now, decline_reason=_("Another quote was accepted.")
    )
    request.status = CapacityRequest.Status.ACCEPTED
    request.save(update_fields=["status", "updated_at"])
    provider = quote.provider
    agreement = Agreement.objects.create(
        request=request,
        quote=quote,
        provider=provider,
        developer=developer,
        price_per_gpu_hour=quote.price_per_gpu_hour,
        currency=quote.currency,
        gpu_count=quote.gpu_count,
        start_date=quote.start_date,
        end_date=quote.end_date,
        terms=quote.terms,
        provider_legal_name=provider.name,
        provider_contact_email=provider.contact_email,
        provider_website=provider.website,
        developer_organisation=request.organisation,
        developer_email=developer.email,
    )
    _notify("quote_accepted", agreement.pk)
    for quote_id in others:
        _notify("quote_declined", quote_id)
    return agreement


def quote_decline(*, quote: Quote, developer: User, reason: str = "") -> Quote:
    """The developer turns a quote down (the request stays open for the others)."""
    if quote.request.developer_id != developer.pk:
        raise PermissionDenied
    if quote.status != Quote.Status.OFFERED:
        raise ValidationError(_("This quote is no longer on offer."))
    with transaction.atomic():
        quote.status, quote.decided_at, quote.decline_reason = Quote.Status.DECLINED, timezone.now(), reason.strip()
        quote.save(update_fields=["status", "decided_at", "decline_reason"])
        _notify("quote_declined", quote.pk)
    return quote


def quotes_expire(*, today: date | None = None) -> int:
    """Expire quotes on offer past their "valid until"; returns how many. The developer is told."""
    today = today or timezone.localdate()
    expiring = list(
        Quote.objects.filter(status=Quote.Status.OFFERED, valid_until__lt=today).values_list("pk", flat=True)
    )
    with transaction.atomic():
        Quote.objects.filter(pk__in=expiring).update(status=Quote.Status.EXPIRED, decided_at=timezone.now())
        for quote_id in expiring:
            _notify("quote_expired", quote_id)
    return len(expiring)


# --- Messages -----------------------------------------------------------------------------------


@transaction.atomic
def message_post(*, recipient: Recipient, author: User, body: str, from_provider: bool) -> Message:
    """A message in the thread of one request and one provider; the other side is e-mailed."""
    if not body.strip():
        raise ValidationError({"body": _("Write something first.")})
    message = Message(
        request_id=recipient.request_id,
        provider_id=recipient.provider_id,
        author=author,
        from_provider=from_provider,
        body=body.strip(),
    )
    message.full_clean()
    message.save()
    _notify("message", message.pk)
    return message


# --- Moderation ---------------------------------------------------------------------------------


def request_hide(*, request: CapacityRequest) -> CapacityRequest:
    """A moderator hides a spam request: no provider sees it any more; it stays for the record."""
    request.hidden_at = timezone.now()
    if request.is_open:
        request.status = CapacityRequest.Status.WITHDRAWN
    request.save(update_fields=["hidden_at", "status", "updated_at"])
    return request


@transaction.atomic
def developer_suspend(*, user: User) -> int:
    """Suspend a developer: the account can no longer sign in, its open requests are hidden.
    Returns how many requests were hidden."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    requests = list(CapacityRequest.objects.for_developer(user).open().visible())
    for request in requests:
        request_hide(request=request)
    return len(requests)


# --- Saved searches and alerts ------------------------------------------------------------------

# Parameters that change how results are shown, not which offers match.
PRESENTATION_PARAMS = frozenset({"page", "sort", "per_page"})
MAX_SAVED_SEARCHES = 50


def search_query_normalize(params: QueryDict) -> str:
    """A catalog query string without its presentation parameters, sorted and deduplicated."""
    pairs = sorted(
        {(key, value) for key in params for value in params.getlist(key) if key not in PRESENTATION_PARAMS and value}
    )
    return urlencode(pairs)


def saved_search_create(
    *,
    user: User,
    name: str,
    params: QueryDict,
    price_below: Decimal | None = None,
    price_currency: str = "USD",
    alert_new: bool = True,
) -> SavedSearch:
    """Save a catalog search (its URL parameters) under a name, with its alerts."""
    if SavedSearch.objects.filter(user=user).count() >= MAX_SAVED_SEARCHES:
        raise ValidationError(_("You have %(count)d saved searches: delete one first.") % {"count": MAX_SAVED_SEARCHES})
    search = SavedSearch(
        user=user,
        name=name.strip(),
        query=search_query_normalize(params),
        price_below=price_below,
        price_currency=(price_currency or "USD").upper(),
        alert_new=alert_new,
    )
    _search_keys_set(search)
    search.full_clean()
    search.save()
    _alert_cursor_start()
    return search


def saved_search_update(
    *,
    search: SavedSearch,
    name: str,
    alert_new: bool,
    price_below: Decimal | None,
    price_currency: str,
    alerts_enabled: bool,
) -> SavedSearch:
    search.name, search.alert_new, search.alerts_enabled = name.strip(), alert_new, alerts_enabled
    search.price_below, search.price_currency = price_below, (price_currency or "USD").upper()
    search.full_clean()
    search.save()
    return search


def saved_search_unsubscribe(*, search: SavedSearch) -> SavedSearch:
    search.alerts_enabled = False
    search.save(update_fields=["alerts_enabled"])
    return search


def _search_keys_set(search: SavedSearch) -> None:
    """What the search asks for (its GPU models and countries), to find candidate searches for
    changed offers without running every search."""
    filterset = CatalogFilter(QueryDict(search.query))
    cleaned = filterset.cleaned
    gpu_ids = filterset.gpu_ids
    search.gpu_ids = sorted(gpu_ids[slug] for slug in cleaned.get("gpu") or [] if slug in gpu_ids)
    countries = {str(code) for code in cleaned.get("country") or []} | countries_in_groups(
        list(cleaned.get("region_group") or [])
    )
    search.country_codes = sorted(countries)


@dataclass(frozen=True)
class _Change:
    snapshot_id: int
    offer_id: int
    recorded_at: datetime
    price: Decimal
    previous: Decimal | None  # the offer's price before, None for a new offer


@transaction.atomic
def alerts_evaluate(*, batch: int = 5000) -> tuple[int, int]:
    """Read the snapshot log from where the last evaluation stopped and record the saved-search
    matches it reveals: a new matching offer, or a matching price that fell below a threshold.

    Incremental: only the offers that changed since are looked at, and only the searches that
    could match them (by GPU model and country) are run, once per batch over those offers, with
    the catalog's own filters. Idempotent: the cursor moves in the same transaction as the
    matches are recorded, and a change makes at most one match per search. Returns how many
    snapshots were read (0: the log is read to its end) and how many matches were recorded.
    """
    _alert_cursor_start()
    cursor = AlertCursor.objects.select_for_update().get(pk=1)
    snapshots = list(
        OfferSnapshot.objects.filter(pk__gt=cursor.last_snapshot_id)
        .order_by("pk")
        .values_list("pk", "offer_id", "recorded_at", "price_per_gpu_hour")[:batch]
    )
    if not snapshots:
        return 0, 0
    changes = _changes(snapshots, before=cursor.last_snapshot_id)
    cursor.last_snapshot_id = snapshots[-1][0]
    cursor.save(update_fields=["last_snapshot_id", "updated_at"])
    offers = {
        row[0]: row
        for row in Offer.objects.listed()
        .filter(pk__in={c.offer_id for c in changes})
        .values_list("pk", "gpu_model_id", "country", "currency")
    }
    if not offers:
        return len(snapshots), 0
    gpus = {row[1] for row in offers.values()}
    countries = {row[2] for row in offers.values()}
    candidates = [
        search
        for search in SavedSearch.objects.filter(alerts_enabled=True, user__is_active=True).filter(
            Q(alert_new=True) | Q(price_below__isnull=False)
        )
        if (not search.gpu_ids or gpus & set(search.gpu_ids))
        and (not search.country_codes or countries & set(search.country_codes))
    ]
    matches = []
    for search in candidates:
        listed = Offer.objects.listed().filter(pk__in=list(offers))
        matched = set(CatalogFilter(QueryDict(search.query), queryset=listed).qs.values_list("pk", flat=True))
        for change in changes:
            if change.offer_id not in matched or change.recorded_at < search.created_at:
                continue
            kind = _alert_kind(search, change, currency=offers[change.offer_id][3])
            if kind:
                matches.append(
                    AlertMatch(
                        search=search,
                        offer_id=change.offer_id,
                        snapshot_id=change.snapshot_id,
                        kind=kind,
                        price_per_gpu_hour=change.price,
                        currency=offers[change.offer_id][3],
                    )
                )
    AlertMatch.objects.bulk_create(matches, ignore_conflicts=True)
    return len(snapshots), len(matches)


def _alert_cursor_start() -> None:
    """Start reading the snapshot log at its end, once: searches alert on changes made after
    they were saved, so the history before the first search is never read."""
    if not AlertCursor.objects.filter(pk=1).exists():
        last = OfferSnapshot.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        AlertCursor.objects.get_or_create(pk=1, defaults={"last_snapshot_id": last})


def _changes(snapshots: list[tuple], *, before: int) -> list[_Change]:
    """Each snapshot as a change, with the offer's price just before it (None: a new offer)."""
    offer_ids = {row[1] for row in snapshots}
    latest = (
        OfferSnapshot.objects.filter(offer_id__in=offer_ids, pk__lte=before)
        .values("offer_id")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    price: dict[int, Decimal] = dict(
        OfferSnapshot.objects.filter(pk__in=latest).values_list("offer_id", "price_per_gpu_hour")
    )
    changes = []
    for snapshot_id, offer_id, recorded_at, amount in snapshots:
        changes.append(_Change(snapshot_id, offer_id, recorded_at, amount, price.get(offer_id)))
        price[offer_id] = amount
    return changes


def _alert_kind(search: SavedSearch, change: _Change, *, currency: str) -> str | None:
    threshold = search.price_below if search.price_currency == currency else None
    if change.previous is None:
        if search.alert_new:
            return AlertMatch.Kind.NEW
        return AlertMatch.Kind.PRICE_DROP if threshold is not None and change.price < threshold else None
    if threshold is not None and change.price < threshold <= change.previous:
        return AlertMatch.Kind.PRICE_DROP
    return None


def alerts_due(*, now: datetime) -> list[int]:
    """Searches with matches not sent yet whose last alert e-mail is an hour old or more."""
    every = timedelta(seconds=settings.ALERT_DIGEST_SECONDS)
    due = SavedSearch.objects.filter(alerts_enabled=True, matches__sent_at__isnull=True).filter(
        Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - every)
    )
    return sorted(set(due.values_list("pk", flat=True)))


@transaction.atomic
def alert_digest_claim(*, search_id: int, now: datetime) -> tuple[SavedSearch, list[AlertMatch]] | None:
    """Claim a search's unsent matches for one e-mail: marked sent in this transaction, so a
    redelivered task finds nothing to send. None when there is nothing to send (yet)."""
    search = SavedSearch.objects.select_for_update().select_related("user").filter(pk=search_id).first()
    every = timedelta(seconds=settings.ALERT_DIGEST_SECONDS)
    if search is None or not search.alerts_enabled or (search.last_sent_at and search.last_sent_at > now - every):
        return None
    matches = list(
        search.matches.filter(sent_at__isnull=True).select_related(
            "offer__gpu_model", "offer__provider", "offer__region"
        )
    )
    if not matches:
        return None
    AlertMatch.objects.filter(pk__in=[match.pk for match in matches]).update(sent_at=now)
    search.last_sent_at = now
    search.save(update_fields=["last_sent_at"])
    return search, matches
