"""A demo partner's inventory at a given moment, as an open provider feed (v1.1) dict.

Availability is a pure function of the offer and the time, so every process (the web server
serving the feed, ``load_demo``, the tests) computes the same figures without shared state:
  - each offer changes its availability every 1 to 8 minutes (its own step, from a hash), along
    a slow wave of utilisation plus noise, so the catalog visibly moves as syncs run;
  - now and then an offer is sold out (0 nodes) or missing from the feed for one step (the
    sync withdraws it, and the next step brings it back);
  - on-demand and reserved prices drift by a couple of percent over weeks; spot prices move
    hourly.
"""

import hashlib
import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from demo.partners import EUR_PER_USD, PARTNERS_BY_SLUG, DemoOffer, Partner, partner_offers

FEED_FORMAT = "gpu-marketplace-feed"
FEED_VERSION = 1.1
SOLD_OUT_CHANCE = 0.04
MISSING_CHANCE = 0.012


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for ``parts`` (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def availability_step_seconds(offer: DemoOffer) -> int:
    return 60 * (1 + int(_unit(offer.id, "step") * 8))


def offer_state(offer: DemoOffer, at: datetime) -> tuple[Decimal, int | None]:
    """``(price per GPU-hour, nodes available)`` of ``offer`` at ``at``; nodes is None when the
    offer is briefly missing from the feed."""
    seconds = at.timestamp()
    step = int(seconds // availability_step_seconds(offer))
    if _unit(offer.id, step, "missing") < MISSING_CHANCE:
        nodes = None
    elif _unit(offer.id, step, "sold-out") < SOLD_OUT_CHANCE:
        nodes = 0
    else:
        period = 3600 * (2 + 10 * _unit(offer.id, "period"))  # a 2 to 12 hour demand cycle
        phase = 2 * math.pi * _unit(offer.id, "phase")
        noise = _unit(offer.id, step, "noise") - 0.5
        utilisation = 0.6 + 0.3 * math.sin(2 * math.pi * seconds / period + phase) + 0.25 * noise
        nodes = round(offer.nodes_total * (1 - min(max(utilisation, 0.0), 1.0)))

    if offer.pricing_type == "spot":
        drift = 0.08 * math.sin(2 * math.pi * (seconds // 3600) / 24 + 6 * _unit(offer.id, "price"))
    else:
        drift = 0.02 * math.sin(2 * math.pi * (seconds // 86400) / 30 + 6 * _unit(offer.id, "price"))
    price = (offer.price * Decimal(str(1 + round(drift, 4)))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return price, nodes


def feed_for(partner: Partner, *, now: datetime, complete: bool = False) -> dict:
    """The feed ``partner`` serves at ``now``. ``complete`` keeps the briefly missing offers
    (``load_demo`` wants every offer to exist from the start)."""
    offers = []
    for offer in partner_offers(partner):
        price, nodes = offer_state(offer, now)
        if nodes is None:
            if not complete:
                continue
            nodes = 0
        offers.append(
            {
                "id": offer.id,
                "region": offer.region,
                "gpu": offer.gpu,
                "gpus_per_node": offer.gpus_per_node,
                "vcpus": offer.vcpus,
                "ram_gb": offer.ram_gb,
                "storage_gb": offer.storage_gb,
                "gpu_interconnect": offer.gpu_interconnect,
                "network": offer.network,
                "pricing_type": offer.pricing_type,
                "price_per_gpu_hour": str(price),
                "currency": offer.currency,
                "min_term_months": offer.min_term_months,
                "nodes_available": nodes,
                "nodes_total": offer.nodes_total,
                # Stated where the name alone does not say which variant it is.
                **({"gpu_form_factor": offer.gpu_form_factor} if offer.gpu_form_factor else {}),
                **({"gpu_memory_gb": offer.gpu_memory_gb} if offer.gpu_memory_gb else {}),
            }
        )
    return {
        "format": FEED_FORMAT,
        "version": FEED_VERSION,
        "generated_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "provider": {"name": partner.name},
        "regions": [
            {"code": region.code, "country": region.country, "city": region.city, "name": region.name}
            for region in partner.regions
        ],
        "offers": offers,
        "capacity_windows": partner_windows(partner, now=now),
    }


def partner_windows(partner: Partner, *, now: datetime) -> list[dict]:
    """Forward capacity the partner publishes: its first fleet, in its first region, twice its
    largest site, for six months from the first day of next month, a little under list price."""
    if not partner.fleets:
        return []
    fleet, today = partner.fleets[0], now.astimezone(UTC).date()
    region = next(region for region in partner.regions if region.code == fleet.regions[0])
    start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    until = (start + timedelta(days=6 * 31)).replace(day=1)
    price = Decimal(fleet.price) * Decimal("0.85") * (EUR_PER_USD if region.currency == "EUR" else 1)
    return [
        {
            "id": f"window-{fleet.regions[0]}-{start:%Y%m}",
            "region": region.code,
            "gpu": fleet.gpu,
            "gpus": 2 * fleet.nodes[1] * fleet.gpus_per_node,
            "from": start.isoformat(),
            "until": until.isoformat(),
            "price_per_gpu_hour": str(price.quantize(Decimal("0.01"), ROUND_HALF_UP)),
            "currency": region.currency,
        }
    ]


def partner_feed(slug: str, *, now: datetime, complete: bool = False) -> dict | None:
    """The feed of the demo partner ``slug`` at ``now``, or None for an unknown slug."""
    partner = PARTNERS_BY_SLUG.get(slug)
    return feed_for(partner, now=now, complete=complete) if partner else None


def offer_history(offer: DemoOffer, *, until: datetime, days: int = 7, every: timedelta = timedelta(hours=2)):
    """``(time, price, nodes)`` points of ``offer`` over the past ``days``, oldest first, for
    backfilling history charts. Missing steps are skipped."""
    at = until - timedelta(days=days)
    while at < until:
        price, nodes = offer_state(offer, at)
        if nodes is not None:
            yield at, price, nodes
        at += every
