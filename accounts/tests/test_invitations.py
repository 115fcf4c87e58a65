"""A team invitation's link: the token is the permission to see it; only the invited address's
account accepts it, once; a new person signs up with that address, then opens the link again."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.tests.test_accounts import signup
from portal.testing import make_user
from providers import services
from providers.models import Invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(acme, alice, django_capture_on_commit_callbacks):
    """Alice's invitation of erin@example.com to Acme as owner, and the link e-mailed to erin."""
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(provider=acme, by=alice, email="erin@example.com", role="owner")
    link = re.search(r"https?://[^/]+(/accounts/invitations/[\w-]+/)", mail.outbox[-1].body).group(1)
    return invitation, link


def members(provider) -> list[tuple[str, str]]:
    return sorted(provider.memberships.values_list("user__username", "role"))


def test_anyone_with_the_link_sees_who_invites_whom_and_how_to_sign_in(client, invited):
    invitation, link = invited
    page = client.get(link)
    assert page.status_code == 200
    assert "alice invites erin@example.com to join as Owner." in page.text
    assert f'href="{reverse("login")}?next={link}"' in page.text
    assert "Create an account" in page.text and "Accept" not in page.text
    assert client.post(link).status_code == 200  # anonymous: nothing happens
    assert client.get("/accounts/invitations/not-a-token/").status_code == 404
    assert members(invitation.provider) == [("alice", "owner"), ("bob", "staff")]


def test_a_newcomer_signs_up_with_the_address_then_accepts(client, invited, acme):
    _invitation, link = invited
    signup(client, "erin", "Erin@Example.com")
    activation = re.search(r"https?://[^/]+(/accounts/activate/\S+/)", mail.outbox[-1].body).group(1)
    client.get(activation)  # signs in
    page = client.get(link)
    assert "Accept and join the team" in page.text
    response = client.post(link, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:provider", args=[acme.slug])
    assert "Welcome to the team of Acme GPU, as Owner." in response.text
    assert members(acme) == [("alice", "owner"), ("bob", "staff"), ("erin", "owner")]


def test_another_account_is_refused_with_a_way_to_switch(client, invited, charlie, acme):
    _invitation, link = invited
    client.force_login(charlie)
    page = client.get(link)
    refused = client.post(link)
    assert page.status_code == refused.status_code == 403
    assert "You are signed in as charlie@example.com, but this invitation is for erin@example.com" in page.text
    assert f'name="next" value="{link}"' in page.text  # sign out, back to the invitation
    assert members(acme) == [("alice", "owner"), ("bob", "staff")]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"accepted_at": timezone.now()}, "already accepted"),
        ({"revoked_at": timezone.now()}, "withdrawn by the team"),
        ({"expires_at": timezone.now()}, "has expired"),
    ],
    ids=["used", "withdrawn", "expired"],
)
def test_a_used_withdrawn_or_expired_link_is_gone_and_says_why(client, invited, acme, change, reason):
    invitation, link = invited
    Invitation.objects.filter(pk=invitation.pk).update(**change)
    client.force_login(make_user("erin"))
    page = client.get(link)
    accepted = client.post(link)
    assert page.status_code == accepted.status_code == 410
    assert reason in page.text
    assert members(acme) == [("alice", "owner"), ("bob", "staff")]
