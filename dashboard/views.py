"""The provider dashboard: a member manages their provider's regions, offers and syncs.

Every view fetches the provider through ``_provider()`` (404 unless the user is a member) and every
object through that provider's relations, so nothing of another provider is reachable by URL.
Owners and staff may do the same things for now; owner-only actions (team, profile) come later.
"""

import logging
import secrets
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dashboard import csv_io, selectors
from dashboard.forms import (
    CertificationRecordForm,
    ConnectionForm,
    CsvUploadForm,
    OfferForm,
    ProviderFactsForm,
    RegionForm,
)
from marketplace import services as offer_services
from marketplace.models import Offer
from portal.forms import add_service_errors
from portal.http import AuthenticatedHttpRequest
from portal.lib.ratelimit import rate_limited
from portal.lib.urls import site_url
from providers import services as provider_services
from providers.models import Membership, Provider
from providers.selectors import memberships_for_user
from sync import services as sync_services
from sync.adapters.registry import ADAPTERS

logger = logging.getLogger(__name__)

OFFERS_PER_PAGE = 50
RUNS_PER_PAGE = 25
HISTORY_PER_PAGE = 50
QUEUE_UNAVAILABLE = _lazy("The task queue is unavailable right now: nothing was started. Try again in a minute.")


def _provider(request: AuthenticatedHttpRequest, slug: str) -> Provider:
    """The provider ``slug`` if the user is one of its members, else 404."""
    return get_object_or_404(Provider.objects.for_user(request.user), slug=slug)


def provider_url(provider: Provider, name: str) -> str:
    return reverse(f"dashboard:{name}", kwargs={"slug": provider.slug})


def _saved[T](request: AuthenticatedHttpRequest, form, save: Callable[[dict], T]) -> T | None:
    """On a POST with a valid ``form``, what ``save(data)`` (a service) returns; else None.

    ``data`` is the form's cleaned data (its ``settings_data`` for connections); a ValidationError
    from the service is shown on the form, next to its field when the form has it.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save(getattr(form, "settings_data", form.cleaned_data))
    except ValidationError as error:
        add_service_errors(form, error)
        return None


def _back(request: AuthenticatedHttpRequest, default: str) -> str:
    """Where a POST action returns: the page it came from (same site only), or ``default``."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = memberships_for_user(user=request.user)
    if len(memberships) == 1:
        return redirect("dashboard:provider", slug=memberships[0].provider.slug)
    return render(request, "dashboard/home.html", {"memberships": memberships})


@login_required
def provider_home(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    context = {
        "provider": provider,
        "tab": "overview",
        "overview": selectors.provider_overview(provider=provider),
        "connections": selectors.provider_connections(provider=provider),
        "runs": selectors.provider_recent_runs(provider=provider),
        "reviews": _gpu_names_awaiting_review(provider),
    }
    return render(request, "dashboard/provider.html", context)


def _gpu_names_awaiting_review(provider: Provider):
    """GPU names from this provider's syncs that the catalogue does not know yet."""
    return provider.gpu_names_in_review.filter(resolved_at__isnull=True).order_by("-last_seen_at")


# --- Regions -------------------------------------------------------------------------------


@login_required
def region_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    regions = selectors.provider_regions(provider=provider)
    return render(request, "dashboard/region_list.html", {"provider": provider, "tab": "regions", "regions": regions})


@login_required
def region_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    form = RegionForm(request.POST or None, provider=provider)
    if region := _saved(request, form, lambda data: provider_services.region_create(provider=provider, **data)):
        messages.success(request, _("Region %(code)s added.") % {"code": region.code})
        return redirect("dashboard:region_list", slug=provider.slug)
    return render(request, "dashboard/region_form.html", {"provider": provider, "tab": "regions", "form": form})


@login_required
def region_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    region = get_object_or_404(provider.regions, pk=pk)
    form = RegionForm(request.POST or None, instance=region, provider=provider)
    if _saved(request, form, lambda data: offer_services.offers_region_update(region=region, **data)):
        messages.success(request, _("Region %(code)s saved.") % {"code": region.code})
        return redirect("dashboard:region_list", slug=provider.slug)
    context = {"provider": provider, "tab": "regions", "form": form, "region": region}
    return render(request, "dashboard/region_form.html", context)


# --- Sovereignty: who operates the provider, its certifications ---------------------------


@login_required
def sovereignty(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    form = ProviderFactsForm(request.POST or None, instance=provider)
    if _saved(request, form, lambda data: provider_services.provider_facts_update(provider=provider, **data)):
        messages.success(request, _("Operator facts saved."))
        return redirect("dashboard:sovereignty", slug=provider.slug)
    records = provider.certification_records.select_related("certification").prefetch_related("regions")
    context = {"provider": provider, "tab": "sovereignty", "form": form, "records": records}
    return render(request, "dashboard/sovereignty.html", context)


@login_required
def certification_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    return _certification_form(request, provider, CertificationRecordForm(request.POST or None, provider=provider))


@login_required
def certification_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    record = get_object_or_404(provider.certification_records, pk=pk)
    form = CertificationRecordForm(request.POST or None, instance=record, provider=provider)
    return _certification_form(request, provider, form)


def _certification_form(request: AuthenticatedHttpRequest, provider: Provider, form) -> HttpResponse:
    def save(data):
        return provider_services.certification_record_save(record=form.instance, regions=data["regions"])

    if record := _saved(request, form, save):
        messages.success(
            request,
            _("%(certification)s saved. It counts in the catalog once an administrator has verified it.")
            % {"certification": record.certification.name},
        )
        return redirect("dashboard:sovereignty", slug=provider.slug)
    context = {"provider": provider, "tab": "sovereignty", "form": form, "record": form.instance.pk and form.instance}
    return render(request, "dashboard/certification_form.html", context)


@login_required
@require_POST
def certification_delete(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    record = get_object_or_404(provider.certification_records.select_related("certification"), pk=pk)
    provider_services.certification_record_delete(record=record)
    messages.success(request, _("%(certification)s removed.") % {"certification": record.certification.name})
    return redirect("dashboard:sovereignty", slug=provider.slug)


# --- Offers --------------------------------------------------------------------------------


@login_required
def offer_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    status = request.GET.get("status", "active")
    if status not in selectors.OFFER_STATUS_FILTERS:
        status = "active"
    offers = selectors.provider_offers(provider=provider, status=status)
    page = Paginator(offers, OFFERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"provider": provider, "tab": "offers", "status": status, "page": page, "now": timezone.now()}
    return render(request, "dashboard/offer_list.html", context)


@login_required
def offer_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    form = OfferForm(request.POST or None, provider=provider)
    if offer := _saved(request, form, lambda data: offer_services.offer_create(provider=provider, **data)):
        messages.success(request, _("Offer %(offer)s created.") % {"offer": offer})
        return redirect("dashboard:offer_list", slug=provider.slug)
    return render(request, "dashboard/offer_form.html", {"provider": provider, "tab": "offers", "form": form})


@login_required
def offer_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    offer = get_object_or_404(provider.offers.select_related("sync_connection"), pk=pk)
    form = OfferForm(request.POST or None, instance=offer, provider=provider)
    if _saved(request, form, lambda data: offer_services.offer_update(offer=offer, **data)):
        messages.success(request, _("Offer %(offer)s saved.") % {"offer": offer})
        return redirect("dashboard:offer_list", slug=provider.slug)
    context = {"provider": provider, "tab": "offers", "form": form, "offer": offer}
    return render(request, "dashboard/offer_form.html", context)


def _offer_action(
    request: AuthenticatedHttpRequest, slug: str, pk: int, action: Callable[..., Offer], done: str
) -> HttpResponse:
    """Apply one service to an offer; answer htmx with the updated row, others with a redirect."""
    provider = _provider(request, slug)
    offer = get_object_or_404(provider.offers.select_related("region", "gpu_model", "sync_connection"), pk=pk)
    try:
        action(offer=offer)
    except ValidationError as error:
        if request.htmx:
            return HttpResponse(" ".join(error.messages), status=400)
        messages.error(request, " ".join(error.messages))
    else:
        if request.htmx:
            context = {"provider": provider, "offer": offer, "now": timezone.now(), "back": request.POST.get("next")}
            return render(request, "dashboard/offer_list.html#offer_row", context)
        messages.success(request, done % {"offer": offer})
    return redirect(_back(request, default=provider_url(provider, "offer_list")))


@login_required
@require_POST
def offer_withdraw(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _offer_action(request, slug, pk, offer_services.offer_withdraw, _("Offer %(offer)s withdrawn."))


@login_required
@require_POST
def offer_reactivate(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _offer_action(request, slug, pk, offer_services.offer_reactivate, _("Offer %(offer)s is listed again."))


@login_required
@require_POST
def offer_confirm(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _offer_action(
        request, slug, pk, offer_services.offer_confirm_available, _("Offer %(offer)s confirmed as still available.")
    )


@login_required
def offer_export(request: AuthenticatedHttpRequest, slug: str) -> StreamingHttpResponse:
    provider = _provider(request, slug)
    offers = selectors.provider_offers(provider=provider, status="active").iterator(chunk_size=2000)
    response = StreamingHttpResponse(csv_io.offers_csv_lines(offers), content_type="text/csv; charset=utf-8")
    filename = f"{provider.slug}-offers-{timezone.now():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _import_session_key(provider: Provider) -> str:
    return f"csv_import:{provider.pk}"


@login_required
def offer_import(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Upload a CSV and preview it: every row's errors, or what confirming would change."""
    provider = _provider(request, slug)
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    context = {"provider": provider, "tab": "offers", "form": form, "columns": csv_io.COLUMNS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > csv_io.MAX_BYTES:
                raise csv_io.CsvFileError(_("The file is larger than 2 MB: split it into several imports."))
            text = csv_io.csv_decode(upload.read())
            plan = csv_io.offers_csv_plan(provider=provider, text=text)
        except csv_io.CsvFileError as error:
            form.add_error("file", str(error))
        else:
            context.update(plan=plan, filename=upload.name)
            if plan.is_valid:
                # The confirmation posts a token, not the file: the text waits in the session.
                token = secrets.token_urlsafe(16)
                request.session[_import_session_key(provider)] = {"token": token, "text": text, "name": upload.name}
                context["token"] = token
            return render(request, "dashboard/offer_import_preview.html", context)
    return render(request, "dashboard/offer_import.html", context)


@login_required
@require_POST
def offer_import_confirm(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    pending = request.session.get(_import_session_key(provider))
    if not pending or not secrets.compare_digest(pending["token"], request.POST.get("token", "")):
        messages.error(request, _("This import has expired or was already done. Please upload the file again."))
        return redirect("dashboard:offer_import", slug=provider.slug)
    plan = csv_io.offers_csv_import(provider=provider, text=pending["text"])
    if not plan.is_valid:
        # Offers changed since the preview: show the new errors; nothing was saved.
        context = {"provider": provider, "tab": "offers", "plan": plan, "filename": pending["name"]}
        return render(request, "dashboard/offer_import_preview.html", context)
    del request.session[_import_session_key(provider)]
    created, updated = plan.count("create"), plan.count("update")
    messages.success(
        request,
        ngettext(
            "Imported %(rows)d row: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
            "Imported %(rows)d rows: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
            len(plan.rows),
        )
        % {"rows": len(plan.rows), "created": created, "updated": updated, "unchanged": plan.count("unchanged")},
    )
    return redirect("dashboard:offer_list", slug=provider.slug)


# --- Sync connections ----------------------------------------------------------------------


@login_required
def connection_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    connections = selectors.provider_connections(provider=provider)
    context = {"provider": provider, "tab": "connections", "connections": connections}
    return render(request, "dashboard/connection_list.html", context)


@login_required
def connection_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    form = ConnectionForm(request.POST or None, provider=provider)
    if connection := _saved(request, form, lambda data: sync_services.connection_create(provider=provider, **data)):
        messages.success(
            request, _("Connection %(name)s added: its first sync is due now.") % {"name": connection.name}
        )
        return redirect("dashboard:connection_detail", slug=provider.slug, pk=connection.pk)
    context = {"provider": provider, "tab": "connections", "form": form, "kinds": _kinds_help()}
    return render(request, "dashboard/connection_form.html", context)


def _kinds_help() -> list[tuple[type, str]]:
    """(adapter class, demo base URL) of every kind, for the help beside the connection form.

    With the demo on, this portal serves a mock of each API under /demo/ (demo/urls.py).
    """
    site = site_url()
    return [
        (adapter, f"{site}/demo/{adapter.demo_path}" if settings.DEMO_ENABLED else "") for adapter in ADAPTERS.values()
    ]


# The open provider feed's documentation, as the project keeps it (docs/): served to providers
# as it is, so the dashboard's help links to the text the adapter is tested against.
FEED_DOCS = {
    "feed_format": ("provider-feed.md", "text/plain; charset=utf-8"),
    "feed_format_schema": ("provider-feed.schema.json", "application/schema+json"),
}


def _feed_doc(request: AuthenticatedHttpRequest, slug: str, name: str) -> HttpResponse:
    _provider(request, slug)
    filename, content_type = FEED_DOCS[name]
    return HttpResponse((Path(settings.BASE_DIR) / "docs" / filename).read_bytes(), content_type=content_type)


@login_required
def feed_format(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    return _feed_doc(request, slug, "feed_format")


@login_required
def feed_format_schema(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    return _feed_doc(request, slug, "feed_format_schema")


@login_required
def connection_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    connection = get_object_or_404(provider.sync_connections, pk=pk)
    form = ConnectionForm(request.POST or None, instance=connection, provider=provider)
    was_paused = connection.paused_at is not None
    if _saved(request, form, lambda data: sync_services.connection_update(connection=connection, **data)):
        messages.success(request, _("Connection %(name)s saved.") % {"name": connection.name})
        if was_paused:
            messages.success(request, _("Syncs resume now with the new settings."))
        return redirect("dashboard:connection_detail", slug=provider.slug, pk=connection.pk)
    context = {
        "provider": provider,
        "tab": "connections",
        "form": form,
        "connection": connection,
        "kinds": _kinds_help(),
    }
    return render(request, "dashboard/connection_form.html", context)


def _connection_detail_context(request: AuthenticatedHttpRequest, provider: Provider, pk: int) -> dict:
    connection = get_object_or_404(selectors.provider_connections(provider=provider), pk=pk)
    runs = Paginator(connection.runs.order_by("-started_at"), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "provider": provider,
        "tab": "connections",
        "connection": connection,
        "runs": runs,
        "reviews": _gpu_names_awaiting_review(provider),
        "backoff": selectors.connection_backoff(connection=connection),
        "now": timezone.now(),
    }


def _sync_pressed_at(request: AuthenticatedHttpRequest) -> int | None:
    """The ?sync= of a connection's page: when "sync now" was pressed (epoch seconds), if sane."""
    try:
        since = int(request.GET.get("sync", ""))
    except ValueError:
        return None
    return since if 0 < since <= timezone.now().timestamp() + 60 else None


@login_required
def connection_detail(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The connection's settings, health and runs; with ?sync=, the progress of a "sync now".

    htmx polls the same URL for that progress every two seconds (#sync_progress) until the run
    finishes; the fragment then also refreshes the health and the runs on the page.
    """
    provider = _provider(request, slug)
    context = _connection_detail_context(request, provider, pk)
    if (since := _sync_pressed_at(request)) is not None:
        context["sync"] = selectors.connection_sync_progress(connection=context["connection"], since=since)
    template = "dashboard/connection_detail.html"
    if request.htmx and "sync" in context:
        template += "#sync_progress"
    return render(request, template, context)


@login_required
@require_POST
@rate_limited("connection_test", per_user=True)
def connection_test(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Ask a worker to fetch and parse the connection's inventory; the status page polls for it."""
    provider = _provider(request, slug)
    connection = get_object_or_404(provider.sync_connections, pk=pk)
    test = sync_services.connection_test_request(connection=connection, user=request.user)
    if test is None:
        if request.htmx:
            return render(request, "dashboard/connection_detail.html#test_result", {"queue_unavailable": True})
        messages.error(request, QUEUE_UNAVAILABLE)
        return redirect("dashboard:connection_detail", slug=provider.slug, pk=connection.pk)
    if request.htmx:
        context = {"provider": provider, "connection": connection, "test": test}
        return render(request, "dashboard/connection_detail.html#test_result", context)
    return redirect("dashboard:connection_test_status", slug=provider.slug, pk=connection.pk, test_pk=test.pk)


@login_required
def connection_test_status(request: AuthenticatedHttpRequest, slug: str, pk: int, test_pk: int) -> HttpResponse:
    """A test's progress, then what would be listed: the whole page, or (htmx, polling) its result."""
    provider = _provider(request, slug)
    context = _connection_detail_context(request, provider, pk)
    context["test"] = get_object_or_404(context["connection"].tests, pk=test_pk)
    template = "dashboard/connection_detail.html"
    if request.htmx:
        template += "#test_result"
    return render(request, template, context)


@login_required
@require_POST
def connection_sync(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Queue a sync; the connection's page (?sync=) then follows its run until it finishes."""
    provider = _provider(request, slug)
    connection = get_object_or_404(provider.sync_connections, pk=pk)
    pressed = int(timezone.now().timestamp())
    error = None
    try:
        queued = sync_services.connection_sync_request(connection=connection)
    except ValidationError as refused:
        error = " ".join(refused.messages)
    else:
        if not queued:
            error = _(
                "The sync queue is unavailable right now, so nothing was queued. An enabled connection "
                "syncs as soon as the queue is back."
            )
    if request.htmx:
        context = _connection_detail_context(request, provider, pk)
        if error:
            context["sync_error"] = error
        else:
            context["sync"] = selectors.connection_sync_progress(connection=connection, since=pressed)
        return render(request, "dashboard/connection_detail.html#sync_progress", context)
    url = reverse("dashboard:connection_detail", kwargs={"slug": provider.slug, "pk": connection.pk})
    if error:
        messages.error(request, error)
        return redirect(url)
    messages.success(request, _("Sync queued: its progress shows below."))
    return redirect(f"{url}?sync={pressed}")


def _connection_set_enabled(request: AuthenticatedHttpRequest, slug: str, pk: int, enabled: bool) -> HttpResponse:
    provider = _provider(request, slug)
    connection = get_object_or_404(provider.sync_connections, pk=pk)
    sync_services.connection_set_enabled(connection=connection, enabled=enabled)
    if enabled:
        messages.success(request, _("Connection %(name)s enabled.") % {"name": connection.name})
    else:
        messages.success(request, _("Connection %(name)s paused: no scheduled syncs.") % {"name": connection.name})
    return redirect(_back(request, default=provider_url(provider, "connection_list")))


@login_required
@require_POST
def connection_enable(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _connection_set_enabled(request, slug, pk, enabled=True)


@login_required
@require_POST
def connection_disable(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _connection_set_enabled(request, slug, pk, enabled=False)


@login_required
def history(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Who changed what, when: the provider, its offers and connections. Owners only."""
    provider = _provider(request, slug)
    if not provider.memberships.filter(user=request.user, role=Membership.Role.OWNER).exists():
        raise PermissionDenied
    entries = Paginator(selectors.provider_history(provider=provider), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"provider": provider, "tab": "history", "entries": entries}
    return render(request, "dashboard/history.html", context)


@login_required
def run_detail(request: AuthenticatedHttpRequest, slug: str, pk: int, run_pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    connection = get_object_or_404(provider.sync_connections, pk=pk)
    run = get_object_or_404(connection.runs, pk=run_pk)
    context = {"provider": provider, "tab": "connections", "connection": connection, "run": run}
    return render(request, "dashboard/run_detail.html", context)
