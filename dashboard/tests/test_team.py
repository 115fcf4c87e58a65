"""The team page: owners invite members by e-mail, withdraw invitations, change roles and remove members;
staff see the list and may leave; a provider always keeps an owner."""

import pytest
from django.core import mail
from django.urls import reverse

from providers import services as provider_services
from providers.models import Membership

pytestmark = pytest.mark.django_db


def team_url(provider) -> str:
    return reverse("dashboard:team", args=[provider.slug])


def membership(provider, user) -> Membership:
    return Membership.objects.get(provider=provider, user=user)


def test_the_team_page_lists_members_with_their_role(client, alice, acme):
    client.force_login(alice)
    page = client.get(team_url(acme))
    assert page.status_code == 200
    members = {(m.user.username, m.role) for m in page.context["members"]}
    assert members == {("alice", "owner"), ("bob", "staff")}
    assert "Invite a member" in page.text and "with or without an account" in page.text


def test_an_owner_invites_an_address_and_the_invitation_is_listed_until_accepted(
    client, alice, acme, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboard:member_invite", args=[acme.slug]), {"email": "new@example.com", "role": "owner"}
        )
    assert response.status_code == 302
    [invitation] = acme.invitations.all()
    assert (invitation.email, invitation.role, invitation.invited_by) == ("new@example.com", "owner", alice)
    assert [message.to for message in mail.outbox] == [["new@example.com"]]
    page = client.get(team_url(acme))
    assert "We e-mailed an invitation to new@example.com to join as Owner." in page.text
    assert list(page.context["invitations"]) == [invitation]
    assert f'id="invitation-{invitation.pk}"' in page.text and "Withdraw" in page.text


def test_a_bad_address_or_a_member_s_address_is_refused_on_the_form(client, alice, bob, acme):
    client.force_login(alice)
    url = reverse("dashboard:member_invite", args=[acme.slug])
    bad = client.post(url, {"email": "not an address", "role": "staff"})
    member = client.post(url, {"email": bob.email, "role": "staff"})
    assert bad.status_code == member.status_code == 200
    assert bad.context["invite_form"].errors["email"] == ["Enter a valid email address."]
    assert member.context["invite_form"].errors["email"] == ["This person is already a member of the team."]
    assert not acme.invitations.exists()


def test_an_owner_withdraws_an_invitation(client, alice, acme):
    invitation = provider_services.invitation_create(provider=acme, by=alice, email="new@example.com")
    client.force_login(alice)
    url = reverse("dashboard:invitation_revoke", args=[acme.slug, invitation.pk])
    page = client.post(url, follow=True)
    again = client.post(url, follow=True)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "The invitation to new@example.com is withdrawn." in page.text
    assert "withdrawn by the team" in again.text
    assert not page.context["invitations"]


def test_an_owner_changes_a_role(client, alice, bob, acme):
    client.force_login(alice)
    url = reverse("dashboard:member_role", args=[acme.slug, membership(acme, bob).pk])
    assert client.post(url, {"role": "owner"}).status_code == 302
    assert membership(acme, bob).role == "owner"


def test_the_last_owner_can_be_neither_demoted_nor_removed(client, alice, acme):
    client.force_login(alice)
    own = membership(acme, alice)
    demote = client.post(reverse("dashboard:member_role", args=[acme.slug, own.pk]), {"role": "staff"}, follow=True)
    leave = client.post(reverse("dashboard:member_remove", args=[acme.slug, own.pk]), follow=True)
    assert "keeps at least one owner" in demote.text and "keeps at least one owner" in leave.text
    assert membership(acme, alice).role == "owner"


def test_an_owner_leaves_when_another_owner_remains(client, alice, bob, acme):
    Membership.objects.filter(provider=acme, user=bob).update(role="owner")
    client.force_login(alice)
    response = client.post(reverse("dashboard:member_remove", args=[acme.slug, membership(acme, alice).pk]))
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")
    assert list(acme.memberships.values_list("user__username", "role")) == [("bob", "owner")]


def test_an_owner_removes_a_member(client, alice, bob, acme):
    client.force_login(alice)
    assert (
        client.post(reverse("dashboard:member_remove", args=[acme.slug, membership(acme, bob).pk])).status_code == 302
    )
    assert not acme.memberships.filter(user=bob).exists()
    assert client.get(team_url(acme)).status_code == 200


def test_staff_see_the_team_but_cannot_manage_it(client, alice, bob, acme, dave):
    invitation = provider_services.invitation_create(provider=acme, by=alice, email="new@example.com")
    client.force_login(bob)
    page = client.get(team_url(acme))
    alice_membership = membership(acme, alice)
    refused = [
        client.post(reverse("dashboard:member_invite", args=[acme.slug]), {"email": dave.email}),
        client.post(reverse("dashboard:invitation_revoke", args=[acme.slug, invitation.pk])),
        client.post(reverse("dashboard:member_role", args=[acme.slug, membership(acme, bob).pk]), {"role": "owner"}),
        client.post(reverse("dashboard:member_remove", args=[acme.slug, alice_membership.pk])),
    ]
    assert page.status_code == 200 and page.context["invite_form"] is None
    assert "Only owners can invite members" in page.text and "Withdraw" not in page.text
    assert [response.status_code for response in refused] == [403, 403, 403, 403]
    assert list(acme.invitations.pending()) == [invitation]
    assert sorted(acme.memberships.values_list("user__username", "role")) == [("alice", "owner"), ("bob", "staff")]


def test_staff_may_leave(client, bob, acme):
    client.force_login(bob)
    assert (
        client.post(reverse("dashboard:member_remove", args=[acme.slug, membership(acme, bob).pk])).status_code == 302
    )
    assert not acme.memberships.filter(user=bob).exists()


def test_the_page_costs_the_same_queries_however_many_members(client, alice, acme, django_assert_num_queries):
    from portal.testing import make_user

    client.force_login(alice)
    client.get(team_url(acme))
    with django_assert_num_queries(8) as one:  # the members and the invitations: one query each
        client.get(team_url(acme))
    for name in ["erin", "frank", "grace"]:
        Membership.objects.create(provider=acme, user=make_user(name))
        provider_services.invitation_create(provider=acme, by=alice, email=f"{name}.friend@example.com")
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(team_url(acme)).status_code == 200
