"""The team page: owners add members who have an account, change roles and remove members;
staff see the list and may leave; a provider always keeps an owner."""

import pytest
from django.core import mail
from django.urls import reverse

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
    assert "Add a member" in page.text and "must first create an account" in page.text


def test_an_owner_adds_a_person_with_an_account_and_they_are_told(
    client, alice, acme, dave, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboard:member_add", args=[acme.slug]), {"email": "DAVE@example.com", "role": "staff"}
        )
    assert response.status_code == 302
    assert membership(acme, dave).role == "staff"
    assert [message.to for message in mail.outbox] == [["dave@example.com"]]
    assert "Acme GPU" in mail.outbox[0].subject
    history = client.get(reverse("dashboard:history", args=[acme.slug])).text
    assert "Team member dave" in history


def test_an_address_without_an_account_is_refused_with_a_clear_message(client, alice, acme):
    client.force_login(alice)
    response = client.post(
        reverse("dashboard:member_add", args=[acme.slug]), {"email": "new@example.com", "role": "staff"}
    )
    assert response.status_code == 200
    assert "No account uses this address" in response.context["add_form"].errors["email"][0]
    assert acme.memberships.count() == 2


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
    client.force_login(bob)
    page = client.get(team_url(acme))
    alice_membership = membership(acme, alice)
    refused = [
        client.post(reverse("dashboard:member_add", args=[acme.slug]), {"email": dave.email}),
        client.post(reverse("dashboard:member_role", args=[acme.slug, membership(acme, bob).pk]), {"role": "owner"}),
        client.post(reverse("dashboard:member_remove", args=[acme.slug, alice_membership.pk])),
    ]
    assert page.status_code == 200 and page.context["add_form"] is None
    assert "Only owners can add members" in page.text
    assert [response.status_code for response in refused] == [403, 403, 403]
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
    with django_assert_num_queries(7) as one:
        client.get(team_url(acme))
    for name in ["erin", "frank", "grace"]:
        Membership.objects.create(provider=acme, user=make_user(name))
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(team_url(acme)).status_code == 200
