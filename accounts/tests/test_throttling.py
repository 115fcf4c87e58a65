"""Brute force: logins lock out (django-axes); sign-up, password reset and provider applications
are rate limited ("test connection" too: dashboard/tests/test_dashboard_connection_test.py)."""

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from portal.testing import PASSWORD
from providers.models import Provider

pytestmark = pytest.mark.django_db


def sign_in(client, password: str, ip: str = "203.0.113.7"):
    return client.post(reverse("login"), {"username": "alice", "password": password}, REMOTE_ADDR=ip)


def test_wrong_passwords_lock_the_account_out_even_for_the_right_one(client, alice, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "guess").status_code == 200
    locked = sign_in(client, "guess")
    assert locked.status_code == 429 and "Sign-in locked for a while" in locked.text

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_holds_for_that_address_only(client, alice, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "guess")
    assert sign_in(client, PASSWORD, ip="198.51.100.2").status_code == 302


def test_a_success_resets_the_count(client, alice, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "guess")
    assert sign_in(client, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert sign_in(client, "guess").status_code == 200  # counting from zero again


def test_login_attempts_are_rate_limited_per_address(client, db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/m"}
    for n in range(3):
        client.post(reverse("login"), {"username": f"user{n}", "password": "x"}, REMOTE_ADDR="203.0.113.9")
    response = client.post(reverse("login"), {"username": "user9", "password": "x"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and response["Retry-After"]


def test_sign_ups_are_rate_limited(client, db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "2/h"}
    password = "a-much-better-passphrase-42"
    for n in range(3):
        data = {"username": f"erin{n}", "email": f"erin{n}@example.com", "password1": password, "password2": password}
        response = client.post(reverse("accounts:signup"), data)
        client.cookies.clear()
    assert response.status_code == 429
    assert User.objects.count() == 2


def test_password_resets_are_rate_limited(client, alice, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "2/h"}
    for _attempt in range(3):
        response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 429
    assert len(mail.outbox) == 2


def test_provider_applications_are_rate_limited_per_user(client, dave, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "provider_application": "1/h"}
    client.force_login(dave)
    data = {"name": "Dave Cloud", "hq_country": "FR", "contact_email": "d@example.com"}
    client.post(reverse("accounts:apply_provider"), data)
    response = client.post(reverse("accounts:apply_provider"), {**data, "name": "Dave Cloud 2"})
    assert response.status_code == 429
    assert Provider.objects.filter(name__startswith="Dave").count() == 1
