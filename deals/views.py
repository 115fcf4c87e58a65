"""The developer's side of securing capacity: requests, quotes, agreements, saved searches.

Every view fetches its object through the signed-in developer (deals/selectors.py): someone
else's request, quote or agreement is a 404. The unsubscribe link of alert e-mails is the one
page without a login: its signed token is the permission.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.services import email_is_verified
from deals import emails, selectors, services
from deals.forms import (
    CapacityRequestForm,
    DeclineForm,
    ExtendForm,
    MessageForm,
    SavedSearchForm,
    request_initial_from_catalog,
    request_initial_from_offer,
)
from deals.models import CapacityRequest, Quote, SavedSearch
from marketplace.models import Offer
from portal.forms import add_service_errors
from portal.http import AuthenticatedHttpRequest, HtmxHttpRequest


def _request_of(request: AuthenticatedHttpRequest, pk: int) -> CapacityRequest:
    capacity_request = selectors.request_of_developer(user=request.user, pk=pk)
    if capacity_request is None:
        raise Http404
    return capacity_request


@login_required
def request_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    requests = selectors.requests_of_developer(user=request.user)
    return render(request, "deals/request_list.html", {"requests": requests})


@login_required
def request_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """File a request; pre-filled from the catalog's filters or from an offer (?offer=<id>)."""
    offer = None
    if (offer_id := request.GET.get("offer", "")).isdigit():
        offer = Offer.objects.listed().select_related("gpu_model", "provider").filter(pk=offer_id).first()
    initial = request_initial_from_offer(offer) if offer else request_initial_from_catalog(request.GET)
    last = CapacityRequest.objects.for_developer(request.user).first()
    initial.setdefault("organisation", last.organisation if last else "")
    form = CapacityRequestForm(request.POST or None, initial=initial)
    verified = email_is_verified(user=request.user)
    if request.method == "POST" and verified and form.is_valid():
        try:
            filed = services.request_file(developer=request.user, source_offer=offer, **form.request_fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            count = filed.recipients.count()
            if count:
                messages.success(
                    request, _("Your request went to %(count)d providers that could serve it.") % {"count": count}
                )
            else:
                messages.warning(
                    request,
                    _("No provider lists capacity that fits yet. Your request stays open: new capacity reaches it."),
                )
            return redirect(filed)
    context = {"form": form, "offer": offer, "verified": verified}
    return render(request, "deals/request_form.html", context)


@login_required
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    capacity_request = _request_of(request, pk)
    threads = selectors.request_threads(request=capacity_request)
    context = {
        "capacity_request": capacity_request,
        "threads": threads,
        # The request's budget currency, else the one the catalog shows (?currency=).
        "compared": selectors.quotes_compared(
            threads=threads, currency=capacity_request.budget_currency or request.GET.get("currency", "")
        ),
        "extend_form": ExtendForm(),
        "message_form": MessageForm(),
        "decline_form": DeclineForm(),
        "agreement": getattr(capacity_request, "agreement", None),
    }
    return render(request, "deals/request_detail.html", context)


def _act(request: AuthenticatedHttpRequest, target, action, done: str) -> HttpResponse:
    """Run one service for a POST; its ValidationError becomes an error message."""
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(target)


@login_required
@require_POST
def request_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    capacity_request = _request_of(request, pk)
    return _act(
        request,
        capacity_request,
        lambda: services.request_withdraw(request=capacity_request),
        _("Request withdrawn: the providers were told."),
    )


@login_required
@require_POST
def request_extend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    capacity_request = _request_of(request, pk)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a valid new start date."))
        return redirect(capacity_request)
    return _act(
        request,
        capacity_request,
        lambda: services.request_extend(request=capacity_request, start_date=form.cleaned_data["start_date"]),
        _("Request extended: it is open again from the new start."),
    )


def _quote_of(request: AuthenticatedHttpRequest, pk: int, quote_pk: int) -> Quote:
    return get_object_or_404(_request_of(request, pk).quotes.select_related("provider"), pk=quote_pk)


@login_required
@require_POST
def quote_accept(request: AuthenticatedHttpRequest, pk: int, quote_pk: int) -> HttpResponse:
    quote = _quote_of(request, pk, quote_pk)
    try:
        agreement = services.quote_accept(quote=quote, developer=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(quote.request)
    messages.success(
        request,
        _("You accepted the quote of %(provider)s: here are their contact details, and they have yours.")
        % {"provider": quote.provider.name},
    )
    return redirect("deals:agreement_detail", pk=agreement.pk)


@login_required
@require_POST
def quote_decline(request: AuthenticatedHttpRequest, pk: int, quote_pk: int) -> HttpResponse:
    quote = _quote_of(request, pk, quote_pk)
    reason = request.POST.get("reason", "")[:2000]
    return _act(
        request,
        quote.request,
        lambda: services.quote_decline(quote=quote, developer=request.user, reason=reason),
        _("Quote declined."),
    )


@login_required
@require_POST
def message_post(request: AuthenticatedHttpRequest, pk: int, provider_slug: str) -> HttpResponse:
    capacity_request = _request_of(request, pk)
    recipient = get_object_or_404(capacity_request.recipients, provider__slug=provider_slug)
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a message first (at most 5,000 characters)."))
        return redirect(capacity_request)
    return _act(
        request,
        f"{capacity_request.get_absolute_url()}#thread-{provider_slug}",
        lambda: services.message_post(
            recipient=recipient, author=request.user, body=form.cleaned_data["body"], from_provider=False
        ),
        _("Message sent."),
    )


@login_required
def agreement_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    agreement = selectors.agreement_of_developer(user=request.user, pk=pk)
    if agreement is None:
        raise Http404
    return render(request, "deals/agreement.html", {"agreement": agreement, "side": "developer"})


# --- Saved searches --------------------------------------------------------------------------------


@login_required
def search_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "deals/search_list.html", {"searches": selectors.saved_searches_of(user=request.user)})


@login_required
@require_POST
def search_save(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Save the catalog search the form was posted from (its parameters ride along as "q")."""
    params = QueryDict(request.POST.get("q", "")[:2000])
    name = request.POST.get("name", "").strip()[:120] or _("My search")
    try:
        search = services.saved_search_create(user=request.user, name=name, params=params)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("deals:search_list")
    messages.success(
        request, _("Search “%(name)s” saved: we will e-mail you when a new offer matches.") % {"name": search.name}
    )
    return redirect("deals:search_edit", pk=search.pk)


def _search_of(request: AuthenticatedHttpRequest, pk: int) -> SavedSearch:
    return get_object_or_404(SavedSearch.objects.filter(user=request.user), pk=pk)


@login_required
def search_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    search = _search_of(request, pk)
    form = SavedSearchForm(request.POST or None, instance=search)
    if request.method == "POST" and form.is_valid():
        try:
            services.saved_search_update(search=search, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Search “%(name)s” saved.") % {"name": search.name})
            return redirect("deals:search_list")
    return render(request, "deals/search_form.html", {"form": form, "search": search})


@login_required
@require_POST
def search_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    search = _search_of(request, pk)
    search.delete()
    messages.success(request, _("Search “%(name)s” deleted.") % {"name": search.name})
    return redirect("deals:search_list")


@csrf_exempt  # the signed token is the permission; mail clients POST here without a form (RFC 8058)
def search_unsubscribe(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The link in alert e-mails: stops a search's alerts without signing in (POST; a GET asks)."""
    search = emails.unsubscribe_search(token)
    if search is None:
        raise Http404
    if request.method == "POST":
        services.saved_search_unsubscribe(search=search)
        return render(request, "deals/unsubscribed.html", {"search": search, "done": True})
    return render(request, "deals/unsubscribed.html", {"search": search, "done": False})
