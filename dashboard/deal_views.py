"""The provider dashboard's side of deals: requests routed to the provider, quotes, messages and
agreements; capacity windows; demand insights.

As in dashboard/views.py, the provider comes through the user's memberships (404 otherwise) and
every object through that provider: a request not routed to it, another provider's quote or a
thread that is not its own are unreachable by URL (deals/selectors.py decides visibility).
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import csv_io
from dashboard.forms import CsvUploadForm, WindowForm
from dashboard.views import _provider, _saved
from deals import selectors as deal_selectors
from deals import services as deal_services
from deals.forms import DeclineForm, MessageForm, QuoteForm
from deals.models import Quote, Recipient
from marketplace import services as offer_services
from marketplace.models import CapacityWindow
from portal.http import AuthenticatedHttpRequest

REQUESTS_PER_PAGE = 25


# --- Requests routed to the provider -----------------------------------------------------------


@login_required
def request_inbox(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    status = request.GET.get("status", "open")
    if status not in deal_selectors.INBOX_STATUSES:
        status = "open"
    recipients = deal_selectors.inbox(provider=provider, status=status)
    page = Paginator(recipients, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"provider": provider, "tab": "requests", "status": status, "page": page}
    return render(request, "dashboard/request_inbox.html", context)


def _recipient(request: AuthenticatedHttpRequest, slug: str, request_pk: int) -> Recipient:
    recipient = deal_selectors.recipient_of_provider(provider=_provider(request, slug), request_pk=request_pk)
    if recipient is None:
        raise Http404
    return recipient


def _quote_initial(recipient: Recipient) -> dict:
    capacity_request = recipient.request
    return {
        "gpu_count": capacity_request.gpu_count,
        "start_date": capacity_request.start_date,
        "end_date": capacity_request.end_date,
        "currency": capacity_request.budget_currency or "USD",
        "valid_until": min(capacity_request.start_date, timezone.localdate() + timedelta(days=14)),
    }


def _request_context(recipient: Recipient, **forms) -> dict:
    thread = deal_selectors.provider_thread(recipient=recipient)
    capacity_request = recipient.request
    quote_form = forms.get("quote_form") or QuoteForm(initial=_quote_initial(recipient), provider=recipient.provider)
    return {
        "provider": recipient.provider,
        "tab": "requests",
        "recipient": recipient,
        "capacity_request": capacity_request,
        "thread": thread,
        # The developer's contact only once this provider's quote was accepted.
        "agreement": deal_selectors.agreement_of_recipient(recipient=recipient),
        "quote_form": quote_form,
        "decline_form": forms.get("decline_form") or DeclineForm(),
        "message_form": forms.get("message_form") or MessageForm(),
    }


@login_required
def request_detail(request: AuthenticatedHttpRequest, slug: str, request_pk: int) -> HttpResponse:
    recipient = _recipient(request, slug, request_pk)
    deal_services.recipient_mark_seen(recipient=recipient)
    return render(request, "dashboard/request_detail.html", _request_context(recipient))


def _answer(request: AuthenticatedHttpRequest, recipient: Recipient, key: str, form, save, done: str) -> HttpResponse:
    """A POST on a request's page: ``save`` (a service) when ``form`` is valid, then back to the
    page; else the page again, with the form's errors (those of the service too)."""
    if _saved(request, form, save):
        messages.success(request, done)
        return redirect("dashboard:request_detail", slug=recipient.provider.slug, request_pk=recipient.request_id)
    return render(request, "dashboard/request_detail.html", _request_context(recipient, **{key: form}), status=400)


@login_required
@require_POST
def quote_submit(request: AuthenticatedHttpRequest, slug: str, request_pk: int) -> HttpResponse:
    recipient = _recipient(request, slug, request_pk)
    return _answer(
        request,
        recipient,
        "quote_form",
        QuoteForm(request.POST, provider=recipient.provider),
        lambda data: deal_services.quote_submit(recipient=recipient, author=request.user, **data),
        _("Quote sent: the developer was e-mailed."),
    )


@login_required
@require_POST
def request_decline(request: AuthenticatedHttpRequest, slug: str, request_pk: int) -> HttpResponse:
    recipient = _recipient(request, slug, request_pk)
    return _answer(
        request,
        recipient,
        "decline_form",
        DeclineForm(request.POST),
        lambda data: deal_services.recipient_decline(recipient=recipient, reason=data["reason"]),
        _("Request declined: the developer was told why."),
    )


@login_required
@require_POST
def request_message(request: AuthenticatedHttpRequest, slug: str, request_pk: int) -> HttpResponse:
    recipient = _recipient(request, slug, request_pk)
    return _answer(
        request,
        recipient,
        "message_form",
        MessageForm(request.POST),
        lambda data: deal_services.message_post(
            recipient=recipient, author=request.user, body=data["body"], from_provider=True
        ),
        _("Message sent."),
    )


@login_required
@require_POST
def quote_withdraw(request: AuthenticatedHttpRequest, slug: str, request_pk: int, quote_pk: int) -> HttpResponse:
    recipient = _recipient(request, slug, request_pk)
    quote = get_object_or_404(Quote, pk=quote_pk, request_id=request_pk, provider=recipient.provider)
    try:
        deal_services.quote_withdraw(quote=quote)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Quote withdrawn."))
    return redirect("dashboard:request_detail", slug=slug, request_pk=request_pk)


@login_required
def agreement_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    agreement = deal_selectors.agreement_of_provider(provider=provider, pk=pk)
    if agreement is None:
        raise Http404
    return render(request, "deals/agreement.html", {"agreement": agreement, "side": "provider"})


# --- Capacity windows ---------------------------------------------------------------------------


@login_required
def window_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    windows = provider.capacity_windows.select_related("region", "gpu_model", "sync_connection").order_by(
        "status", "starts_on", "id"
    )
    context = {"provider": provider, "tab": "windows", "windows": windows, "today": timezone.localdate()}
    return render(request, "dashboard/window_list.html", context)


@login_required
def window_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    form = WindowForm(request.POST or None, provider=provider)
    if window := _saved(request, form, lambda data: offer_services.window_create(provider=provider, **data)):
        messages.success(request, _("Capacity window %(window)s published.") % {"window": window})
        return redirect("dashboard:window_list", slug=provider.slug)
    return render(request, "dashboard/window_form.html", {"provider": provider, "tab": "windows", "form": form})


@login_required
def window_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    window = get_object_or_404(provider.capacity_windows, pk=pk)
    form = WindowForm(request.POST or None, instance=window, provider=provider)
    if _saved(request, form, lambda data: offer_services.window_update(window=window, **data)):
        messages.success(request, _("Capacity window %(window)s saved.") % {"window": window})
        return redirect("dashboard:window_list", slug=provider.slug)
    context = {"provider": provider, "tab": "windows", "form": form, "window": window}
    return render(request, "dashboard/window_form.html", context)


@login_required
@require_POST
def window_withdraw(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    window = get_object_or_404(provider.capacity_windows, pk=pk)
    offer_services.window_withdraw(window=window)
    messages.success(request, _("Capacity window %(window)s withdrawn.") % {"window": window})
    return redirect("dashboard:window_list", slug=provider.slug)


@login_required
def window_export(request: AuthenticatedHttpRequest, slug: str) -> StreamingHttpResponse:
    provider = _provider(request, slug)
    windows = provider.capacity_windows.filter(status=CapacityWindow.Status.ACTIVE).select_related(
        "region", "gpu_model"
    )
    response = StreamingHttpResponse(csv_io.windows_csv_lines(windows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{provider.slug}-windows-{timezone.now():%Y%m%d}.csv"'
    return response


@login_required
def window_import(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Upload a CSV of windows: all of it is saved, or nothing, with every row's errors."""
    provider = _provider(request, slug)
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    context = {"provider": provider, "tab": "windows", "form": form, "columns": csv_io.WINDOW_COLUMNS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > csv_io.MAX_BYTES:
                raise csv_io.CsvFileError(_("The file is larger than 2 MB: split it into several imports."))
            saved, errors = csv_io.windows_csv_import(provider=provider, text=csv_io.csv_decode(upload.read()))
        except csv_io.CsvFileError as error:
            form.add_error("file", str(error))
        else:
            if not errors:
                messages.success(request, _("Imported %(count)d capacity windows.") % {"count": saved})
                return redirect("dashboard:window_list", slug=provider.slug)
            context["errors"] = errors
    return render(request, "dashboard/window_import.html", context)


# --- Demand -------------------------------------------------------------------------------------


@login_required
def demand(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    insights = deal_selectors.provider_demand(provider=provider)
    context = {"provider": provider, "tab": "demand", "demand": insights}
    return render(request, "dashboard/demand.html", context)
