"""Writes on accounts: sign-up and e-mail verification."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Profile

VERIFY_SALT = "accounts.email-verification"
VERIFY_MAX_AGE = 3 * 24 * 3600  # a link works for three days


def user_signup(*, username: str, email: str, password: str) -> User:
    """Create an active user with a hashed password; the caller has validated the password."""
    user = User(username=username, email=email)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def email_is_verified(*, user: User) -> bool:
    """Whether ``user``'s current e-mail address was verified (through a link we sent it)."""
    if not user.is_authenticated or not user.email:
        return False
    profile = Profile.objects.filter(user=user).first()
    return bool(profile and profile.email_verified_at and profile.verified_email.lower() == user.email.lower())


def email_verification_token(*, user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email.lower()}, salt=VERIFY_SALT, compress=True)


def email_verification_send(*, user: User) -> int:
    """E-mail ``user`` a link that verifies their address; returns the number of messages sent."""
    link = settings.SITE_URL.rstrip("/") + reverse("accounts:verify_email", args=[email_verification_token(user=user)])
    body = render_to_string("emails/verify_email.txt", {"user": user, "link": link, "days": VERIFY_MAX_AGE // 86400})
    return send_mail(_("Confirm your e-mail address"), body, None, [user.email])


def email_verify(*, token: str) -> User | None:
    """Mark the address a verification link was sent to as verified; None if the link is
    invalid, expired, or for an address the account no longer has."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.email.lower() != data.get("email"):
        return None
    email_mark_verified(user=user)
    return user


def email_mark_verified(*, user: User) -> Profile:
    """Record ``user``'s current address as verified (a link was followed, or an admin vouches)."""
    profile, _created = Profile.objects.get_or_create(user=user)
    profile.verified_email, profile.email_verified_at = user.email, timezone.now()
    profile.save(update_fields=["verified_email", "email_verified_at"])
    return profile
