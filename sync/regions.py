"""Where an inventory's regions are: what the answer states, else the region mappings (data).

``inventory_locate`` is what the engine does between parsing and applying: a region whose answer
states its country keeps it; one that does not is looked up in ``RegionMapping`` for the
connection's adapter kind; one that neither places stays without a country, so its offers are
held back (and go to the review queue) unless the provider has that region on its dashboard.
Nothing here guesses a country from a code. ``regions_unknown_record`` puts the codes nothing
placed into the admin review queue (the engine calls it in the apply's transaction).
"""

from dataclasses import replace
from datetime import datetime

from marketplace.inventory import NormalizedRegion, ParsedInventory
from providers.models import Provider
from sync.models import RegionMapping, RegionReview


def inventory_locate(*, kind: str, inventory: ParsedInventory) -> ParsedInventory:
    """``inventory`` with each region placed by the answer or by a mapping of ``kind`` (one query)."""
    codes = {region.code for region in inventory.regions if not region.country}
    codes |= {offer.region for offer in inventory.offers if offer.region} - {r.code for r in inventory.regions}
    if not codes:
        return inventory
    mappings = {mapping.code: mapping for mapping in RegionMapping.objects.filter(kind=kind, code__in=codes)}
    regions = []
    for region in inventory.regions:
        mapping = mappings.get(region.code)
        if region.country or mapping is None:
            regions.append(region)
            continue
        regions.append(_placed(region, mapping))
    declared = {region.code for region in regions}
    # Offers may name a region the answer describes nowhere else (RunPod's data centers).
    regions += [
        _placed(NormalizedRegion(code, ""), mappings[code]) for code in sorted(codes - declared) if code in mappings
    ]
    return replace(inventory, regions=regions)


def _placed(region: NormalizedRegion, mapping: RegionMapping) -> NormalizedRegion:
    return NormalizedRegion(
        code=region.code,
        country=mapping.country.code,
        city=region.city or mapping.city,
        name=region.name or mapping.name,
        countries=tuple(country.code for country in mapping.other_countries),
    )


def region_descriptions(inventory: ParsedInventory) -> dict[str, str]:
    """Each region code the answer describes -> the provider's own words for it."""
    return {region.code: region.name for region in inventory.regions if region.name}


def regions_unknown_record(
    *, kind: str, provider: Provider, regions: dict[str, int], descriptions: dict[str, str], now: datetime
) -> None:
    """Put region codes nothing placed into the admin review queue, with the provider's own words.

    ``regions`` maps each code to the offers held back because of it. A code reviewed before but
    unknown again (its mapping was deleted) goes back into the queue. Called by the engine in the
    apply's transaction.
    """
    for code, held in sorted(regions.items()):
        if not code:
            continue
        review, _created = RegionReview.objects.get_or_create(kind=kind, code=code, defaults={"first_seen_at": now})
        review.description = (descriptions.get(code) or review.description)[:200]
        review.offers_held, review.last_seen_at, review.resolved_at = held, now, None
        review.save(update_fields=["description", "offers_held", "last_seen_at", "resolved_at"])
        review.providers.add(provider)
