"""Team services: owners invite by e-mail and only the invited address accepts; only owners
manage the team, and a provider never loses its last owner."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from providers import services
from providers.models import Invitation, Membership

pytestmark = pytest.mark.django_db


def invite(provider, by, email, role="staff", **extra):
    return services.invitation_create(provider=provider, by=by, email=email, role=role, **extra)


def test_an_invitation_keeps_only_its_token_hash_and_is_pending_for_seven_days(acme, alice):
    invitation = invite(acme, alice, " Erin@Example.com ", "owner")
    assert (invitation.email, invitation.role, invitation.invited_by) == ("Erin@Example.com", "owner", alice)
    assert len(invitation.token_hash) == 64
    assert invitation.expires_at - invitation.created_at == timedelta(days=services.INVITATION_DAYS)
    assert list(acme.invitations.pending()) == [invitation]


def test_the_invitation_is_e_mailed_after_commit_with_its_link(acme, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(acme, alice, "erin@example.com")
    [message] = mail.outbox
    assert message.to == ["erin@example.com"] and "Acme GPU" in message.subject
    token = re.search(r"/accounts/invitations/([\w-]+)/", message.body).group(1)
    assert services.invitation_token_hash(token) == invitation.token_hash
    assert "alice invites you to the team of Acme GPU" in message.body


def test_a_new_invitation_to_the_same_address_replaces_the_pending_one(acme, alice):
    first = invite(acme, alice, "erin@example.com")
    second = invite(acme, alice, "ERIN@example.com", "owner")
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert list(acme.invitations.pending()) == [second]


def test_members_bad_roles_and_too_many_invitations_a_day_are_refused(acme, alice, bob):
    with pytest.raises(ValidationError) as member:
        invite(acme, alice, bob.email.upper())
    with pytest.raises(ValidationError) as role:
        invite(acme, alice, "erin@example.com", "admin")
    for _ in range(services.MAX_INVITATIONS_PER_DAY):
        invite(acme, alice, "erin@example.com")  # each one an e-mail, even to the same address
    with pytest.raises(ValidationError) as too_many:
        invite(acme, alice, "one-more@example.com")
    assert "already a member" in member.value.message_dict["email"][0]
    assert "role" in role.value.message_dict
    assert "in the last 24 hours" in too_many.value.message_dict["email"][0]
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=1))
    invite(acme, alice, "one-more@example.com")  # a day later


def test_accepting_makes_the_invited_account_a_member_once(acme, alice, dave):
    invitation = invite(acme, alice, "DAVE@example.com", "owner")
    membership = services.invitation_accept(invitation=invitation, user=dave)
    assert (membership.user, membership.role) == (dave, "owner")
    assert membership.history.latest().history_user == dave
    invitation.refresh_from_db()
    assert (invitation.accepted_by, invitation.gone_reason) == (dave, "This invitation was already accepted.")
    with pytest.raises(ValidationError):
        services.invitation_accept(invitation=invitation, user=dave)
    assert acme.memberships.filter(user=dave).count() == 1


def test_only_the_invited_address_accepts_and_expired_or_withdrawn_invitations_do_not(acme, alice, dave, charlie):
    forwarded = invite(acme, alice, dave.email)
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=forwarded, user=charlie)
    withdrawn = invite(acme, alice, "erin@example.com")
    services.invitation_revoke(invitation=withdrawn, by=alice)
    expired = invite(acme, alice, charlie.email)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    for invitation, user in [(withdrawn, dave), (expired, charlie)]:
        invitation.refresh_from_db()
        with pytest.raises(ValidationError):
            services.invitation_accept(invitation=invitation, user=user)
    assert "withdrawn" in withdrawn.gone_reason and "expired" in expired.gone_reason
    assert sorted(acme.memberships.values_list("user__username", flat=True)) == ["alice", "bob"]


def test_only_owners_manage_the_team(acme, alice, bob, dave):
    alice_membership = Membership.objects.get(provider=acme, user=alice)
    with pytest.raises(PermissionDenied):
        invite(acme, bob, dave.email)
    with pytest.raises(PermissionDenied):
        services.invitation_revoke(invitation=invite(acme, alice, dave.email), by=bob)
    with pytest.raises(PermissionDenied):
        services.membership_role_set(membership=alice_membership, by=bob, role="staff")
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=alice_membership, by=bob)


def test_the_last_owner_stays(acme, alice, bob):
    own = Membership.objects.get(provider=acme, user=alice)
    with pytest.raises(ValidationError):
        services.membership_role_set(membership=own, by=alice, role="staff")
    with pytest.raises(ValidationError):
        services.membership_remove(membership=own, by=alice)
    services.membership_role_set(membership=Membership.objects.get(user=bob), by=alice, role="owner")
    services.membership_role_set(membership=own, by=alice, role="staff")
    assert Membership.objects.get(user=alice).role == "staff"


def test_a_member_leaves_by_themselves(acme, bob):
    services.membership_remove(membership=Membership.objects.get(provider=acme, user=bob), by=bob)
    assert not acme.memberships.filter(user=bob).exists()


def test_provider_profile_update_is_for_owners(acme, alice, bob):
    with pytest.raises(PermissionDenied):
        services.provider_profile_update(provider=acme, user=bob, data={"website": "https://evil.example"})
    services.provider_profile_update(provider=acme, user=alice, data={"website": " https://acme.example "})
    acme.refresh_from_db()
    assert acme.website == "https://acme.example"
    with pytest.raises(TypeError):
        services.provider_profile_update(provider=acme, user=alice, data={"name": "Renamed"})
