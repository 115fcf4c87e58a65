"""Writes on providers as businesses: applying to list one, and its regions.

Every service validates with ``full_clean()`` before saving, so a rule broken here fails the same
way whether the call comes from a form, a feed or a shell. Offers are written by
marketplace/services.py, sync connections by sync/services.py.
"""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from providers.models import Certification, Membership, Provider, Region


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "provider"
    slug, n = base, 1
    while Provider.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def provider_approve(*, provider: Provider, by: User | None = None) -> bool:
    """List an approved provider's offers in the catalog, recording who approved it and when;
    False if it was approved already (nothing changes then)."""
    return _provider_status_set(provider, Provider.Status.APPROVED, by=by)


def provider_suspend(*, provider: Provider, by: User | None = None) -> bool:
    """Hide a provider and its offers from the catalog (nothing is deleted); False if it was suspended already."""
    return _provider_status_set(provider, Provider.Status.SUSPENDED, by=by)


@transaction.atomic
def _provider_status_set(provider: Provider, status: str, *, by: User | None) -> bool:
    # A row lock, then a save (not a queryset update): the change enters the provider's history.
    current = Provider.objects.select_for_update().get(pk=provider.pk)
    if current.status == status:
        provider.status = status
        return False
    current.status = status
    if status == Provider.Status.APPROVED:
        current.approved_by, current.approved_at = by, timezone.now()
    if by is not None:
        current._history_user = by  # the admin who did it, also outside a request (a shell, a command)
    current.save()
    provider.status, provider.approved_by_id, provider.approved_at = status, current.approved_by_id, current.approved_at
    return True


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


def region_update(*, region: Region, code: str, country: str, city: str = "", name: str = "") -> Region:
    """Change a region. Its offers keep a copy of its country: change a region that has offers
    with marketplace.services.offers_region_update, which moves them with it."""
    region.code, region.country, region.city, region.name = code, country, city, name
    region.full_clean()
    region.save()
    return region


def regions_upsert(*, provider: Provider, regions: Iterable) -> dict[str, Region]:
    """Create or update the regions an inventory declares; return all the provider's regions by code.

    ``regions`` have a ``code``, a ``country`` (ISO 3166-1 alpha-2), a ``city`` and a ``name``
    (marketplace.inventory.NormalizedRegion); fields left empty keep what the dashboard has.
    """
    existing = {region.code: region for region in Region.objects.filter(provider=provider)}
    created, changed = [], []
    for item in regions:
        region = existing.get(item.code)
        if region is None:
            region = Region(provider=provider, code=item.code, country=item.country, city=item.city, name=item.name)
            created.append(region)
            existing[item.code] = region
            continue
        wanted = {"country": item.country, "city": item.city or region.city, "name": item.name or region.name}
        current = {"country": region.country.code, "city": region.city, "name": region.name}
        if wanted != current:
            for name, value in wanted.items():
                setattr(region, name, value)
            changed.append(region)
    Region.objects.bulk_create(created)
    Region.objects.bulk_update(changed, ["country", "city", "name"])
    return existing
