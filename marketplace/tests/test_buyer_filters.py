"""What buyers asked for: at least N GPUs per node, sold-out offers hidden unless asked for, pricing
types kept apart, and the total for N GPUs over a term; repeated parameters deduplicated and capped."""

import re
from decimal import Decimal

import pytest
from django.http import QueryDict

from marketplace.selectors import catalog_search
from portal.testing import make_offer

pytestmark = pytest.mark.django_db


def shown(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'data-offer="(\d+)"', response.text)]


@pytest.fixture
def nodes(acme_fra):
    """1, 4 and 8 GPUs per node, all on demand, and an 8-GPU node sold out."""

    def make(gpus, **extra):
        return make_offer(acme_fra.provider, acme_fra, gpus_per_node=gpus, **extra).pk

    return {"1": make(1), "4": make(4), "8": make(8), "8 sold out": make(8, nodes_available=0)}


class TestGpusPerNode:
    @pytest.mark.parametrize(
        ("value", "expected"), [("1", ["1", "4", "8"]), ("4", ["4", "8"]), ("5", ["8"]), ("9", [])]
    )
    def test_at_least_n_gpus_per_node(self, client, nodes, value, expected):
        assert sorted(shown(client.get(f"/?min_gpus_per_node={value}"))) == sorted(nodes[key] for key in expected)

    def test_besides_exact_counts(self, client, nodes):
        assert shown(client.get("/?min_gpus_per_node=2&gpus_per_node=4")) == [nodes["4"]]

    def test_an_invalid_value_is_reported_and_ignored(self, client, nodes):
        response = client.get("/?min_gpus_per_node=0")
        assert "Ensure this value is greater than or equal to 1." in response.text
        assert len(shown(response)) == 3


class TestSoldOut:
    def test_sold_out_offers_are_hidden_by_default(self, client, nodes):
        response = client.get("/")
        assert nodes["8 sold out"] not in shown(response)
        assert "Sold-out offers are hidden." in response.text
        assert {c.value: c.count for c in response.context["facets"]["gpu"]} == {"h100-sxm": 3}

    def test_a_filter_shows_them(self, client, nodes):
        response = client.get("/?sold_out=1")
        assert nodes["8 sold out"] in shown(response)
        assert "Including sold-out offers." in response.text
        assert {c.value: c.count for c in response.context["facets"]["gpu"]} == {"h100-sxm": 4}

    def test_an_unknown_count_is_not_sold_out(self, client, acme_fra):
        unknown = make_offer(acme_fra.provider, acme_fra, nodes_available=None, nodes_total=None)
        assert shown(client.get("/")) == [unknown.pk]


class TestPricingTypes:
    @pytest.fixture
    def plans(self, acme_fra):
        def make(price, pricing, term=None):
            offer = make_offer(
                acme_fra.provider,
                acme_fra,
                price_per_gpu_hour=Decimal(price),
                pricing_type=pricing,
                min_term_months=term,
            )
            return offer.pk

        return {
            "spot": make("0.90", "spot"),
            "36 months": make("1.50", "reserved", 36),
            "12 months": make("1.90", "reserved", 12),
            "on demand": make("2.50", "on_demand"),
            "on demand, dearer": make("2.60", "on_demand"),
        }

    def test_the_default_view_lists_on_demand_first_then_reserved_by_term_then_spot(self, client, plans):
        order = ["on demand", "on demand, dearer", "12 months", "36 months", "spot"]
        assert shown(client.get("/")) == [plans[key] for key in order]

    def test_each_group_has_a_header_that_shows_the_term(self, client, plans):
        headers = re.findall(
            r'<tr class="pricing-group"><th colspan="9" scope="rowgroup">(.*?)</th>', client.get("/").text
        )
        assert headers == ["On demand", "Reserved, 12 month term", "Reserved, 36 month term", "Spot"]


class TestTotal:
    def test_each_row_shows_the_total_for_n_gpus_over_the_term(self, client, acme_fra):
        make_offer(acme_fra.provider, acme_fra, gpus_per_node=8, price_per_gpu_hour=Decimal("2.00"), currency="USD")
        html = client.get("/?total_gpus=20&term_months=2").text
        # 20 GPUs in 8-GPU nodes are 24 GPUs: 2.00 x 24 x 730 x 2.
        assert "70,080 USD for 24 GPU over 2 months" in html

    def test_a_reserved_offer_counts_its_minimum_term(self, client, acme_fra):
        make_offer(
            acme_fra.provider,
            acme_fra,
            gpus_per_node=1,
            price_per_gpu_hour=Decimal("1.00"),
            pricing_type="reserved",
            min_term_months=12,
        )
        assert "8,760 USD for 1 GPU over 12 months" in client.get("/?total_gpus=1&term_months=1").text

    def test_the_total_is_in_the_shown_currency(self, client, acme_fra):
        make_offer(acme_fra.provider, acme_fra, gpus_per_node=1, price_per_gpu_hour=Decimal("1.00"), currency="EUR")
        assert "800 USD for 1 GPU over 1 month" in client.get("/?total_gpus=1&term_months=1").text  # 1.0953 x 730
        assert "730 EUR for 1 GPU over 1 month" in client.get("/?total_gpus=1&currency=EUR").text

    def test_without_a_number_of_gpus_or_a_term_no_total_is_shown(self, client, acme_fra):
        make_offer(acme_fra.provider, acme_fra)
        assert 'class="total"' not in client.get("/").text


class TestRepeatedParameters:
    def test_a_repeated_value_counts_once(self, acme_fra):
        filterset = catalog_search(
            params=QueryDict("country=DE&country=de&country=DE&gpu=h100-sxm&gpu=h100-sxm")
        ).filterset
        assert (filterset.cleaned["country"], filterset.cleaned["gpu"]) == (["DE"], ["h100-sxm"])

    def test_too_many_values_are_refused(self, client, acme_fra, settings):
        # Over the request's limit (MAX_VALUES_PER_PARAMETER), before any query: portal/middleware.py.
        query = "&".join(f"gpus_per_node={n}" for n in range(1, 103))
        assert client.get(f"/?{query}").status_code == 400
        # The filter's own cap holds where no request limits it (a saved search's stored query).
        countries = [f"X{n}" for n in range(settings.MAX_VALUES_PER_PARAMETER + 1)]
        filterset = catalog_search(params=QueryDict("&".join(f"country={code}" for code in countries))).filterset
        assert filterset.form.errors["country"] == [f"Choose at most {settings.MAX_VALUES_PER_PARAMETER} values."]
        query = "&".join(f"gpus_per_node={n}" for n in range(1, 4)) + "&gpus_per_node=x"
        assert "Enter whole numbers of 1 or more" in client.get(f"/?{query}").text
