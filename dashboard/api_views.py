"""The provider dashboard's API page: tokens for pushing inventory, and how to use them.

A token is shown once, in the response to the form that creates it; afterwards only its
prefix. As everywhere on the dashboard, the provider comes through the user's memberships.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dashboard.views import _provider
from portal.http import AuthenticatedHttpRequest
from sync import services as sync_services
from sync.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=120,
        help_text=gettext_lazy("What uses it, e.g. “inventory exporter, prod”."),
    )


def _page(request: AuthenticatedHttpRequest, provider, form: TokenForm, new_token: str = "") -> HttpResponse:
    context = {
        "provider": provider,
        "tab": "api",
        "tokens": provider.api_tokens.select_related("created_by"),
        "form": form,
        "new_token": new_token,
        "push_connection": provider.sync_connections.filter(receives_pushes=True).first(),
    }
    return render(request, "dashboard/api_tokens.html", context)


@login_required
def token_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    return _page(request, _provider(request, slug), TokenForm())


@login_required
@require_POST
def token_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, provider, form)
    _token, secret = sync_services.token_create(
        provider=provider, name=form.cleaned_data["name"], user=request.user, scopes=[ApiToken.Scope.INVENTORY_WRITE]
    )
    # Shown in this response only: it is stored as a digest.
    return _page(request, provider, TokenForm(), new_token=secret)


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    token = get_object_or_404(provider.api_tokens, pk=pk)
    sync_services.token_revoke(token=token)
    messages.success(request, _("Token %(name)s revoked: it no longer works.") % {"name": token.name})
    return redirect("dashboard:token_list", slug=provider.slug)
