"""Filing a request routes it to exactly the providers whose listed capacity could serve it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from deals import services
from deals.models import CapacityRequest, Recipient
from deals.tests.support import TODAY, file_request, request_values
from marketplace import services as offer_services
from marketplace.models import GpuModel, Offer
from portal.testing import make_offer, make_stale
from providers.models import Provider

pytestmark = pytest.mark.django_db


def reached(request: CapacityRequest) -> set[str]:
    return set(request.recipients.values_list("provider__slug", flat=True))


def test_an_eu_request_reaches_the_eu_provider_with_enough_gpus_and_no_one_else(
    developer, acme_h100, beta_h100, gamma_par
):
    make_offer(gamma_par.provider, gamma_par, "h100-sxm", nodes_total=4)  # 32 GPUs: not enough for 64
    make_offer(gamma_par.provider, gamma_par, "l4", nodes_total=100)  # plenty, of another GPU

    request = file_request(developer)

    assert reached(request) == {"acme-gpu"}
    match = request.recipients.get().match
    assert match == {"offers": 1, "windows": 0, "gpus": 128, "countries": ["DE"]}


def test_providers_that_are_not_approved_or_only_stale_are_not_reached(developer, acme_h100, beta_h100):
    Provider.objects.filter(slug="acme-gpu").update(status=Provider.Status.SUSPENDED)
    make_stale(beta_h100)

    assert reached(file_request(developer, country_groups=[])) == set()


def test_an_offer_that_publishes_no_count_may_be_enough(developer, acme, acme_fra):
    make_offer(acme, acme_fra, "h100-sxm", nodes_available=None, nodes_total=None)

    assert reached(file_request(developer)) == {"acme-gpu"}


def test_a_capacity_window_covering_the_period_reaches_its_provider(developer, gamma_par):
    request_start = TODAY + timedelta(days=30)
    window = offer_services.window_create(
        provider=gamma_par.provider,
        region=gamma_par,
        gpu_model=GpuModel.objects.get(slug="h100-sxm"),
        gpus=256,
        starts_on=request_start - timedelta(days=1),
        ends_on=request_start + timedelta(days=200),
    )

    assert reached(file_request(developer)) == {"gamma-cloud"}
    offer_services.window_update(
        window=window,
        region=gamma_par,
        gpu_model=window.gpu_model,
        gpus=256,
        starts_on=request_start + timedelta(days=1),
        ends_on=window.ends_on,
    )
    assert reached(file_request(developer)) == set()  # starts too late


def test_node_shape_pricing_and_headquarters_narrow_the_providers(developer, acme, acme_fra, acme_h100, beta_h100):
    make_offer(acme, acme_fra, "h100-sxm", pricing_type="reserved", min_term_months=12, nodes_total=16)

    assert reached(file_request(developer, country_groups=[], gpus_per_node=4)) == set()
    assert reached(file_request(developer, country_groups=[], hq_countries=["US"])) == {"beta-compute"}
    reserved_6 = file_request(developer, country_groups=[], pricing_type="reserved", reserved_term_months=6)
    assert reached(reserved_6) == set()  # a 12-month minimum cannot serve 6 months
    reserved_12 = file_request(developer, country_groups=[], pricing_type="reserved", reserved_term_months=12)
    assert reached(reserved_12) == {"acme-gpu"}


def test_a_minimum_memory_matches_any_gpu_with_that_much(developer, acme, acme_fra):
    make_offer(acme, acme_fra, "h200", nodes_total=16)

    request = file_request(developer, gpu_models=[], min_gpu_memory_gb=141)

    assert reached(request) == {"acme-gpu"}


def test_a_request_from_an_offer_asks_its_provider_first_even_if_short(developer, acme, acme_fra, acme_h100, beta_h100):
    small = make_offer(acme, acme_fra, "h100-sxm", nodes_available=1, nodes_total=1)
    Offer.objects.filter(pk=acme_h100.pk).update(status=Offer.Status.WITHDRAWN)

    request = services.request_file(
        developer=developer, source_offer=small, **request_values(country_groups=[], gpu_count=512)
    )

    first = request.recipients.order_by("priority", "routed_at").first()
    assert first.provider.slug == "acme-gpu" and first.priority == 0


def test_routing_e_mails_each_reached_provider_on_commit(developer, acme_h100, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        request = file_request(developer)

    kinds = [callback.args[0] for callback in callbacks if hasattr(callback, "func")]
    assert "request_routed" in kinds
    assert Recipient.objects.filter(request=request).count() == 1


def test_an_unverified_developer_cannot_file(dave, acme_h100):
    with pytest.raises(ValidationError, match="Confirm your e-mail address"):
        services.request_file(developer=dave, **request_values())
    assert not CapacityRequest.objects.exists()


def test_a_developer_has_a_limited_number_of_open_requests(developer, settings):
    settings.REQUESTS_MAX_OPEN_PER_DEVELOPER = 2
    file_request(developer)
    file_request(developer)

    with pytest.raises(ValidationError, match="2 open requests"):
        file_request(developer)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gpu_models": [], "min_gpu_memory_gb": None}, "gpu_models"),
        ({"gpu_count": 0}, "gpu_count"),
        ({"budget_currency": "dollars"}, "budget_currency"),
    ],
)
def test_an_invalid_request_says_what_is_wrong_and_saves_nothing(developer, changes, field):
    with pytest.raises(ValidationError) as error:
        services.request_file(developer=developer, **request_values(**changes))
    assert field in error.value.message_dict
    assert not CapacityRequest.objects.exists()
