"""The provider as a business, on its dashboard: its public profile and its team.

Owners edit them; staff see them (read-only: a staff member's POST is 403). As everywhere on the
dashboard, the provider comes through the user's memberships (404 for anyone else) and a member
through the provider's own memberships.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.forms import InviteForm, MemberRoleForm, ProfileForm
from dashboard.views import _provider, _saved
from portal.http import AuthenticatedHttpRequest
from providers import services as provider_services
from providers.models import Membership, Provider


def _owner(request: AuthenticatedHttpRequest, provider: Provider) -> bool:
    return provider_services.is_owner(provider=provider, user=request.user)


def _owner_required(request: AuthenticatedHttpRequest, provider: Provider) -> None:
    if not _owner(request, provider):
        raise PermissionDenied


# --- Public profile ------------------------------------------------------------------------


@login_required
def profile(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The public profile and legal identifiers: a form for owners, the facts for staff."""
    provider = _provider(request, slug)
    is_owner = _owner(request, provider)
    if request.method == "POST" and not is_owner:
        raise PermissionDenied
    form = ProfileForm(request.POST or None, instance=provider) if is_owner else None

    def save(data):
        return provider_services.provider_profile_update(provider=provider, user=request.user, data=data)

    if form is not None and _saved(request, form, save):
        messages.success(request, _("Profile saved."))
        return redirect("dashboard:profile", slug=provider.slug)
    if form is not None and form.errors:
        provider.refresh_from_db()  # the page's heading shows what is saved, not the rejected input
    context = {"provider": provider, "tab": "profile", "form": form, "is_owner": is_owner}
    return render(request, "dashboard/profile.html", context)


# --- Team ----------------------------------------------------------------------------------


def _team_page(request: AuthenticatedHttpRequest, provider: Provider, invite_form: InviteForm | None = None):
    is_owner = _owner(request, provider)
    members = provider.memberships.select_related("user").order_by("role", "user__username")
    invitations = provider.invitations.pending().select_related("invited_by").order_by("-created_at")
    context = {
        "provider": provider,
        "tab": "team",
        "members": members,
        "invitations": invitations,
        "is_owner": is_owner,
        "invite_form": invite_form or (InviteForm() if is_owner else None),
        "roles": Membership.Role.choices,
    }
    return render(request, "dashboard/team.html", context)


@login_required
def team(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    return _team_page(request, _provider(request, slug))


@login_required
@require_POST
def member_invite(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = _provider(request, slug)
    _owner_required(request, provider)
    form = InviteForm(request.POST)

    def save(data):
        return provider_services.invitation_create(provider=provider, by=request.user, **data)

    if invitation := _saved(request, form, save):
        messages.success(
            request,
            _("We e-mailed an invitation to %(email)s to join as %(role)s.")
            % {"email": invitation.email, "role": invitation.get_role_display()},
        )
        return redirect("dashboard:team", slug=provider.slug)
    return _team_page(request, provider, invite_form=form)


@login_required
@require_POST
def invitation_revoke(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    invitation = get_object_or_404(provider.invitations, pk=pk)
    _owner_required(request, provider)
    try:
        provider_services.invitation_revoke(invitation=invitation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email})
    return redirect("dashboard:team", slug=provider.slug)


@login_required
@require_POST
def member_role(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, slug)
    membership = get_object_or_404(provider.memberships.select_related("user"), pk=pk)
    _owner_required(request, provider)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose owner or staff."))
        return redirect("dashboard:team", slug=provider.slug)
    try:
        provider_services.membership_role_set(membership=membership, by=request.user, role=form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(user)s is now %(role)s.")
            % {"user": membership.user.get_username(), "role": membership.get_role_display()},
        )
    return redirect("dashboard:team", slug=provider.slug)


@login_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """An owner removes a member; any member may remove themselves (leave), unless the last owner."""
    provider = _provider(request, slug)
    membership = get_object_or_404(provider.memberships.select_related("user"), pk=pk)
    leaving = membership.user_id == request.user.pk
    if not leaving:
        _owner_required(request, provider)
    try:
        provider_services.membership_remove(membership=membership, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("dashboard:team", slug=provider.slug)
    if leaving:
        messages.success(request, _("You left the team of %(provider)s.") % {"provider": provider.name})
        return redirect("dashboard:home")
    messages.success(request, _("%(user)s was removed from the team.") % {"user": membership.user.get_username()})
    return redirect("dashboard:team", slug=provider.slug)
