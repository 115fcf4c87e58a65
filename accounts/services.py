"""Accounts: signing up without revealing which e-mail addresses have an account, and e-mail
verification.

Sign-up answers the same way whether the address is new or taken: "check your inbox". A new
address gets a link that activates the account (and so confirms the address); a taken one gets a
note to its owner instead (sign in, or reset the password). An account is active only once its
address is confirmed, so nobody can hold an address they do not read. Accounts made otherwise
(by an admin, the demo) and changed addresses are confirmed by a verification link.
"""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import Profile
from portal.lib.urls import site_url

VERIFY_SALT = "accounts.email-verification"
VERIFY_MAX_AGE = 3 * 24 * 3600  # a link works for three days


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Like a password reset token (so it dies with a sign-in, which sets last_login), but not
    interchangeable with one."""

    key_salt = "accounts.services.ActivationTokenGenerator"


activation_tokens = ActivationTokenGenerator()


@transaction.atomic
def user_signup(*, username: str, email: str, password: str) -> User | None:
    """Sign up ``username`` with ``email``: an inactive user and an activation e-mail, or, when the
    address already has an account, only a note to that address. Returns the new user or None.

    An earlier sign-up with the same address that was never confirmed (inactive, never signed
    in) is replaced: only the owner of the address can confirm either. The caller has validated
    the password; it is hashed in both cases so that both take the same time.
    """
    hashed = make_password(password)
    taken = User.objects.filter(email__iexact=email).first()
    if taken is not None and (taken.is_active or taken.last_login is not None):
        _mail(email, "registration/signup_taken_email.txt", {"user": taken, "login_url": site_url(reverse("login"))})
        return None
    if taken is not None:
        taken.delete()  # an unconfirmed sign-up of the same address
    user = User(username=username, email=email, password=hashed, is_active=False)
    user.full_clean()
    user.save()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = site_url(reverse("accounts:activate", args=[uid, activation_tokens.make_token(user)]))
    _mail(email, "registration/signup_activation_email.txt", {"user": user, "link": link})
    return user


def user_activate(*, uidb64: str, token: str) -> User | None:
    """Activate the user of an activation link; None if the link is invalid or used."""
    try:
        user = User.objects.get(pk=urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    if not activation_tokens.check_token(user, token):
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    email_mark_verified(user=user)  # the link was sent to the address: it is confirmed
    return user


def _mail(to: str, template: str, context: dict) -> None:
    subject, _newline, body = render_to_string(template, context).strip().partition("\n")
    send_mail(subject.strip(), body.strip() + "\n", None, [to])


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
    link = site_url(reverse("accounts:verify_email", args=[email_verification_token(user=user)]))
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
