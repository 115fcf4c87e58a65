"""Price history on the GPU and country pages: the daily lowest and median on-demand price per
GPU-hour, from the offers' snapshots, in the page's currency, with the figures as a table."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_countries.fields import Country

from marketplace import selectors
from marketplace.fx import PriceDisplay
from marketplace.models import ExchangeRate, GpuModel, OfferSnapshot
from portal.testing import make_offer

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
USD = PriceDisplay("USD", Decimal("1.0953"))  # the ECB's rate of the test data


def snapshot(offer, days_ago: int, price: str) -> None:
    OfferSnapshot.objects.create(
        offer=offer, recorded_at=NOW - timedelta(days=days_ago), price_per_gpu_hour=Decimal(price), nodes_available=1
    )


def by_day(history) -> dict[int, tuple]:
    """Days ago -> (offers, low, median)."""
    today = timezone.localdate(NOW)
    return {(today - row.day).days: (row.offers, row.low, row.median) for row in history.days}


@pytest.fixture
def h100():
    return GpuModel.objects.get(slug="h100-sxm")


def test_each_day_holds_the_prices_in_effect_at_its_end(acme_fra, beta_nyc, h100):
    a = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.50"), currency="USD")
    snapshot(a, 200, "4.00")  # before the window: the price it starts with
    snapshot(a, 10, "3.00")
    snapshot(a, 5, "2.50")
    b = make_offer(beta_nyc.provider, beta_nyc, price_per_gpu_hour=Decimal("2.00"), currency="USD")
    snapshot(b, 3, "2.00")
    make_offer(beta_nyc.provider, beta_nyc, price_per_gpu_hour=Decimal("0.50"), pricing_type="spot")  # not on demand

    history = selectors.gpu_price_history(gpu=h100, display=USD, now=NOW)
    days = by_day(history)
    assert len(history.days) == selectors.PRICE_HISTORY_DAYS
    assert days[89] == days[11] == (1, Decimal("4.00"), Decimal("4.00"))
    assert days[10] == (1, Decimal("3.00"), Decimal("3.00"))
    assert days[5] == days[4] == (1, Decimal("2.50"), Decimal("2.50"))
    assert days[3] == days[0] == (2, Decimal("2.00"), Decimal("2.25"))


def test_an_offer_without_snapshots_counts_from_its_creation_at_its_price(acme_fra, h100):
    make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.50"))
    history = selectors.gpu_price_history(gpu=h100, display=USD)
    assert [(row.offers, row.median) for row in history.days] == [(1, Decimal("2.50"))]


def test_prices_are_converted_never_mixed_and_unconvertible_ones_left_out(acme_fra, beta_nyc, h100):
    eur = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.00"), currency="EUR")
    snapshot(eur, 2, "2.00")
    gbp = make_offer(beta_nyc.provider, beta_nyc, price_per_gpu_hour=Decimal("1.00"), currency="GBP")
    snapshot(gbp, 2, "1.00")
    ExchangeRate.objects.filter(currency="GBP").delete()

    history = selectors.gpu_price_history(gpu=h100, display=USD, now=NOW)
    assert history.currency == "USD" and history.left_out == 1
    assert by_day(history)[0] == (1, Decimal("2.1906"), Decimal("2.1906"))  # 2.00 EUR x 1.0953


def test_the_country_history_is_one_gpu_models_in_that_country(acme_fra, beta_nyc, h100):
    de = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.50"))
    snapshot(de, 1, "2.50")
    make_offer(acme_fra.provider, acme_fra, "h200", price_per_gpu_hour=Decimal("9.00"))
    make_offer(beta_nyc.provider, beta_nyc, price_per_gpu_hour=Decimal("1.00"))  # in the US
    history = selectors.country_price_history(country=Country("DE"), gpu_slug="h100-sxm", display=USD, now=NOW)
    assert {row.median for row in history.days} == {Decimal("2.50")}


class TestPages:
    def test_the_gpu_page_shows_the_chart_and_its_figures(self, client, de_h100, assert_page_queries):
        snapshot(de_h100, 3, "3.00")
        response = client.get("/gpus/h100-sxm/?currency=EUR")
        html = response.content.decode()
        assert "Median on-demand price per GPU-hour (EUR)" in html
        assert '<figure class="chart">' in html and "<svg" in html
        figures = html[html.index('class="price-history-figures"') :]
        assert re.search(r'<td class="num">1</td><td class="num">2\.2825</td>', figures)  # 2.50 USD in EUR

    def test_the_country_page_shows_the_history_of_the_model_asked_for(self, client, de_h100, acme_fra):
        make_offer(acme_fra.provider, acme_fra, "h200", price_per_gpu_hour=Decimal("9.00"))
        make_offer(acme_fra.provider, acme_fra, "h200", price_per_gpu_hour=Decimal("8.00"))
        html = client.get("/countries/de/").content.decode()
        assert "Price history: H200 SXM 141GB" in html  # the model with the most offers
        assert "Price history: H100 SXM 80GB" in client.get("/countries/de/?gpu=h100-sxm").content.decode()
        wrong = client.get("/countries/de/?gpu=b200").content.decode()
        assert "No offer of this GPU model is listed here; showing another one." in wrong
        assert "Price history: H200 SXM 141GB" in wrong

    def test_french_figures(self, client, de_h100):
        html = client.get("/gpus/h100-sxm/", headers={"Accept-Language": "fr"}).content.decode()
        figures = html[html.index('class="price-history-figures"') :]
        assert '<td class="num">2,50</td>' in figures
        axis = re.findall(r'class="axis">([^<]*)</text>', html[html.index('<figure class="chart">') :])
        assert axis and all(re.fullmatch(r"\d{1,2} [a-zéû]+\.?", label) for label in axis[-3:]), axis  # "5 déc."

    def test_the_pages_cost_a_constant_number_of_queries(self, client, de_h100, us_h200, acme_fra, assert_page_queries):
        # The history adds three queries to the GPU page (offers, snapshots, rates) and four to
        # the country page (and the regions spanning it), however many offers and snapshots.
        expected = {"/gpus/h100-sxm/": 10, "/countries/de/": 10, "/countries/de/?gpu=h200": 10, "/countries/": 1}
        for many in (False, True):
            if many:
                for days in range(5):
                    offer = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("3"))
                    snapshot(offer, days, "3.10")
                    make_offer(acme_fra.provider, acme_fra, "h200")
            for url, queries in expected.items():
                with assert_page_queries(queries):
                    assert client.get(url).status_code == 200
