"""The catalog home page: filters, facets, invalid parameters, freshness, htmx, sorting, paging."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.models import Offer
from portal.testing import make_offer, make_provider, make_stale, queries_counted
from providers.models import Provider, Region

pytestmark = pytest.mark.django_db


def shown(response) -> list[int]:
    """The offers in the results table, in order."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'data-offer="(\d+)"', response.content.decode())]


def facet(response, name: str) -> dict[str, int]:
    return {choice.value: choice.count for choice in response.context["facets"][name]}


@pytest.fixture
def fr_l40s(acme_par):
    """4 L40S on spot in Paris at 0.90, 4 per node, RoCE, no NVLink."""
    return make_offer(
        acme_par.provider,
        acme_par,
        "l40s",
        gpus_per_node=4,
        nodes_available=1,
        nodes_total=2,
        price_per_gpu_hour=Decimal("0.90"),
        pricing_type="spot",
        network="roce",
    )


@pytest.fixture
def offers(de_h100, us_h200, fr_l40s, certified):
    return {"de": de_h100.pk, "us": us_h200.pk, "fr": fr_l40s.pk}


class TestEachFilter:
    def test_no_filter_lists_every_fresh_offer_by_pricing_type_then_cheapest_first(self, client, offers):
        # On demand, then reserved, then spot: a reserved or spot price is no alternative to an hourly one.
        assert shown(client.get("/")) == [offers["de"], offers["us"], offers["fr"]]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("gpu=h100-sxm", ["de"]),
            ("gpu=h100-sxm&gpu=h200", ["de", "us"]),
            ("country=DE", ["de"]),
            ("country=de", ["de"]),  # codes in any case
            ("country=DE&country=FR", ["de", "fr"]),
            ("region_group=eu", ["de", "fr"]),
            ("region_group=north-america", ["us"]),
            ("region_group=apac", []),
            ("region_group=apac&region_group=north-america", ["us"]),
            ("hq_country=DE", ["de", "fr"]),  # acme is German, its Paris offer included
            ("hq_country=US", ["us"]),
            ("provider=beta-compute", ["us"]),
            ("provider=acme-gpu&provider=beta-compute", ["de", "us", "fr"]),
            ("gpus_per_node=4", ["fr"]),
            ("gpus_per_node=4&gpus_per_node=8", ["de", "us", "fr"]),
            ("min_gpus=32", ["de", "us"]),
            ("min_gpus=33", ["us"]),
            ("max_price=2.50", ["de", "fr"]),
            ("max_price=0", []),
            ("pricing=reserved", ["us"]),
            ("pricing=spot&pricing=on_demand", ["de", "fr"]),
            ("interconnect=nvlink", ["de"]),
            ("interconnect=pcie", ["us"]),
            ("interconnect=roce", ["fr"]),
            ("interconnect=nvlink&interconnect=pcie", ["de", "us"]),
            ("interconnect=nvlink&interconnect=infiniband", ["de"]),  # NVLink inside, InfiniBand between
            ("interconnect=nvlink&interconnect=ethernet", []),
            ("cert=soc2", ["de", "us", "fr"]),
            ("cert=iso27001", ["de", "fr"]),
            ("cert=soc2&cert=iso27001", ["de", "fr"]),  # all of them, not any
            ("cert=hipaa", []),
        ],
    )
    def test_it_filters(self, client, offers, query, expected):
        assert shown(client.get(f"/?{query}")) == [offers[key] for key in expected]


class TestCombinedFilters:
    def test_country_and_gpu(self, client, offers):
        response = client.get("/?country=DE&country=FR&gpu=h100-sxm&min_gpus=8&sort=price")
        assert shown(response) == [offers["de"]]

    def test_region_group_capacity_and_price(self, client, offers):
        assert shown(client.get("/?region_group=eea&min_gpus=2&max_price=1")) == [offers["fr"]]

    def test_everything_at_once(self, client, offers):
        query = (
            "gpu=h100-sxm&country=DE&region_group=eu&hq_country=DE&provider=acme-gpu&gpus_per_node=8"
            "&min_gpus=32&max_price=2.5&pricing=on_demand&interconnect=nvlink&interconnect=infiniband"
            "&cert=soc2&cert=iso27001&sort=capacity"
        )
        assert shown(client.get(f"/?{query}")) == [offers["de"]]


class TestFacets:
    def test_counts_beside_gpu_models_and_countries(self, client, offers, acme_fra):
        make_offer(acme_fra.provider, acme_fra, "h100-sxm", external_id="second-h100")
        response = client.get("/")
        assert facet(response, "gpu") == {"h200": 1, "h100-sxm": 2, "l40s": 1}
        assert facet(response, "country") == {"DE": 2, "FR": 1, "US": 1}
        assert facet(response, "provider") == {"acme-gpu": 3, "beta-compute": 1}
        assert facet(response, "pricing") == {"on_demand": 2, "spot": 1, "reserved": 1}
        assert '<span class="count">2</span>' in response.content.decode()

    def test_a_facet_ignores_its_own_filter_but_follows_the_others(self, client, offers):
        response = client.get("/?country=DE")
        # Other countries stay selectable, with what they would add.
        assert facet(response, "country") == {"DE": 1, "FR": 1, "US": 1}
        # The GPU counts follow the country filter.
        assert facet(response, "gpu") == {"h100-sxm": 1}

    def test_choices_nobody_offers_disappear_unless_selected(self, client, offers):
        response = client.get("/?gpu=b300&country=JP")
        assert shown(response) == []
        assert facet(response, "gpu") == {"b300": 0}
        assert facet(response, "country") == {"JP": 0}
        response = client.get("/?gpu=b300")
        assert facet(response, "gpu") == {"b300": 0, "h200": 1, "h100-sxm": 1, "l40s": 1}

    def test_stale_offers_are_not_counted_by_default(self, client, offers, us_h200):
        make_stale(us_h200)
        assert "US" not in facet(client.get("/"), "country")
        assert facet(client.get("/?stale=1"), "country")["US"] == 1


class TestInvalidParameters:
    @pytest.mark.parametrize(
        ("query", "error"),
        [
            ("min_gpus=abc", "Enter a whole number."),
            ("min_gpus=0", "greater than or equal to 1"),
            ("country=XX", "XX is not one of the available choices"),
            ("gpu=nope", "nope is not one of the available choices"),
            ("max_price=-1", "greater than or equal to 0"),
            ("max_price=cheap", "Enter a number."),
            ("sort=bogus", "bogus is not one of the available choices"),
            ("per_page=5", "greater than or equal to 10"),
            ("per_page=100000", "less than or equal to 200"),
            ("gpus_per_node=zero", "Enter whole numbers of 1 or more"),
            ("gpus_per_node=0", "Enter whole numbers of 1 or more"),
            ("region_group=mars", "mars is not one of the available choices"),
            ("cert=nope", "nope is not one of the available choices"),
            ("provider=ghost", "ghost is not one of the available choices"),
            ("pricing=free", "free is not one of the available choices"),
        ],
    )
    def test_it_reports_the_error_and_ignores_only_that_filter(self, client, offers, query, error):
        response = client.get(f"/?{query}&country=DE" if "country" not in query else f"/?{query}&gpu=h100-sxm")
        assert response.status_code == 200
        html = response.content.decode()
        assert error in html
        assert "Some parameters were ignored" in html
        # The valid filter still applies.
        assert shown(response) == [offers["de"]]

    def test_the_error_sits_next_to_its_filter(self, client, offers):
        html = client.get("/?min_gpus=abc").content.decode()
        field = html.index('name="min_gpus"')
        assert field < html.index("Enter a whole number.") < html.index('name="max_price"')
        assert 'aria-invalid="true"' in html

    def test_a_page_past_the_end_shows_the_last_page(self, client, offers):
        assert shown(client.get("/?page=999&per_page=10")) == [offers["de"], offers["us"], offers["fr"]]

    def test_a_page_that_is_not_a_number_shows_the_first(self, client, offers):
        assert shown(client.get("/?page=abc")) == [offers["de"], offers["us"], offers["fr"]]

    def test_an_invalid_sort_falls_back_to_price(self, client, offers):
        assert shown(client.get("/?sort=bogus")) == [offers["de"], offers["us"], offers["fr"]]

    def test_empty_parameters_mean_no_filter(self, client, offers):
        query = "gpu=&country=&region_group=&provider=&gpus_per_node=&min_gpus=&max_price=&pricing=&sort=&per_page="
        response = client.get(f"/?{query}")
        assert len(shown(response)) == 3
        assert "Some parameters were ignored" not in response.content.decode()

    def test_unknown_parameters_are_ignored_silently(self, client, offers):
        response = client.get("/?utm_source=newsletter&foo=bar")
        assert len(shown(response)) == 3
        assert "Some parameters were ignored" not in response.content.decode()


class TestFreshnessAndVisibility:
    def test_stale_offers_are_hidden_by_default(self, client, offers, us_h200):
        make_stale(us_h200)
        assert shown(client.get("/")) == [offers["de"], offers["fr"]]

    def test_stale_offers_are_shown_and_marked_with_stale_1(self, client, offers, us_h200):
        make_stale(us_h200)
        response = client.get("/?stale=1")
        assert shown(response) == [offers["de"], offers["us"], offers["fr"]]
        html = response.content.decode()
        assert html.count("stale-marker") == 1
        assert f'class="offer-row stale" data-offer="{offers["us"]}"' in html

    def test_each_row_says_when_it_was_verified(self, client, de_h100):
        Offer.objects.filter(pk=de_h100.pk).update(last_verified_at=timezone.now() - timedelta(minutes=7))
        assert "verified 7\xa0minutes ago" in client.get("/").content.decode()

    @pytest.mark.parametrize("status", [Provider.Status.PENDING, Provider.Status.SUSPENDED])
    def test_offers_of_providers_not_approved_are_never_shown(self, client, offers, status):
        hidden = make_provider("Gamma Cloud", "FR")
        hidden.status = status
        hidden.save()
        region = Region.objects.create(provider=hidden, code="par", country="FR", city="Paris")
        make_offer(hidden, region, "h100-sxm", price_per_gpu_hour=Decimal("0.01"))
        for query in ["", "?stale=1", "?country=FR", "?provider=gamma-cloud", "?hq_country=FR"]:
            response = client.get(f"/{query}")
            assert "Gamma Cloud" not in response.content.decode()
            assert len(shown(response)) <= 3

    def test_withdrawn_offers_are_hidden(self, client, offers, us_h200):
        Offer.objects.filter(pk=us_h200.pk).update(status=Offer.Status.WITHDRAWN)
        assert offers["us"] not in shown(client.get("/?stale=1"))


class TestHtmx:
    def test_an_htmx_request_gets_only_the_results_fragment(self, client, offers):
        response = client.get("/?country=DE", headers={"HX-Request": "true"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html and "<form" not in html
        assert html.lstrip().startswith('<section id="results"')
        assert shown(response) == [offers["de"]]
        # The sidebar comes along out of band, so the facet counts follow the results.
        assert '<div id="filters" hx-swap-oob="true">' in html
        assert "HX-Request" in response["Vary"]

    def test_a_normal_request_gets_the_full_page(self, client, offers):
        response = client.get("/?country=DE")
        html = response.content.decode()
        assert "<html" in html and 'id="catalog-form"' in html and 'id="results"' in html
        assert "hx-swap-oob" not in html
        assert "HX-Request" in response["Vary"]

    @pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
    def test_boosted_and_history_restore_requests_get_the_full_page(self, client, offers, header):
        response = client.get("/", headers={"HX-Request": "true", header: "true"})
        assert "<html" in response.content.decode()

    def test_the_form_updates_results_in_place_and_pushes_the_url(self, client, offers):
        html = client.get("/").content.decode()
        form = html[html.index('<form id="catalog-form"') : html.index(">", html.index('<form id="catalog-form"'))]
        for attribute in ['method="get"', 'hx-get="/"', 'hx-target="#results"', 'hx-push-url="true"', "change"]:
            assert attribute in form
        # Without JavaScript, a visible button submits the same form.
        assert 'type="submit"' in html

    def test_sort_and_page_links_work_with_and_without_javascript(self, client, offers):
        html = client.get("/?country=DE&per_page=10").content.decode()
        link = "?country=DE&amp;per_page=10&amp;sort=capacity"
        assert f'href="{link}" hx-get="{link}"' in html


class TestSorting:
    @pytest.fixture
    def verified(self, offers, de_h100, us_h200, fr_l40s):
        now = timezone.now()
        for offer, minutes in [(de_h100, 1), (us_h200, 5), (fr_l40s, 30)]:
            Offer.objects.filter(pk=offer.pk).update(last_verified_at=now - timedelta(minutes=minutes))
        return offers

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("", ["de", "us", "fr"]),  # on demand, reserved, spot
            ("price", ["de", "us", "fr"]),
            ("-price", ["fr", "us", "de"]),
            ("capacity", ["us", "de", "fr"]),  # 80, 32, 4 GPUs available
            ("freshness", ["de", "us", "fr"]),  # verified 1, 5, 30 minutes ago
        ],
    )
    def test_it_sorts(self, client, verified, sort, expected):
        assert shown(client.get(f"/?sort={sort}")) == [verified[key] for key in expected]


class TestPagination:
    @pytest.fixture
    def many(self, acme_fra):
        return [
            make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal(f"{1 + i / 100:.2f}")).pk
            for i in range(25)
        ]

    def test_it_pages_with_the_configured_size(self, client, many, settings):
        settings.CATALOG_PAGE_SIZE = 10
        assert shown(client.get("/")) == many[:10]
        assert shown(client.get("/?page=3")) == many[20:]
        assert "Page 1 of 3" in client.get("/").content.decode()

    def test_per_page_is_bounded(self, client, many):
        assert shown(client.get("/?per_page=10&page=2")) == many[10:20]
        assert len(shown(client.get("/?per_page=5"))) == 25  # invalid: the default (50) applies

    def test_page_links_keep_the_filters(self, client, many):
        html = client.get("/?gpu=h100-sxm&per_page=10").content.decode()
        assert 'href="?gpu=h100-sxm&amp;per_page=10&amp;page=2"' in html


class TestQueryCount:
    @pytest.fixture
    def catalogue(self, acme_fra, beta_nyc, acme_par, certified):
        for i in range(60):
            region = [acme_fra, beta_nyc, acme_par][i % 3]
            gpu = ["h100-sxm", "h200", "l40s", "b200"][i % 4]
            make_offer(
                region.provider,
                region,
                gpu,
                price_per_gpu_hour=Decimal(f"{1 + i / 10:.2f}"),
                gpu_interconnect="nvlink",
                network="infiniband",
            )

    def count_queries(self, client, url, **headers) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=headers)
        assert response.status_code == 200
        return queries_counted(queries.captured_queries)

    def test_the_number_of_queries_is_constant(self, client, catalogue):
        # Every case below has results: an empty page skips the row query altogether.
        many_filters = (
            "/?gpu=h100-sxm&gpu=h200&country=DE&country=US&region_group=eu&region_group=north-america"
            "&hq_country=DE&hq_country=US&provider=acme-gpu&provider=beta-compute&gpus_per_node=8&min_gpus=1"
            "&max_price=100&pricing=on_demand&interconnect=nvlink&interconnect=infiniband&cert=soc2&stale=1"
            "&sort=capacity"
        )
        counts = {
            "page of 10": self.count_queries(client, "/?per_page=10"),
            "page of 100": self.count_queries(client, "/?per_page=100"),
            "no filters": self.count_queries(client, "/"),
            "many filters": self.count_queries(client, many_filters),
            "invalid filters": self.count_queries(client, "/?gpu=nope&min_gpus=abc&page=999"),
            "htmx fragment": self.count_queries(client, many_filters, **{"HX-Request": "true"}),
        }
        assert len(set(counts.values())) == 1, counts
        assert counts["no filters"] <= 10, counts


@pytest.mark.parametrize(
    "query",
    [
        "sort=freshness&country=JP",  # no offer there: an empty page
        "sort=freshness&cert=soc2",  # nobody holds it: a filter that can match nothing
        "sort=freshness&cert=soc2&stale=1",
    ],
)
def test_the_freshness_order_answers_an_empty_result(client, acme_fra, query):
    make_offer(acme_fra.provider, acme_fra)
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert response.context["results"].page.paginator.count == 0
    assert list(response.context["results"].page) == []
