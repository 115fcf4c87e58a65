"""Accounts: signing up without revealing which e-mail addresses have an account.

Sign-up answers the same way whether the address is new or taken: "check your inbox". A new
address gets a link that activates the account; a taken one gets a note to its owner instead
(sign in, or reset the password). An account is active only once its address is confirmed, so
nobody can hold an address they do not read.
"""

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode


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
        _mail(email, "registration/signup_taken_email.txt", {"user": taken, "login_url": _absolute(reverse("login"))})
        return None
    if taken is not None:
        taken.delete()  # an unconfirmed sign-up of the same address
    user = User(username=username, email=email, password=hashed, is_active=False)
    user.full_clean()
    user.save()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = _absolute(reverse("accounts:activate", args=[uid, activation_tokens.make_token(user)]))
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
    return user


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _mail(to: str, template: str, context: dict) -> None:
    subject, _newline, body = render_to_string(template, context).strip().partition("\n")
    send_mail(subject.strip(), body.strip() + "\n", None, [to])
