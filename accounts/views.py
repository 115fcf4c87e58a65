from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ProviderApplicationForm, SignupForm
from accounts.services import email_is_verified, email_verification_send, email_verify, user_activate, user_signup
from portal.http import AuthenticatedHttpRequest, HtmxHttpRequest
from portal.lib.ratelimit import rate_limited
from providers.models import Invitation, Provider
from providers.selectors import memberships_for_user
from providers.services import invitation_accept, invitation_token_hash, provider_apply

# A user may have a few applications under review at once, not an unbounded number.
MAX_PENDING_APPLICATIONS = 3


@rate_limited("signup")
def signup(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_signup(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        # The same answer whether the address was new or taken.
        return render(request, "accounts/signup_sent.html")
    return render(request, "accounts/signup.html", {"form": form})


def activate(request: HtmxHttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link of the activation e-mail: activate the account and sign in."""
    user = user_activate(uidb64=uidb64, token=token)
    if user is None:
        messages.error(request, _("This link is invalid or was already used. Sign in, or sign up again."))
        return redirect("login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Welcome! Your account is ready."))
    return redirect("accounts:profile")


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = memberships_for_user(user=request.user)
    context = {
        "email_verified": email_is_verified(user=request.user),
        "memberships": [m for m in memberships if m.provider.status != Provider.Status.PENDING],
        "applications": [m for m in memberships if m.provider.status == Provider.Status.PENDING],
    }
    return render(request, "accounts/profile.html", context)


@login_required
@rate_limited("provider_application", per_user=True)
def apply_provider(request: AuthenticatedHttpRequest) -> HttpResponse:
    pending = Provider.objects.for_user(request.user).filter(status=Provider.Status.PENDING).count()
    too_many = pending >= MAX_PENDING_APPLICATIONS
    form = ProviderApplicationForm(request.POST or None)
    if request.method == "POST" and not too_many and form.is_valid():
        provider = provider_apply(user=request.user, **form.cleaned_data)
        messages.success(
            request,
            _(
                "Thank you: %(name)s is waiting for review by an administrator. Until it is approved nothing "
                "of it is public, but you can already prepare its regions and offers on the dashboard."
            )
            % {"name": provider.name},
        )
        return redirect("accounts:profile")
    return render(request, "accounts/apply_provider.html", {"form": form, "too_many": too_many})


def verify_email(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The link of a verification e-mail: works without being signed in (another device)."""
    user = email_verify(token=token)
    if user is None:
        messages.error(request, _("This confirmation link is invalid or has expired. Ask for a new one below."))
    else:
        messages.success(request, _("Thank you: your e-mail address %(email)s is confirmed.") % {"email": user.email})
    return redirect("accounts:profile" if request.user.is_authenticated else "login")


@login_required
@require_POST
def verify_email_resend(request: AuthenticatedHttpRequest) -> HttpResponse:
    if email_is_verified(user=request.user):
        messages.info(request, _("Your e-mail address is already confirmed."))
    elif request.user.email:
        email_verification_send(user=request.user)
        messages.success(request, _("We sent a new confirmation link to %(email)s.") % {"email": request.user.email})
    return redirect(request.POST.get("next") or "accounts:profile")


@require_http_methods(["GET", "POST"])
def invitation(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The link of a team invitation. The token is the permission to see it (404 for an unknown
    one, 410 once used, withdrawn or expired); accepting also needs the invited address's account
    (403, with a way out, for another account)."""
    invitation = get_object_or_404(
        Invitation.objects.select_related("provider", "invited_by"), token_hash=invitation_token_hash(token)
    )
    context = {"invitation": invitation, "signup_url": reverse("accounts:signup")}
    if reason := invitation.gone_reason:
        return render(request, "accounts/invitation.html", {**context, "gone": reason}, status=410)
    if not request.user.is_authenticated:
        return render(request, "accounts/invitation.html", context)
    if not invitation.is_for(request.user):
        return render(request, "accounts/invitation.html", {**context, "wrong_account": True}, status=403)
    if request.method == "POST":
        try:
            membership = invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as error:  # accepted or withdrawn meanwhile
            return render(
                request, "accounts/invitation.html", {**context, "gone": " ".join(error.messages)}, status=410
            )
        messages.success(
            request,
            _("Welcome to the team of %(provider)s, as %(role)s.")
            % {"provider": membership.provider.name, "role": membership.get_role_display()},
        )
        return redirect("dashboard:provider", slug=membership.provider.slug)
    return render(request, "accounts/invitation.html", context)
