"""Team services: only owners manage the team, and a provider never loses its last owner."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from providers import services
from providers.models import Membership

pytestmark = pytest.mark.django_db


def test_membership_add_adds_an_existing_active_user(acme, alice, dave):
    added = services.membership_add(provider=acme, by=alice, email=" Dave@Example.com ", role="owner")
    assert (added.user, added.role) == (dave, "owner")
    assert added.history.latest().history_user == alice


def test_membership_add_refuses_unknown_inactive_and_existing_members(acme, alice, bob, dave):
    dave.is_active = False
    dave.save()
    for email in ["nobody@example.com", dave.email, bob.email]:
        with pytest.raises(ValidationError) as error:
            services.membership_add(provider=acme, by=alice, email=email)
        assert "email" in error.value.message_dict
    assert acme.memberships.count() == 2


def test_only_owners_manage_the_team(acme, alice, bob, dave):
    alice_membership = Membership.objects.get(provider=acme, user=alice)
    with pytest.raises(PermissionDenied):
        services.membership_add(provider=acme, by=bob, email=dave.email)
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
