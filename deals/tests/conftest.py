import pytest

from deals.tests.support import verified
from portal.testing import make_offer, make_provider, make_user
from providers.models import Region


@pytest.fixture
def developer(dave):
    """dave, with a verified e-mail: he may file requests."""
    return verified(dave)


@pytest.fixture
def erin(db):
    """Another developer."""
    return verified(make_user("erin"))


@pytest.fixture
def acme_h100(acme, acme_fra):
    """Acme lists 16 nodes of 8 H100 SXM in Frankfurt (128 GPUs), 4 free now."""
    return make_offer(acme, acme_fra, "h100-sxm", nodes_available=4, nodes_total=16)


@pytest.fixture
def beta_h100(beta, beta_nyc):
    """Beta lists 16 nodes of 8 H100 SXM in New York."""
    return make_offer(beta, beta_nyc, "h100-sxm", nodes_available=2, nodes_total=16)


@pytest.fixture
def gamma(db):
    """Gamma Cloud, in France, owned by nobody in particular."""
    return make_provider("Gamma Cloud", "FR")


@pytest.fixture
def gamma_par(gamma):
    return Region.objects.create(provider=gamma, code="fr-par-1", country="FR", city="Paris")
