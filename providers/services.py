"""Writes made from the provider dashboard and the provider application form.

Every service validates with ``full_clean()`` before saving, so a rule broken here fails the same
way whether the call comes from a form, a CSV import or a shell. Offers are never deleted.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from marketplace.models import Offer, OfferSnapshot
from providers.models import Certification, Membership, Provider, Region, SyncConnection

# The fields a provider may set on an offer; everything else (status, provenance, freshness)
# is managed by the services.
OFFER_FIELDS = frozenset({"region", "gpu_model", "external_id", *Offer.SPEC_FIELDS})


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "provider"
    slug, n = base, 1
    while Provider.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def provider_apply(
    *,
    user: User,
    name: str,
    hq_country: str,
    website: str = "",
    contact_email: str = "",
    description: str = "",
    certifications: Iterable[Certification] = (),
) -> Provider:
    """Create a provider pending approval, owned by ``user``.

    Nothing of a pending provider is public (the catalog lists approved providers only), but its
    owner can already prepare regions, offers and connections on the dashboard.
    """
    provider = Provider(
        name=name,
        slug=_unique_slug(name),
        hq_country=hq_country,
        website=website,
        contact_email=contact_email,
        description=description,
        status=Provider.Status.PENDING,
    )
    provider.full_clean()
    provider.save()
    provider.certifications.set(certifications)
    Membership.objects.create(user=user, provider=provider, role=Membership.Role.OWNER)
    return provider


# --- Regions -------------------------------------------------------------------------------


def region_create(*, provider: Provider, code: str, country: str, city: str = "", name: str = "") -> Region:
    """Add a region (data centre) to ``provider``; its code is unique within the provider."""
    region = Region(provider=provider, code=code, country=country, city=city, name=name)
    region.full_clean()
    region.save()
    return region


@transaction.atomic
def region_update(*, region: Region, code: str, country: str, city: str = "", name: str = "") -> Region:
    """Change a region; its offers follow it to a new country (offers keep a copy of it)."""
    region.code, region.country, region.city, region.name = code, country, city, name
    region.full_clean()
    region.save()
    # Offer.country is denormalised for the catalog's filters: keep it in step.
    region.offers.exclude(country=region.country).update(country=region.country)
    return region


# --- Offers --------------------------------------------------------------------------------


def offer_external_id_new() -> str:
    """A stable id for an offer entered by hand, for later CSV updates."""
    return f"manual-{uuid.uuid4().hex[:12]}"


def offer_snapshot_record(*, offer: Offer) -> None:
    """Remember the offer's price and availability, for its history chart."""
    OfferSnapshot.objects.create(
        offer=offer, price_per_gpu_hour=offer.price_per_gpu_hour, nodes_available=offer.nodes_available
    )


def _offer_set(offer: Offer, fields: dict[str, Any]) -> None:
    unknown = set(fields) - OFFER_FIELDS
    if unknown:
        raise TypeError(f"not offer fields a provider may set: {sorted(unknown)}")
    for field, value in fields.items():
        setattr(offer, field, value)
    if offer.region_id:
        offer.country = offer.region.country  # Offer.save() does it too, but full_clean() comes first


@transaction.atomic
def offer_create(*, provider: Provider, source: str = Offer.Source.MANUAL, **fields: Any) -> Offer:
    """Create an active offer of ``provider``, verified now.

    ``fields`` are among OFFER_FIELDS; a blank ``external_id`` gets a generated stable one.
    """
    offer = Offer(provider=provider, source=source)
    _offer_set(offer, fields)
    if not offer.external_id:
        offer.external_id = offer_external_id_new()
    offer.mark_verified()
    offer.full_clean()
    offer.save()
    offer_snapshot_record(offer=offer)
    return offer


@transaction.atomic
def offer_update(*, offer: Offer, **fields: Any) -> Offer:
    """Change an offer's fields (among OFFER_FIELDS).

    A hand-maintained offer counts as verified by the edit. A synced offer keeps its sync's
    verification time: the feed stays its source of truth and the next sync may undo the edit.
    """
    # From the database: a ModelForm has already changed the instance in memory.
    before = Offer.objects.filter(pk=offer.pk).values_list("price_per_gpu_hour", "nodes_available").first()
    _offer_set(offer, fields)
    if not offer.external_id:
        offer.external_id = offer_external_id_new()
    if offer.sync_connection_id is None:
        offer.mark_verified()
    offer.full_clean()
    offer.save()
    if before is None or (offer.price_per_gpu_hour, offer.nodes_available) != tuple(before):
        offer_snapshot_record(offer=offer)
    return offer


def offer_withdraw(*, offer: Offer) -> Offer:
    """Take an offer off the catalog; it stays in the database with its history."""
    offer.status = Offer.Status.WITHDRAWN
    offer.full_clean()
    offer.save()
    return offer


def offer_reactivate(*, offer: Offer) -> Offer:
    """List a withdrawn offer again; a hand-maintained one counts as verified now."""
    offer.status = Offer.Status.ACTIVE
    if offer.sync_connection_id is None:
        offer.mark_verified()
    offer.full_clean()
    offer.save()
    return offer


def offer_confirm_available(*, offer: Offer) -> Offer:
    """The provider vouches that a hand-maintained offer is still accurate: it is fresh again."""
    if offer.sync_connection_id is not None:
        raise ValidationError(_("This offer is verified by its sync connection, not by hand."))
    offer.mark_verified()
    offer.full_clean()
    offer.save()
    return offer


# --- Sync connections ----------------------------------------------------------------------


def connection_create(
    *,
    provider: Provider,
    kind: str,
    name: str,
    base_url: str,
    interval_seconds: int,
    api_key: str = "",
) -> SyncConnection:
    """Add a sync connection, due at once; ``api_key`` is stored encrypted."""
    connection = SyncConnection(
        provider=provider, kind=kind, name=name, base_url=base_url, interval_seconds=interval_seconds
    )
    connection.set_credentials(api_key)
    connection.full_clean()
    connection.save()
    return connection


# The columns a provider edits. A sync run writes the others (health, schedule) at any moment,
# so saves from the dashboard name their columns and never write back a stale copy of those.
CONNECTION_SETTINGS = ["kind", "name", "base_url", "interval_seconds", "credentials_encrypted"]
RESUME = {"paused_at": None, "enabled": True, "consecutive_failures": 0}


def connection_update(
    *,
    connection: SyncConnection,
    kind: str,
    name: str,
    base_url: str,
    interval_seconds: int,
    api_key: str = "",
    remove_credentials: bool = False,
) -> SyncConnection:
    """Change a connection. A blank ``api_key`` keeps the stored one unless ``remove_credentials``.

    Saving is how a provider says "fixed": a connection paused after repeated failures resumes
    (its failure count starts again) and is due at once; so is any enabled connection, to try
    the new settings without waiting. A connection paused by hand stays paused.
    """
    # As the database has them now: a run may have paused the connection since it was loaded.
    connection.refresh_from_db(fields=["enabled", "paused_at"])
    connection.kind, connection.name = kind, name
    connection.base_url, connection.interval_seconds = base_url, interval_seconds
    if api_key:
        connection.set_credentials(api_key)
    elif remove_credentials:
        connection.set_credentials("")
    fields = list(CONNECTION_SETTINGS)
    if connection.paused_at is not None:
        for field, value in RESUME.items():
            setattr(connection, field, value)
        fields += list(RESUME)
    if connection.enabled:
        connection.next_sync_at = timezone.now()
        fields.append("next_sync_at")
    connection.full_clean()
    connection.save(update_fields=fields)
    return connection


def connection_set_enabled(*, connection: SyncConnection, enabled: bool) -> SyncConnection:
    """Pause or resume scheduled syncs; a resumed connection is due at once.

    Resuming a connection paused after repeated failures also starts its failure count again.
    """
    connection.refresh_from_db(fields=["paused_at"])
    connection.enabled = enabled
    fields = ["enabled"]
    if enabled:
        connection.next_sync_at = timezone.now()
        fields.append("next_sync_at")
        if connection.paused_at is not None:
            connection.paused_at, connection.consecutive_failures = None, 0
            fields += ["paused_at", "consecutive_failures"]
    connection.full_clean()
    connection.save(update_fields=fields)
    return connection


def connection_sync_request(*, connection: SyncConnection) -> None:
    """Queue a sync of ``connection`` now, once the current transaction commits."""
    from providers.tasks import sync_connection_task  # tasks import the sync engine: load it lazily

    sync_connection_task.delay_on_commit(connection.pk)
