"""A synthetic marketplace of a chosen size in PostgreSQL, the same for the same seed.

500 providers (a few large, many small), 3,000 regions in 80 countries, the full GPU catalogue,
and N offers skewed as real markets are: many H100, A100, L40S and RTX 4090, few GB200; mostly
on-demand, some spot and reserved; some sold out, some with an unknown count, some stale, some
withdrawn, a few from providers not approved. Times are relative to the moment of generation
(fresh offers stay fresh for a week), everything else depends only on the seed.

Offers go in with COPY, with the offer table's secondary indexes dropped during the load and
rebuilt after it: a million offers load in well under a minute.

    python -m bench.generate --offers 100000 [--seed 42] [--force]
"""

import argparse
import os
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from marketplace.fx import price_normalize

BENCH_CERTIFICATIONS = (
    "c5",
    "fedramp",
    "gdpr",
    "hipaa",
    "iso27001",
    "iso27017",
    "iso27018",
    "iso50001",
    "pci-dss",
    "soc2",
)
DATASET_VERSION = 6  # bump when the generator changes, so that reused datasets are rebuilt
DATASET_MAX_AGE = timedelta(days=6)  # fresh offers are generated fresh for 7 days
PROVIDERS = 500
REGIONS = 3000
CONNECTIONS_PER_PROVIDER = 2  # 1,000 sync connections for the dispatcher benchmark

# Relative weights: how common each GPU is in listings, and a typical on-demand price per GPU-hour.
GPU_MIX = {
    "h100-sxm": (18, "2.49"),
    "a100-sxm-80": (10, "1.39"),
    "l40s": (9, "0.95"),
    "rtx-4090": (9, "0.39"),
    "h200": (7, "3.39"),
    "a100-pcie-80": (5, "1.19"),
    "h100-pcie": (5, "2.09"),
    "rtx-3090": (4, "0.22"),
    "l4": (4, "0.45"),
    "a100-sxm-40": (3, "1.09"),
    "a10": (3, "0.50"),
    "rtx-a6000": (3, "0.59"),
    "rtx-6000-ada": (3, "0.89"),
    "rtx-5090": (3, "0.69"),
    "b200": (3, "4.19"),
    "a100-pcie-40": (2, "0.95"),
    "a40": (2, "0.55"),
    "t4": (2, "0.25"),
    "h100-nvl": (2, "2.29"),
    "v100-32": (1, "0.49"),
    "v100-16": (1, "0.35"),
    "h200-nvl": (1, "2.99"),
    "gh200": (1, "3.19"),
    "l40": (1, "0.79"),
    "a30": (1, "0.59"),
    "rtx-a5000": (1, "0.35"),
    "rtx-4000-ada": (1, "0.25"),
    "rtx-pro-6000": (1, "1.39"),
    "b300": (0.5, "4.99"),
    "gb200": (0.3, "5.49"),
    "gb300": (0.2, "6.49"),
}
DEFAULT_GPU = (0.5, "1.00")  # a GPU added to the catalogue after this table was written

# 80 countries, weighted by how much capacity they host.
COUNTRIES = {
    "US": 20, "DE": 6, "GB": 5, "FR": 4, "NL": 4, "CA": 3, "JP": 3, "SG": 3, "SE": 3, "IN": 2,
    "KR": 2, "AU": 2, "FI": 2, "NO": 2, "IE": 2, "ES": 2, "IT": 2, "PL": 2, "CH": 2, "BR": 1.5,
    "AE": 1.5, "SA": 1, "IL": 1, "TW": 1, "HK": 1, "CN": 1, "ID": 1, "MY": 1, "TH": 1, "MX": 1,
    "AT": 1, "BE": 1, "DK": 1, "IS": 1, "VN": 0.5, "PH": 0.5, "NZ": 0.5, "CL": 0.5, "AR": 0.5, "CO": 0.5,
    "ZA": 0.5, "TR": 0.5, "HU": 0.5, "GR": 0.5, "BG": 0.5, "LT": 0.5, "EE": 0.5, "LU": 0.5, "QA": 0.5, "CZ": 0.7,
    "PT": 0.7, "RO": 0.7, "NG": 0.3, "KE": 0.3, "EG": 0.3, "MA": 0.3, "HR": 0.3, "SI": 0.3, "SK": 0.3, "LV": 0.3,
    "UA": 0.3, "BH": 0.3, "PK": 0.3, "PE": 0.3, "CY": 0.2, "MT": 0.2, "RS": 0.2, "KW": 0.2, "OM": 0.2, "JO": 0.2,
    "BD": 0.2, "LK": 0.2, "UY": 0.2, "CR": 0.2, "PA": 0.2, "KZ": 0.2, "GE": 0.2, "AM": 0.2, "LI": 0.1, "MC": 0.1,
}  # fmt: skip
HQ_COUNTRIES = {"US": 40, "DE": 8, "GB": 8, "FR": 6, "NL": 5, "CA": 4, "SG": 4, "JP": 3, "SE": 3, "FI": 2,
                "IN": 3, "KR": 2, "AU": 2, "CH": 2, "IE": 2, "IL": 2, "AE": 2, "BR": 1, "ES": 1, "PL": 1}  # fmt: skip
PRICING = [("on_demand", 60), ("spot", 25), ("reserved", 15)]
RESERVED_TERMS = [1, 3, 6, 12, 12, 24, 36]
STALE_SHARE = 0.08
WITHDRAWN_SHARE = 0.05
SOLD_OUT_SHARE = 0.15
UNKNOWN_COUNT_SHARE = 0.05  # nodes_available NULL: available, count not published
NOT_APPROVED_PROVIDERS = 10

BENCH_GPUS = [
    "gb300", "gb200", "b300", "b200", "gh200", "h200", "h200-nvl", "h100-sxm", "h100-pcie", "h100-nvl",
    "a100-sxm-80", "a100-sxm-40", "a100-pcie-80", "a100-pcie-40", "a30", "l40s", "l40", "l4", "a40", "a10", "t4",
    "v100-32", "v100-16", "rtx-pro-6000", "rtx-6000-ada", "rtx-a6000", "rtx-a5000", "rtx-4000-ada", "rtx-a4500",
    "rtx-a4000", "rtx-2000-ada", "quadro-rtx-6000", "rtx-4080-super", "rtx-5090", "rtx-4090", "rtx-3090",
]  # fmt: skip
OFFER_COLUMNS = [
    "provider_id", "region_id", "country", "gpu_model_id", "gpus_per_node", "vcpus", "ram_gb", "storage_gb",
    "gpu_interconnect", "network", "pricing_type", "min_term_months", "price_per_gpu_hour", "currency",
    "price_normalized", "nodes_available", "nodes_total", "status", "external_id", "source", "sync_connection_id",
    "last_verified_at", "stale_at", "created_at", "updated_at",
]  # fmt: skip


@dataclass
class Dataset:
    offers: int
    seed: int
    seconds: float
    reused: bool


def weighted(rng: random.Random, weights: dict):
    """A sampler over a dict's keys by its values (cumulative weights, drawn with rng)."""
    keys, values = list(weights), list(weights.values())

    def draw():
        return rng.choices(keys, values)[0]

    return draw


def dataset_generate(*, offers: int, seed: int = 42, force: bool = False) -> Dataset:
    """Fill the current database with a marketplace of ``offers`` offers, unless it already has it.

    The database must be migrated. Existing providers, regions and offers are replaced (this is
    meant for a bench database only: it truncates the marketplace tables).
    """
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset (offers integer, seed integer, version integer, "
            "generated_at timestamptz)"
        )
        cursor.execute(
            "SELECT 1 FROM bench_dataset WHERE offers = %s AND seed = %s AND version = %s AND generated_at > %s",
            [offers, seed, DATASET_VERSION, _now() - DATASET_MAX_AGE],
        )
        if cursor.fetchone() and not force:
            return Dataset(offers=offers, seed=seed, seconds=time.perf_counter() - started, reused=True)
    _fill(offers=offers, seed=seed)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute("INSERT INTO bench_dataset VALUES (%s, %s, %s, %s)", [offers, seed, DATASET_VERSION, _now()])
    return Dataset(offers=offers, seed=seed, seconds=time.perf_counter() - started, reused=False)


def _now():
    from django.utils import timezone

    return timezone.now()


def _fill(*, offers: int, seed: int) -> None:
    from django.db import connection, transaction
    from django.utils.text import slugify

    from marketplace.models import ExchangeRate, GpuModel, Offer, OfferSnapshot
    from providers.models import Certification, Provider, ProviderCertification, Region
    from sync.models import SyncConnection

    rng = random.Random(seed)
    now = _now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # CASCADE empties every table that points at providers: regions, offers, snapshots, runs...
            cursor.execute("TRUNCATE providers_provider RESTART IDENTITY CASCADE")
            # CASCADE empties whole tables: the GPU aliases too (some name a provider). Load the
            # catalogue's own again, as the migrations did.
            import importlib

            from django.apps import apps

            importlib.import_module("marketplace.migrations.0013_gpu_identity").catalogue_load(apps, None)
        else:  # SQLite, for small datasets in tests
            OfferSnapshot.objects.all().delete()
            Offer.objects.all().delete()
            Provider.objects.all().delete()

    # Providers: a Zipf-like size distribution, so a few hold most offers.
    hq = weighted(rng, HQ_COUNTRIES)
    # Drawn from the ten slugs the generator always used (the GDPR DPA, now a provider's document,
    # in its slot), so that the random draws, hence every offer, stay as they were.
    held = {cert.slug: cert for cert in Certification.objects.all()}
    certifications = [held.get(slug) for slug in BENCH_CERTIFICATIONS]
    providers = []
    for index in range(PROVIDERS):
        name = f"Bench Cloud {index + 1:03d}"
        status = Provider.Status.APPROVED
        if index >= PROVIDERS - NOT_APPROVED_PROVIDERS:
            status = Provider.Status.PENDING if index % 2 else Provider.Status.SUSPENDED
        country = hq()
        providers.append(
            Provider(
                name=name,
                slug=slugify(name),
                hq_country=country,
                incorporation_country=country,
                parent_country=country,
                status=status,
                website="https://example.com/",
            )
        )
    with transaction.atomic():
        providers = Provider.objects.bulk_create(providers)
        records = []
        for provider in providers:
            for cert in rng.sample(certifications, rng.choice([0, 1, 1, 2, 2, 3, 4])):
                if cert is not None:
                    records.append(
                        ProviderCertification(
                            provider=provider,
                            certification=cert,
                            valid_until=now.date() + timedelta(days=365),
                            verified_at=now,
                        )
                    )
        ProviderCertification.objects.bulk_create(records)
        provider_weights = [1 / (rank + 1) ** 0.8 for rank in range(PROVIDERS)]

        # Regions: every country has at least one; every provider has at least one.
        country = weighted(rng, COUNTRIES)
        region_countries = list(COUNTRIES) + [country() for _ in range(REGIONS - len(COUNTRIES))]
        rng.shuffle(region_countries)
        owners = list(range(PROVIDERS)) + rng.choices(range(PROVIDERS), provider_weights, k=REGIONS - PROVIDERS)
        regions = [
            Region(
                provider=providers[owner],
                code=f"{code.lower()}-{index:04d}",
                name=f"{code} zone {index}",
                country=code,
                city=f"City {index % 97}",
            )
            for index, (owner, code) in enumerate(zip(owners, region_countries, strict=True))
        ]
        regions = Region.objects.bulk_create(regions)
        connections = [
            SyncConnection(
                provider=provider,
                name=f"Feed {n}",
                kind=SyncConnection.FEED,
                base_url=f"http://127.0.0.1:8119/{provider.slug}/{n}.json",
                interval_seconds=300,
                next_sync_at=now + timedelta(days=365),
            )
            for provider in providers
            for n in range(CONNECTIONS_PER_PROVIDER)
        ]
        connections = SyncConnection.objects.bulk_create(connections)

    regions_of: dict[int, list[Region]] = {}
    for region in regions:
        regions_of.setdefault(region.provider_id, []).append(region)
    # The catalogue the benchmarks were first measured with, in its order: a dataset of the same seed
    # stays the same as the catalogue grows (new models would change every draw after them).
    by_slug = {gpu.slug: gpu for gpu in GpuModel.objects.filter(slug__in=BENCH_GPUS)}
    gpus = [by_slug[slug] for slug in BENCH_GPUS]
    gpu_weights = [GPU_MIX.get(gpu.slug, DEFAULT_GPU)[0] for gpu in gpus]
    unknown_counts = Offer._meta.get_field("nodes_available").null
    rates = ExchangeRate.objects.units_per_eur()
    connection_of, last_sync = {}, {}
    for sync_connection in connections:
        connection_of.setdefault(sync_connection.provider_id, sync_connection.pk)
    _copy_offers(
        rows=_offer_rows(
            rng=rng,
            connection_of=connection_of,
            last_sync=last_sync,
            count=offers,
            providers=providers,
            provider_weights=provider_weights,
            regions_of=regions_of,
            gpus=gpus,
            gpu_weights=gpu_weights,
            unknown_counts=unknown_counts,
            rates=rates,
            now=now,
        )
    )
    # The offers a connection lists were verified by its last success (Offer.verified_at).
    for sync_connection in connections:
        sync_connection.last_success_at = last_sync.get(sync_connection.provider_id)
    SyncConnection.objects.bulk_update(connections, ["last_success_at"], batch_size=500)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # As autovacuum would soon: statistics, and the visibility map index-only scans rely
            # on (VACUUM cannot run in a transaction, e.g. in a test: statistics only, then).
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


def _offer_rows(
    *,
    rng,
    count,
    connection_of,
    last_sync,
    providers,
    provider_weights,
    regions_of,
    gpus,
    gpu_weights,
    unknown_counts,
    rates,
    now,
):
    """One tuple per offer, in OFFER_COLUMNS order."""
    pricing_types, pricing_weights = zip(*PRICING, strict=True)
    # Drawing in batches is much faster than one rng.choices() call per offer.
    owner_draws = rng.choices(providers, provider_weights, k=count)
    gpu_draws = rng.choices(gpus, gpu_weights, k=count)
    pricing_draws = rng.choices(pricing_types, pricing_weights, k=count)
    region_factor = {}
    for index in range(count):
        provider, gpu, pricing = owner_draws[index], gpu_draws[index], pricing_draws[index]
        region = rng.choice(regions_of[provider.pk])
        datacenter = gpu.segment == "datacenter"
        form_factor = gpu.form_factor or "sxm"  # the V100, SXM when first measured
        if form_factor in ("sxm", "superchip"):
            per_node = 8 if rng.random() < 0.85 else rng.choice([1, 2, 4])
        elif datacenter:
            per_node = rng.choice([1, 1, 2, 4, 8, 8])
        else:
            per_node = rng.choice([1, 1, 1, 2, 4, 8])
        interconnect = "nvlink" if form_factor in ("sxm", "superchip", "nvl") else ("pcie" if datacenter else "")
        if datacenter and per_node == 8:
            network = rng.choice(["infiniband", "infiniband", "roce", "ethernet"])
        else:
            network = rng.choice(["ethernet", "ethernet", "roce", ""])
        base = Decimal(GPU_MIX.get(gpu.slug, DEFAULT_GPU)[1])
        factor = region_factor.setdefault(region.pk, 0.85 + rng.random() * 0.4)
        factor *= {"on_demand": 1.0, "spot": 0.55, "reserved": 0.75}[pricing] * (0.9 + rng.random() * 0.2)
        price = (base * Decimal(f"{factor:.4f}")).quantize(Decimal("0.0001"))
        term = rng.choice(RESERVED_TERMS) if pricing == "reserved" else None
        draw = rng.random()
        if draw < SOLD_OUT_SHARE:
            available = 0
        elif unknown_counts and draw < SOLD_OUT_SHARE + UNKNOWN_COUNT_SHARE:
            available = None
        else:
            available = min(int(rng.expovariate(1 / 6)) + 1, 256)
        total = None if rng.random() < 0.3 else max(available or 0, 1) + int(rng.expovariate(1 / 10))
        status = "withdrawn" if rng.random() < WITHDRAWN_SHARE else "active"
        # As the sync engine writes them: the listed offers of one connection were all verified
        # by its last sync, at one instant (a draw per offer all the same, as before); stale ones
        # keep their own, older verification.
        verified = last_sync.setdefault(provider.pk, now - timedelta(seconds=rng.randrange(0, 3 * 3600)))
        if rng.random() < STALE_SHARE:
            verified = now - timedelta(days=rng.uniform(1, 30))
            stale_at = verified + timedelta(minutes=15)
            status = "stale" if status == "active" else status
        else:
            stale_at = now + timedelta(days=7)
        created = verified - timedelta(days=rng.uniform(0, 90))
        # Drawn in the order the tuple below drew them before, so a seed gives the same dataset.
        shapes = ([8, 12, 16, 24], [64, 96, 128, 256], [500, 1000, 2000, 3840])
        vcpus, ram, storage = (per_node * rng.choice(sizes) for sizes in shapes)
        currency = "USD" if rng.random() < 0.9 else "EUR"
        yield (
            provider.pk,
            region.pk,
            region.country.code,
            gpu.pk,
            per_node,
            vcpus,
            ram,
            storage,
            interconnect,
            network,
            pricing,
            term,
            price,
            currency,
            price_normalize(price, rates[currency]),
            available,
            total,
            status,
            f"o{index}",
            "sync",
            connection_of[provider.pk],
            verified,
            stale_at,
            created,
            verified,
        )


def _copy_offers(*, rows) -> None:
    """COPY the rows into the offer table, its secondary indexes dropped during the load."""
    from django.db import connection, transaction

    from marketplace.models import Offer

    if connection.vendor != "postgresql":
        Offer.objects.bulk_create((Offer(**dict(zip(OFFER_COLUMNS, row, strict=True))) for row in rows), batch_size=500)
        return

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.tablename = 'marketplace_offer'
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        sql = f"COPY marketplace_offer ({', '.join(OFFER_COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        # The foreign keys are checked at commit by default; check them now, so indexes can be built.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, definition in indexes:
            cursor.execute(definition)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--force", action="store_true", help="regenerate even if the database has this dataset")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    dataset = dataset_generate(offers=args.offers, seed=args.seed, force=args.force)
    print(f"{dataset.offers} offers (seed {dataset.seed}): {'reused' if dataset.reused else 'generated'}", end=" ")
    print(f"in {dataset.seconds:.1f} s")


if __name__ == "__main__":
    main()
