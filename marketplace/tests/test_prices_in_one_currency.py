"""Prices in one currency: ISO 4217 codes, a normalized price on every offer, the ECB's rates, and a
catalog that compares, filters and shows prices in the currency the reader picks."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from marketplace.fx import (
    SNAPSHOT_PATH,
    EcbRates,
    RatesError,
    ecb_rates_parse,
    normalized_bound,
    price_normalize,
    price_shown,
)
from marketplace.models import ExchangeRate, GpuModel, Offer
from marketplace.selectors import catalog_search
from marketplace.services import exchange_rates_apply, offer_create
from marketplace.tasks import exchange_rates_refresh_task
from portal.testing import admin_url, make_offer, make_user

pytestmark = pytest.mark.django_db

USD, JPY = Decimal("1.0953"), Decimal("157.91")  # the shipped snapshot's rates (4 January 2024)


def listed_prices(response) -> list[str]:
    return [offer.pk for offer in response.context["results"].page]


# --- The rates --------------------------------------------------------------------------------


def test_the_shipped_snapshot_is_the_ecbs_answer_and_is_loaded_by_migrations():
    rates = ecb_rates_parse(SNAPSHOT_PATH.read_bytes())
    assert rates.rate_date == date(2024, 1, 4)
    assert len(rates.units_per_eur) == 30
    assert ExchangeRate.objects.units_per_eur() == {"EUR": Decimal(1), **rates.units_per_eur}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<html>oops</html>", "Expected the rates of one day, found 0"),
        (b"not xml", "is not XML"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>", "declares a DOCTYPE"),
        (
            b"<E xmlns='http://www.ecb.int/vocabulary/2002-08-01/eurofxref'><Cube><Cube time='2024-01-04'>"
            b"<Cube currency='USD' rate='-1'/></Cube></Cube></E>",
            "is not a positive number",
        ),
        (
            b"<E xmlns='http://www.ecb.int/vocabulary/2002-08-01/eurofxref'><Cube><Cube time='2024-01-04'>"
            b"<Cube currency='XYZ' rate='2'/></Cube></Cube></E>",
            "'XYZ' is not a currency",
        ),
    ],
)
def test_an_answer_that_is_not_the_ecbs_rates_is_refused(payload, message):
    with pytest.raises(RatesError, match=message):
        ecb_rates_parse(payload)


def test_new_rates_reprice_the_offers_of_the_currencies_that_moved(acme_fra):
    usd = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.19"), currency="USD")
    eur = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.00"), currency="EUR")
    assert usd.price_normalized == Decimal("1.9994522049")  # 2.19 / 1.0953

    moved = EcbRates(rate_date=date(2024, 1, 5), units_per_eur={"USD": Decimal("1.2"), "JPY": JPY})
    assert exchange_rates_apply(rates=moved, now=timezone.now()) == 1

    usd.refresh_from_db()
    eur.refresh_from_db()
    assert (usd.price_normalized, eur.price_normalized) == (Decimal("1.8250000000"), Decimal("2.0000000000"))
    assert ExchangeRate.objects.get(currency="USD").rate_date == date(2024, 1, 5)
    assert ExchangeRate.objects.get(currency="GBP").rate_date == date(2024, 1, 4)  # not in the answer: kept


def test_older_rates_never_replace_newer_ones(acme_fra):
    older = EcbRates(rate_date=date(2023, 12, 1), units_per_eur={"USD": Decimal("2")})
    assert exchange_rates_apply(rates=older, now=timezone.now()) == 0
    assert ExchangeRate.objects.get(currency="USD").units_per_eur == USD


def test_the_periodic_task_fetches_the_ecbs_rates_over_the_guarded_client(local_server, settings, acme_fra):
    offer = make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("3.00"), currency="USD")
    answer = SNAPSHOT_PATH.read_bytes().replace(b"2024-01-04", b"2024-01-05").replace(b"1.0953", b"1.5000")
    local_server.serve("/eurofxref-daily.xml", answer)
    settings.FX_RATES_URL = local_server.url("/eurofxref-daily.xml")

    assert exchange_rates_refresh_task() == 1

    offer.refresh_from_db()
    assert offer.price_normalized == Decimal("2.0000000000")
    assert local_server.requests[0].headers["User-Agent"].startswith("gpu-marketplace")


def test_the_task_is_scheduled_in_production_only():
    from portal.tests.test_settings import PRODUCTION, manage

    code = "from django.conf import settings; print(sorted(settings.CELERY_BEAT_SCHEDULE))"
    assert "exchange-rates-refresh" in manage("shell", "-c", code, **PRODUCTION).stdout
    assert "exchange-rates-refresh" not in manage("shell", "-c", code).stdout


def test_a_file_of_rates_is_loaded_by_hand(tmp_path, acme_fra):
    path = tmp_path / "rates.xml"
    path.write_bytes(SNAPSHOT_PATH.read_bytes().replace(b"2024-01-04", b"2024-02-01"))
    call_command("exchange_rates_load", "--file", str(path))
    assert ExchangeRate.objects.get(currency="USD").rate_date == date(2024, 2, 1)


class TestAdmin:
    def test_rates_and_their_date_are_listed_and_stale_ones_flagged(self, client):
        client.force_login(make_user("root", is_staff=True, is_superuser=True))
        response = client.get(admin_url(ExchangeRate, "changelist"), follow=True)
        assert response.status_code == 200
        assert "1.095300" in response.text and "Jan. 4, 2024" in response.text
        assert "The exchange rates are stale: the newest is of 2024-01-04." in response.text

    def test_fresh_rates_are_not_flagged(self, client):
        ExchangeRate.objects.update(rate_date=timezone.localdate() - timedelta(days=1))
        client.force_login(make_user("root", is_staff=True, is_superuser=True))
        assert "stale" not in client.get(admin_url(ExchangeRate, "changelist")).text.split("<table")[0]


# --- Every write stores a normalized price, and only for ISO 4217 currencies with a rate --------


class TestWrites:
    def test_an_offer_keeps_its_own_price_and_stores_it_in_euros(self, acme, acme_fra):
        offer = offer_create(
            provider=acme,
            region=acme_fra,
            gpu_model=GpuModel.objects.get(slug="h100-sxm"),
            gpus_per_node=8,
            pricing_type="on_demand",
            price_per_gpu_hour=Decimal("2.68"),
            currency="USD",
            nodes_available=1,
        )
        assert (offer.price_per_gpu_hour, offer.currency) == (Decimal("2.68"), "USD")
        assert offer.price_normalized == price_normalize(Decimal("2.68"), USD) == Decimal("2.4468182233")

    @pytest.mark.parametrize(
        ("currency", "message"),
        [
            ("XYZ", "“XYZ” is not an ISO 4217 currency code"),
            ("usd", "“usd” is not an ISO 4217 currency code"),
            ("AED", "The portal has no exchange rate for AED"),
        ],
    )
    def test_a_currency_that_cannot_be_compared_is_refused(self, acme, acme_fra, currency, message):
        with pytest.raises(ValidationError, match=message) as error:
            offer_create(
                provider=acme,
                region=acme_fra,
                gpu_model=GpuModel.objects.get(slug="h100-sxm"),
                gpus_per_node=8,
                pricing_type="on_demand",
                price_per_gpu_hour=Decimal("1.99"),
                currency=currency,
            )
        assert list(error.value.message_dict) == ["currency"]
        assert not Offer.objects.exists()


# --- The catalog compares in one currency ------------------------------------------------------


@pytest.fixture
def priced(acme_fra):
    """The same figure, 2.68, in EUR, in USD and in JPY."""
    return {
        code: make_offer(acme_fra.provider, acme_fra, price_per_gpu_hour=Decimal("2.68"), currency=code).pk
        for code in ("EUR", "USD", "JPY")
    }


class TestCatalog:
    def test_the_price_sort_compares_converted_prices(self, client, priced):
        # 2.68 JPY < 2.68 USD < 2.68 EUR.
        assert listed_prices(client.get("/?sort=price")) == [priced["JPY"], priced["USD"], priced["EUR"]]

    def test_max_price_is_read_in_the_chosen_currency(self, client, priced):
        assert sorted(listed_prices(client.get("/?currency=EUR&max_price=2.50"))) == [priced["USD"], priced["JPY"]]
        # 2.68 USD is 2.4468 EUR (2.4468182...): kept at 2.4468, not at 2.4467.
        assert listed_prices(client.get("/?currency=EUR&max_price=2.4467")) == [priced["JPY"]]
        assert sorted(listed_prices(client.get("/?currency=EUR&max_price=2.4468"))) == [priced["USD"], priced["JPY"]]
        # The default currency is USD: 2.68 EUR is 2.9354 USD.
        assert len(listed_prices(client.get("/?max_price=2.9353"))) == 2
        assert len(listed_prices(client.get("/?max_price=2.9354"))) == 3

    def test_max_price_in_eur_returns_exactly_the_offers_whose_converted_price_is_within_it(self, acme_fra):
        rng = random.Random(10)
        rates = ExchangeRate.objects.units_per_eur()
        for _ in range(120):
            currency = rng.choice(sorted(rates))
            price = Decimal(rng.randrange(1, 5_000_000)).scaleb(-4) / (1 if currency in {"EUR", "USD"} else 10)
            make_offer(
                acme_fra.provider, acme_fra, price_per_gpu_hour=price.quantize(Decimal("0.0001")), currency=currency
            )
        offers = list(Offer.objects.all())
        for currency in ("EUR", "USD", "JPY", "GBP"):
            shown = {offer.pk: _shown(offer, currency, rates[currency]) for offer in offers}
            for max_price in sorted(set(rng.sample(sorted(shown.values()), 15))) + [Decimal("0"), Decimal("9999")]:
                params = QueryDict(f"currency={currency}&max_price={max_price}&per_page=200&sold_out=1")
                found = {offer.pk for offer in catalog_search(params=params).page}
                assert found == {pk for pk, price in shown.items() if price <= max_price}, (currency, max_price)

    def test_prices_are_shown_converted_beside_the_providers_own(self, client, priced):
        html = client.get("/?currency=EUR").text
        assert "<strong>2.68</strong>&nbsp;<small>EUR</small>" in html  # the EUR offer, as listed
        assert '<strong>2.4468</strong>&nbsp;<small>EUR</small><br><small class="listed"' in html
        assert "2.68&nbsp;USD</small>" in html and "2.68&nbsp;JPY</small>" in html

    def test_the_menu_offers_usd_eur_and_every_currency_with_a_rate(self, client, priced):
        response = client.get("/")
        codes = [code for code, _label in response.context["form"].fields["currency"].choices]
        assert codes[:2] == ["USD", "EUR"] and len(codes) == 31 and "JPY" in codes
        assert "European Central Bank's reference rates of Jan. 4, 2024" in response.text

    def test_an_unknown_currency_is_reported_and_the_default_used(self, client, priced):
        response = client.get("/?currency=XYZ")
        assert "XYZ is not one of the available choices" in response.text
        assert response.context["results"].display.currency == "USD"

    def test_the_facet_counts_follow_the_currency_of_max_price(self, client, priced):
        counts = {c.value: c.count for c in client.get("/?currency=EUR&max_price=2.5").context["facets"]["gpu"]}
        assert counts == {"h100-sxm": 2}
        counts = {c.value: c.count for c in client.get("/?currency=JPY&max_price=2.5").context["facets"]["gpu"]}
        assert counts == {}

    def test_from_prices_are_the_lowest_converted_price(self, client, priced):
        html = client.get(reverse("marketplace:gpu_list") + "?currency=EUR").text
        assert "From / GPU-h (EUR)" in html
        assert '<td class="num">0.017</td>' in html  # 2.68 JPY is 0.0170 EUR

    def test_the_offer_page_shows_the_listed_price_and_its_conversion(self, client, priced):
        html = client.get(reverse("marketplace:offer_detail", args=[priced["EUR"]])).text
        assert "2.68 <small>EUR</small>" in html and "about 2.9354 USD" in html


def _shown(offer: Offer, currency: str, rate: Decimal) -> Decimal:
    return offer.price_per_gpu_hour if offer.currency == currency else price_shown(offer.price_normalized, rate)


def test_the_bound_is_exact_at_the_rounding_edge():
    # 2.4468182233 EUR is 2.6800 USD; one grid step more is still 2.6800 (half-up at 2.68005).
    bound = normalized_bound(Decimal("2.68"), USD)
    assert price_shown(bound, USD) == Decimal("2.68")
    assert price_shown(bound + Decimal("1e-10"), USD) == Decimal("2.6801")
