"""Reads about providers as businesses."""

from django.contrib.auth.models import User

from providers.models import Membership, Provider


def memberships_for_user(*, user: User) -> list[Membership]:
    return list(Membership.objects.filter(user=user).select_related("provider").order_by("provider__name"))


def provider_contact_addresses(*, provider: Provider) -> list[str]:
    """Where to write to a provider: its contact address and its active owners', once each."""
    owners = Membership.objects.filter(provider=provider, role=Membership.Role.OWNER, user__is_active=True)
    addresses = [provider.contact_email, *owners.values_list("user__email", flat=True)]
    return list({address.lower(): address for address in addresses if address}.values())
