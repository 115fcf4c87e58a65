"""Sign up, sign in and out, password change and reset, profile."""

import re
from urllib.parse import urlparse

from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from portal.testing import PASSWORD, make_user

NEW_PASSWORD = "a-much-better-passphrase-42"


def test_the_auth_urls_keep_djangos_names_and_ours_are_namespaced():
    assert reverse("login") == "/accounts/login/"
    assert reverse("logout") == "/accounts/logout/"
    assert reverse("password_reset") == "/accounts/password_reset/"
    assert reverse("accounts:signup") == "/accounts/signup/"
    assert reverse("accounts:profile") == "/accounts/profile/"
    assert reverse("accounts:apply_provider") == "/accounts/apply/"


def signup(client, username: str = "erin", email: str = "erin@example.com"):
    data = {"username": username, "email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    return client.post(reverse("accounts:signup"), data)


def test_signup_mails_a_link_that_activates_the_account_and_signs_in(client, db):
    assert client.get(reverse("accounts:signup")).status_code == 200
    response = signup(client)
    assert response.status_code == 200 and "Check your inbox" in response.text
    user = User.objects.get(username="erin")
    assert user.email == "erin@example.com" and user.check_password(NEW_PASSWORD)
    assert not user.is_active  # until the address is confirmed
    assert client.post(reverse("login"), {"username": "erin", "password": NEW_PASSWORD}).status_code == 200

    (message,) = mail.outbox
    assert message.to == ["erin@example.com"]
    link = re.search(r"https?://\S+/accounts/activate/\S+/", message.body).group(0)
    response = client.get(urlparse(link).path, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert response.context["user"] == user and User.objects.get(pk=user.pk).is_active
    # The link works once.
    client.post(reverse("logout"))
    assert client.get(urlparse(link).path).url == reverse("login")


def test_signup_does_not_reveal_that_an_address_has_an_account(client, alice):
    new = signup(client, "erin", "erin@example.com")
    taken = signup(client, "mallory", "Alice@Example.com")

    assert taken.status_code == new.status_code == 200

    def page(response) -> str:
        return re.sub(r'(value=|X-CSRFToken": )"[A-Za-z0-9]{64}"', "", response.text)

    assert page(taken) == page(new)
    assert not User.objects.filter(username="mallory").exists()
    assert [m.to for m in mail.outbox] == [["erin@example.com"], ["Alice@Example.com"]]
    assert "already has one: alice" in mail.outbox[1].body


def test_an_unconfirmed_signup_does_not_hold_the_address(client, db):
    signup(client, "squatter", "victim@example.com")
    signup(client, "victim", "victim@example.com")
    assert list(User.objects.values_list("username", flat=True)) == ["victim"]


def test_signup_validates(client, alice):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "ALICE", "email": "Alice@Example.com", "password1": "123", "password2": "1234"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["username"] == ["A user with that username already exists."]
    assert "email" not in errors
    assert "password2" in errors
    assert User.objects.count() == 1


def test_signup_needs_an_email(client, db):
    response = client.post(
        reverse("accounts:signup"), {"username": "erin", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.context["form"].errors == {"email": ["This field is required."]}


def test_login_and_logout(client, alice):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200

    assert client.get(reverse("logout")).status_code == 405  # signing out is a POST
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_login_with_a_wrong_password(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_login_returns_to_the_page_asked_for(client, alice, acme):
    url = reverse("dashboard:offer_list", args=[acme.slug])
    response = client.get(url)
    assert response["Location"] == f"{reverse('login')}?next={url}"
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD, "next": url})
    assert response["Location"] == url


def test_password_change(client, alice):
    client.force_login(alice)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    assert client.get(response["Location"]).status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_password_reset_by_email(client, alice):
    assert client.get(reverse("password_reset")).status_code == 200
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert client.get(response["Location"]).status_code == 200

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your password on testserver"
    assert "Hello alice" in message.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)  # Django swaps the token for a session and redirects
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)

    used = client.get(link, follow=True)
    assert not used.context["validlink"]
    assert "This link no longer works" in used.text


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_profile_needs_login(client, db):
    response = client.get(reverse("accounts:profile"))
    assert response["Location"].startswith(reverse("login"))


def test_profile_lists_memberships_with_dashboard_links(client, alice, acme):
    other = make_user("other")
    client.force_login(alice)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert reverse("dashboard:provider", args=[acme.slug]) in response.text
    assert reverse("password_change") in response.text
    assert other.username not in response.text
