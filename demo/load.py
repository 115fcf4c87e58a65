"""Loading the demo into the database; every step is idempotent (``manage.py load_demo``)."""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.http import QueryDict
from django.urls import reverse

from accounts.services import email_is_verified, email_mark_verified
from deals.forms import add_months
from deals.models import CapacityRequest
from deals.services import request_file, saved_search_create
from demo.feeds import feed_for, offer_history
from demo.partners import PARTNERS, PARTNERS_BY_SLUG, PROVIDER_USER_PARTNER, partner_offers
from demo.quotes import AUTOMATIC, demo_quotes
from marketplace.models import GpuAlias, GpuModel, Offer
from marketplace.services import offer_create, snapshots_record
from portal.lib.urls import site_url
from providers.models import Certification, Membership, Provider, ProviderCertification, Region
from sync.engine import sync_connection_run
from sync.models import SyncConnection, SyncRun

CONNECTION_NAME = "Demo inventory feed"
SANDBOX_SLUG = "sandbox-cloud"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


LOGINS = (
    DemoLogin("admin", "admin", "superuser: Django admin"),
    DemoLogin("provider", "provider", "owner of Lambda and of Sandbox Cloud: provider dashboard"),
    DemoLogin("developer", "developer", "developer: a capacity request with two quotes, saved searches"),
)


def demo_gpu_names_unknown() -> list[str]:
    """GPU names used by the demo feeds that the GPU catalogue cannot resolve (should be none)."""
    queries = {offer.gpu_query for partner in PARTNERS for offer in partner_offers(partner)}
    resolutions = GpuAlias.objects.resolve_facts(queries)
    return sorted({query.name for query, resolution in resolutions.items() if not resolution.resolved})


def demo_feed_url(slug: str) -> str:
    return site_url(reverse("demo:feed", args=[slug]))


@transaction.atomic
def demo_partners_load(*, now: datetime) -> list[SyncConnection]:
    """Create or update the ten partners (approved), their regions and one feed connection each.

    The connections point at the feeds this portal serves under /demo/ and are due at ``now``.
    """
    connections = []
    for partner in PARTNERS:
        provider, _ = Provider.objects.update_or_create(
            slug=partner.slug,
            defaults={
                "name": partner.name,
                "hq_country": partner.hq_country,
                "website": partner.website,
                # A made-up address (.example is reserved): what an accepted quote hands over.
                "contact_email": f"sales@{partner.slug}.example",
                "description": partner.description,
                "status": Provider.Status.APPROVED,
                "legal_entity": partner.operator.legal_entity,
                "incorporation_country": partner.operator.country,
                "parent_name": partner.operator.parent_name,
                "parent_country": partner.operator.parent_country,
                "dpa_offered": partner.operator.dpa_offered,
            },
        )
        regions = {}
        for region in partner.regions:
            regions[region.code], _ = Region.objects.update_or_create(
                provider=provider,
                code=region.code,
                defaults={"country": region.country, "city": region.city, "name": region.name},
            )
        _certifications_load(provider, partner, regions, now=now)
        connection, _ = SyncConnection.objects.update_or_create(
            provider=provider,
            name=CONNECTION_NAME,
            defaults={
                "kind": SyncConnection.FEED,
                "base_url": demo_feed_url(partner.slug),
                "interval_seconds": partner.interval_seconds,
                "enabled": True,
                "next_sync_at": now,
            },
        )
        connections.append(connection)
    return connections


def _certifications_load(provider: Provider, partner, regions: dict[str, Region], *, now: datetime) -> None:
    """The partner's certification records, made again on every load (valid from ``now``)."""
    provider.certification_records.all().delete()
    certifications = {cert.slug: cert for cert in Certification.objects.all()}
    for item in partner.certification_records:
        record = ProviderCertification.objects.create(
            provider=provider,
            certification=certifications[item.slug],
            scope=ProviderCertification.Scope.REGIONS if item.regions else ProviderCertification.Scope.PROVIDER,
            issuer=item.issuer,
            valid_until=now.date() + timedelta(days=item.valid_days),
            verified_at=now if item.verified else None,
        )
        record.regions.set(regions[code] for code in item.regions)


@transaction.atomic
def demo_users_load() -> None:
    """The three demo logins. Existing users keep their password and flags."""
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.com", "admin")
    provider_user = User.objects.filter(username="provider").first()
    if provider_user is None:
        provider_user = User.objects.create_user("provider", "provider@example.com", "provider")
    Membership.objects.get_or_create(
        user=provider_user,
        provider=Provider.objects.get(slug=PROVIDER_USER_PARTNER),
        defaults={"role": Membership.Role.OWNER},
    )
    # An empty organisation of the same user, to try the real-API adapters against the demo's mock
    # APIs (/demo/api/<kind>) from the dashboard without mixing with Lambda's feed offers.
    sandbox, _ = Provider.objects.get_or_create(
        slug=SANDBOX_SLUG,
        defaults={
            "name": "Sandbox Cloud",
            "hq_country": "DE",
            "description": "A demo organisation with no offers of its own: connect one of the demo APIs.",
            "status": Provider.Status.APPROVED,
        },
    )
    Membership.objects.get_or_create(user=provider_user, provider=sandbox, defaults={"role": Membership.Role.OWNER})
    if not User.objects.filter(username="developer").exists():
        User.objects.create_user("developer", "developer@example.com", "developer")
    for user in User.objects.filter(username__in=[login.username for login in LOGINS]):
        if not email_is_verified(user=user):
            email_mark_verified(user=user)  # demo addresses: nothing to confirm


def demo_feeds_sync(*, connections: list[SyncConnection], now: datetime) -> list[tuple[SyncConnection, SyncRun | None]]:
    """Apply each partner's feed as of ``now`` in-process (no HTTP), so the catalog is full at once.

    The feeds are complete: offers that the live feed happens to leave out at this minute are
    included too, so that every demo offer exists after the first load. A connection's run is
    None when a worker was syncing it at that moment (it then does the job).
    """
    runs = []
    for connection in connections:
        feed = feed_for(PARTNERS_BY_SLUG[connection.provider.slug], now=now, complete=True)
        runs.append((connection, sync_connection_run(connection=connection, payload=json.dumps(feed).encode())))
    return runs


# Offers the demo provider user maintains by hand (not in its API feed), so that editing one in
# the dashboard sticks instead of being overwritten by the next sync.
# Reserved 8-GPU NVLink/InfiniBand nodes; each entry: id, region, GPU, shape, term, price, nodes.
_CLUSTER = dict(gpus_per_node=8, storage_gb=22000, gpu_interconnect="nvlink", network="infiniband")
MANUAL_OFFERS = tuple(
    dict(
        _CLUSTER,
        external_id=external_id,
        region=region,
        gpu=gpu,
        vcpus=vcpus,
        ram_gb=ram_gb,
        pricing_type="reserved",
        min_term_months=term,
        price_per_gpu_hour=Decimal(price),
        nodes_available=available,
        nodes_total=total,
    )
    for external_id, region, gpu, vcpus, ram_gb, term, price, available, total in (
        ("1cc-b200-us-east-1", "us-east-1", "b200", 224, 2900, 6, "3.49", 16, 64),
        ("1cc-h200-us-south-1", "us-south-1", "h200", 208, 2200, 12, "2.79", 8, 32),
        ("1cc-h100-europe-central-1", "europe-central-1", "h100-sxm", 208, 1800, 3, "2.19", 12, 24),
    )
)


def demo_manual_offers_load() -> int:
    """Create the demo provider's hand-maintained offers once; later edits made in the dashboard stay."""
    provider = Provider.objects.get(slug=PROVIDER_USER_PARTNER)
    created = 0
    for values in MANUAL_OFFERS:
        if Offer.objects.filter(provider=provider, external_id=values["external_id"]).exists():
            continue
        fields = dict(values)
        fields["region"] = provider.regions.get(code=fields["region"])
        fields["gpu_model"] = GpuModel.objects.get(slug=fields.pop("gpu"))
        offer_create(provider=provider, **fields)
        created += 1
    return created


@transaction.atomic
def demo_history_backfill(*, now: datetime, days: int = 7) -> int:
    """Give demo offers with fewer than two snapshots a week of price and availability history,
    computed from the same functions as the live feeds, so offer pages show charts at once.

    Returns the number of snapshots created; a second call creates none.
    """
    demo_offers = {(partner.slug, offer.id): offer for partner in PARTNERS for offer in partner_offers(partner)}
    offers = (
        Offer.objects.filter(provider__slug__in=PARTNERS_BY_SLUG, source=Offer.Source.SYNC)
        .annotate(snapshot_count=Count("snapshots"))
        .filter(snapshot_count__lt=2)
        .select_related("provider")
    )
    snapshots = []
    for offer in offers:
        demo_offer = demo_offers.get((offer.provider.slug, offer.external_id))
        if demo_offer is None:
            continue
        # Never above the offer's current total, which an admin may have lowered.
        cap = offer.nodes_total if offer.nodes_total is not None else demo_offer.nodes_total
        first = offer.snapshots.order_by("recorded_at").values_list("recorded_at", flat=True).first()
        snapshots += [
            (offer.pk, at, price, min(nodes, cap))
            for at, price, nodes in offer_history(demo_offer, until=first or now, days=days)
        ]
    snapshots_record(snapshots)
    return len(snapshots)


DEMO_REQUEST_NOTES = "Pre-training run; 30 TB of shared storage. (The demo developer's request.)"


def demo_request_load(*, today: date) -> CapacityRequest | None:
    """The developer login's capacity request, once: 64 H100 in the EU for three months from
    the first day of next month, with quotes from two of the demo partners it reached.

    Returns the request when it was created now, None when the developer already has one.
    """
    developer = User.objects.get(username="developer")
    if CapacityRequest.objects.filter(developer=developer).exists():
        return None
    start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    capacity_request = request_file(
        developer=developer,
        organisation="Example Research Lab",
        gpu_models=list(GpuModel.objects.filter(slug="h100-sxm")),
        gpu_count=64,
        country_groups=["eu"],
        start_date=start,
        end_date=add_months(start, 3),
        notes=DEMO_REQUEST_NOTES,
    )
    answering = capacity_request.recipients.filter(provider__slug__in=AUTOMATIC).order_by("provider__name")
    demo_quotes(request_id=capacity_request.pk, provider_ids=list(answering.values_list("provider_id", flat=True)[:2]))
    # The same search saved, with alerts: a matching offer added later (say by the provider
    # login, on Lambda's dashboard) is e-mailed to the developer (on the console in the demo).
    saved_search_create(user=developer, name="H100 in the EU", params=QueryDict("gpu=h100-sxm&region_group=eu"))
    return capacity_request
