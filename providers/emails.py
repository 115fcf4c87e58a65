"""The e-mails about a provider's application and status: who is told what when it applies, is
approved or is suspended.

Plain text, rendered from templates/emails/providers/*.txt; sent by the task in
providers/notifications.py, which providers/services.py enqueues after commit. Each function
returns the number of messages sent (0 when there is no one to write to).
"""

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.lib.urls import site_url
from providers.models import Membership, Provider
from providers.selectors import provider_contact_addresses


def _send(subject: str, template: str, context: dict, recipients: list[str]) -> int:
    if not recipients:
        return 0
    body = render_to_string(f"emails/providers/{template}.txt", context)
    return send_mail(subject, body, None, recipients)


def reviewer_addresses() -> list[str]:
    """Who reviews applications: active staff users who may change providers (superusers
    included), once each. There is no separate flag: the permission to approve is the one."""
    reviewers = User.objects.with_perm(
        "providers.change_provider", include_superusers=True, backend="django.contrib.auth.backends.ModelBackend"
    ).filter(is_active=True, is_staff=True)
    addresses = reviewers.exclude(email="").values_list("email", flat=True)
    return list({address.lower(): address for address in addresses}.values())


def application_received(provider: Provider) -> int:
    """The applicant (the provider's owners and contact address), then every reviewer."""
    context = {
        "provider": provider,
        "dashboard": site_url(reverse("dashboard:provider", args=[provider.slug])),
        "profile": site_url(reverse("accounts:profile")),
    }
    subject = _("We received the application of %(provider)s") % {"provider": provider.name}
    sent = _send(subject, "application_received", context, provider_contact_addresses(provider=provider))
    owners = Membership.objects.filter(provider=provider, role=Membership.Role.OWNER).select_related("user")
    to_reviewers = {
        "provider": provider,
        "applicants": [membership.user for membership in owners],
        "link": site_url(reverse("admin:providers_provider_change", args=[provider.pk])),
    }
    subject = _("New provider application: %(provider)s") % {"provider": provider.name}
    return sent + _send(subject, "application_to_reviewers", to_reviewers, reviewer_addresses())


def provider_approved(provider: Provider) -> int:
    context = {
        "provider": provider,
        "profile": site_url(provider.get_absolute_url()),
        "dashboard": site_url(reverse("dashboard:provider", args=[provider.slug])),
    }
    subject = _("%(provider)s is approved: its offers are listed") % {"provider": provider.name}
    return _send(subject, "provider_approved", context, provider_contact_addresses(provider=provider))


def provider_suspended(provider: Provider) -> int:
    context = {"provider": provider, "dashboard": site_url(reverse("dashboard:provider", args=[provider.slug]))}
    subject = _("%(provider)s is suspended from the marketplace") % {"provider": provider.name}
    return _send(subject, "provider_suspended", context, provider_contact_addresses(provider=provider))
