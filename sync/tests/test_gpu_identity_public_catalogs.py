"""GPU identity through a sync: real public cloud catalogs, imported through the provider feed,
resolve at least 97% of their GPU names, with no name pinned to a guessed variant; a sync holds an
ambiguous name back and lists the same GPU when its offer states the facts.

    python manage.py gpu_names_coverage     # the same measure, printed per provider
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from marketplace.gpu_names import name_facts
from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from marketplace.models import GpuModel, GpuNameReview
from marketplace.services import inventory_apply
from sync.coverage import catalog_rows, gpu_names_coverage
from sync.models import SyncConnection

pytestmark = pytest.mark.django_db

CATALOGS = Path(__file__).parent / "data" / "public_gpu_catalogs.csv"


@pytest.fixture(scope="module")
def rows():
    return catalog_rows(CATALOGS)


def test_the_catalogs_are_a_dozen_clouds_and_more(rows):
    assert len({row["provider"] for row in rows}) >= 12
    assert len(rows) >= 300


def test_at_least_97_percent_of_their_gpu_names_resolve(rows):
    coverage = gpu_names_coverage(rows)
    assert coverage.rate >= 0.97, coverage.unresolved


def test_no_name_is_pinned_to_a_guessed_variant(rows):
    coverage = gpu_names_coverage(rows)
    # What does not resolve waits for review as ambiguous or contradicting: no name is unknown...
    assert {status for _p, _i, _n, status, _c, _f in coverage.unresolved} <= {"ambiguous", "contradiction"}
    # ...and a name of a family of several models resolved only with facts that single one out.
    families: dict[str, int] = {}
    for gpu in GpuModel.objects.all():
        families[gpu.family] = families.get(gpu.family, 0) + 1
    guessed = [
        (key, name)
        for key, (name, facts) in coverage.resolved_with.items()
        if families.get(name_facts(name).family, 0) > 1 and not facts
    ]
    assert guessed == []


@pytest.mark.parametrize(
    ("provider", "instance_type", "model"),
    [
        ("gcp", "a3-megagpu-8g", "H100 SXM 80GB"),  # GCP's "H100 Mega" naming
        ("aws", "p4d.24xlarge", "A100 SXM 40GB"),  # "A100" with 40 GB, NVLink across 8
        ("aws", "p4de.24xlarge", "A100 SXM 80GB"),
        ("azure", "Standard_NC24ads_A100_v4", "A100 PCIe 80GB"),
        ("azure", "Standard_NC40ads_H100_v5", "H100 NVL 94GB"),
        ("lambda", "gpu_1x_h100_pcie", "H100 PCIe 80GB"),
        ("oci", "BM.GPU.MI300X.8", "Instinct MI300X 192GB"),
        ("ibm", "gx3d-160x1792x8gaudi3", "Gaudi 3 128GB"),
    ],
)
def test_variants_are_told_apart_by_the_facts_each_cloud_states(rows, provider, instance_type, model):
    coverage = gpu_names_coverage(rows)
    found = {
        key: name
        for key, name in coverage.models.items()
        if key[0] == provider and key[1].endswith(f":{instance_type}")
    }
    assert list(found.values()) == [model]


def test_a_sync_holds_back_an_ambiguous_name_and_lists_the_ones_with_facts(acme):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://acme.example/f.json")
    offers = [
        NormalizedOffer("bare", "fra", "H100", 8, "on_demand", Decimal("2")),
        NormalizedOffer("pcie", "fra", "H100", 1, "on_demand", Decimal("2"), gpu_memory_gb=80, gpu_form_factor="pcie"),
    ]
    inventory = ParsedInventory(offers=offers, regions=[NormalizedRegion("fra", "DE")])

    result = inventory_apply(connection=connection, inventory=inventory, now=timezone.now())

    assert (result.created, result.skipped) == (1, 1)
    assert acme.offers.get().gpu_model.slug == "h100-pcie"
    assert any(warning.startswith('Ambiguous GPU name "H100" (1 offer)') for warning in result.warnings)
    review = GpuNameReview.objects.get()
    assert (review.status, review.offers_held) == ("ambiguous", 1)
    assert {gpu.slug for gpu in review.candidates.all()} == {"h100-sxm", "h100-pcie", "h100-nvl"}
