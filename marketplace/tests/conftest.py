"""Catalog fixtures on top of the personas (root conftest.py).

acme (alice, HQ Germany) lists H100s in Frankfurt; beta (charlie, HQ US) lists H200s in New York.
"""

from decimal import Decimal

import pytest

from portal.testing import certify, make_offer
from providers.models import Region


@pytest.fixture
def acme_par(acme):
    return Region.objects.create(provider=acme, code="eu-par-1", country="FR", city="Paris")


@pytest.fixture
def de_h100(acme_fra):
    """32 H100s on demand in Frankfurt at 2.50, NVLink + InfiniBand."""
    return make_offer(
        acme_fra.provider,
        acme_fra,
        "h100-sxm",
        price_per_gpu_hour=Decimal("2.50"),
        nodes_available=4,
        gpu_interconnect="nvlink",
        network="infiniband",
    )


@pytest.fixture
def us_h200(beta_nyc):
    """80 H200s reserved for 12 months in New York at 3.10, PCIe + Ethernet."""
    return make_offer(
        beta_nyc.provider,
        beta_nyc,
        "h200",
        price_per_gpu_hour=Decimal("3.10"),
        nodes_available=10,
        nodes_total=20,
        pricing_type="reserved",
        min_term_months=12,
        gpu_interconnect="pcie",
        network="ethernet",
    )


@pytest.fixture
def certified(acme, beta):
    """acme holds SOC 2 and ISO 27001, beta only SOC 2."""
    certify(acme, "soc2")
    certify(acme, "iso27001")
    certify(beta, "soc2")
