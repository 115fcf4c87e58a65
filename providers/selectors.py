"""Reads about providers as businesses."""

from django.contrib.auth.models import User

from providers.models import Membership


def memberships_for_user(*, user: User) -> list[Membership]:
    return list(Membership.objects.filter(user=user).select_related("provider").order_by("provider__name"))
