"""The public browse pages: offer, providers, GPU models, countries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.models import Offer, OfferSnapshot
from marketplace.templatetags.marketplace_charts import step_chart_geometry
from portal.testing import make_offer, make_provider, make_stale
from providers.models import Provider, Region

pytestmark = pytest.mark.django_db


def html(response, status: int = 200) -> str:
    assert response.status_code == status
    return response.content.decode()


@pytest.fixture
def gamma(db):
    """A provider waiting for approval, with an offer that must stay private."""
    provider = make_provider("Gamma Cloud", "FR")
    provider.status = Provider.Status.PENDING
    provider.save()
    return provider


@pytest.fixture
def gamma_offer(gamma):
    region = Region.objects.create(provider=gamma, code="par-1", country="FR", city="Paris")
    return make_offer(gamma, region, "h100-sxm")


class TestOfferPage:
    def test_it_shows_specs_price_capacity_and_freshness(self, client, de_h100):
        page = html(client.get(f"/offers/{de_h100.pk}/"))
        for text in ["H100 SXM 80GB", "Acme GPU", "Germany", "Frankfurt", "eu-fra-1", "2.50", "USD", "32", "NVLink"]:
            assert text in page
        assert "InfiniBand" in page and "verified now" in page

    def test_it_charts_price_and_availability_history(self, client, de_h100):
        start = timezone.now() - timedelta(days=2)
        OfferSnapshot.objects.create(offer=de_h100, recorded_at=start, price_per_gpu_hour="3.00", nodes_available=2)
        OfferSnapshot.objects.create(
            offer=de_h100, recorded_at=start + timedelta(days=1), price_per_gpu_hour="2.50", nodes_available=4
        )
        page = html(client.get(f"/offers/{de_h100.pk}/"))
        assert page.count("<svg") == 2 and page.count("<polyline") == 2
        assert "Price per GPU-hour" in page and "GPUs available" in page

    def test_request_this_capacity_opens_the_request_form_and_no_contact_is_shown(self, client, de_h100, acme):
        acme.contact_email = "sales@acme.test"
        acme.save()
        page = html(client.get(f"/offers/{de_h100.pk}/"))
        assert f'href="/requests/new/?offer={de_h100.pk}" role="button"' in page
        assert "sales@acme.test" not in page  # shared with the developer only once a quote is accepted
        assert "sales@acme.test" not in html(client.get("/providers/acme-gpu/"))

    def test_a_stale_offer_is_shown_and_marked(self, client, de_h100):
        make_stale(de_h100)
        assert "stale-marker" in html(client.get(f"/offers/{de_h100.pk}/"))

    def test_a_withdrawn_offer_says_so_with_410(self, client, de_h100):
        Offer.objects.filter(pk=de_h100.pk).update(status=Offer.Status.WITHDRAWN)
        assert "This offer was withdrawn" in html(client.get(f"/offers/{de_h100.pk}/"), status=410)

    def test_an_offer_of_a_provider_not_approved_is_404(self, client, gamma_offer):
        assert client.get(f"/offers/{gamma_offer.pk}/").status_code == 404

    def test_an_unknown_offer_is_404(self, client, db):
        assert client.get("/offers/999999/").status_code == 404


class TestHistoryChart:
    def test_a_value_holds_until_the_next_snapshot(self):
        start = timezone.now()
        chart = step_chart_geometry([(start, 2), (start + timedelta(hours=1), 1)], end=start + timedelta(hours=2))
        points = [tuple(map(float, point.split(","))) for point in chart.polyline.split()]
        xs, ys = zip(*points, strict=True)
        assert xs == (64.0, 346.0, 346.0, 628.0, 628.0)  # left edge, the change (twice), now (twice)
        assert ys[0] == ys[1] and ys[2] == ys[3] == ys[4] and ys[0] < ys[2]  # 2 is drawn higher than 1
        assert [tick.value for tick in chart.y_ticks] == [0, pytest.approx(1.1), pytest.approx(2.2)]

    def test_nothing_to_draw(self):
        assert step_chart_geometry([], end=timezone.now()) is None


class TestProviderPages:
    def test_the_list_shows_approved_providers_with_their_capacity(self, client, de_h100, us_h200, gamma):
        page = html(client.get("/providers/"))
        assert "Acme GPU" in page and "Beta Compute" in page and "Gamma Cloud" not in page
        assert "/static/flags/de.gif" in page
        assert 'href="/?provider=beta-compute">1</a>' in page

    def test_the_profile_shows_regions_certifications_offers_and_sync_freshness(
        self, client, de_h100, acme, acme_par, certified
    ):
        acme.sync_connections.create(
            name="Inventory feed", base_url="https://acme.test/feed.json", last_success_at=timezone.now()
        )
        page = html(client.get("/providers/acme-gpu/"))
        for text in ["Acme GPU", "Germany", "eu-fra-1", "eu-par-1", "Paris", "SOC 2 Type II", "ISO 27001"]:
            assert text in page
        assert f'data-offer="{de_h100.pk}"' in page
        assert "last successful sync" in page and "Inventory feed" in page
        assert "https://acme.test/feed.json" not in page  # the feed's address is the provider's business

    def test_the_profile_lists_stale_offers_marked_but_not_withdrawn_ones(self, client, de_h100, acme_fra):
        withdrawn = make_offer(acme_fra.provider, acme_fra, "l4", status=Offer.Status.WITHDRAWN)
        make_stale(de_h100)
        page = html(client.get("/providers/acme-gpu/"))
        assert "stale-marker" in page and f'data-offer="{withdrawn.pk}"' not in page

    @pytest.mark.parametrize("status", [Provider.Status.PENDING, Provider.Status.SUSPENDED])
    def test_a_provider_not_approved_is_404(self, client, gamma, status):
        Provider.objects.filter(pk=gamma.pk).update(status=status)
        assert client.get("/providers/gamma-cloud/").status_code == 404

    def test_an_unknown_provider_is_404(self, client, db):
        assert client.get("/providers/nobody/").status_code == 404


class TestGpuPages:
    def test_the_list_shows_offer_counts_and_lowest_price(self, client, de_h100, acme_fra, gamma_offer):
        make_offer(acme_fra.provider, acme_fra, "h100-sxm", price_per_gpu_hour=Decimal("1.99"))
        page = html(client.get("/gpus/"))
        assert 'href="/?gpu=h100-sxm">2</a>' in page  # gamma's offer is not counted
        assert "1.99" in page
        assert "B300" in page  # every model of the catalogue, even without offers

    def test_the_gpu_page_shows_every_fresh_offer_and_the_price_spread(self, client, acme_fra, beta_nyc):
        prices = ["2.00", "2.50", "4.00"]
        offers = [
            make_offer(region.provider, region, "h100-sxm", price_per_gpu_hour=Decimal(price))
            for region, price in zip([acme_fra, beta_nyc, beta_nyc], prices, strict=True)
        ]
        stale = make_offer(acme_fra.provider, acme_fra, "h100-sxm", price_per_gpu_hour=Decimal("0.10"))
        make_stale(stale)
        response = client.get("/gpus/h100-sxm/")
        page = html(response)
        for offer in offers:
            assert f'data-offer="{offer.pk}"' in page
        assert f'data-offer="{stale.pk}"' not in page
        [spread] = response.context["spread"]
        assert (spread.low, spread.median, spread.high, spread.count) == (
            Decimal("2.00"),
            Decimal("2.50"),
            Decimal("4.00"),
            3,
        )
        assert "Germany" in page and "United States of America" in page
        assert 'href="/?gpu=h100-sxm&amp;country=US">2</a>' in page

    def test_an_unknown_gpu_is_404(self, client, db):
        assert client.get("/gpus/h999/").status_code == 404


class TestCountryPages:
    def test_the_list_shows_every_country_with_capacity(self, client, de_h100, us_h200, gamma_offer):
        page = html(client.get("/countries/"))
        assert "Germany" in page and "United States of America" in page
        assert "France" not in page  # only gamma (not approved) lists there
        assert "/static/flags/us.gif" in page and 'href="/?country=DE"' in page
        assert "European Union" in page

    @pytest.mark.parametrize("sort", ["gpus", "offers", "providers", "name", "bogus"])
    def test_the_list_sorts(self, client, de_h100, us_h200, sort):
        rows = client.get(f"/countries/?sort={sort}").context["rows"]
        expected = ["DE", "US"] if sort == "name" else ["US", "DE"] if sort in {"gpus", "bogus"} else None
        if expected:
            assert [row["country"].code for row in rows] == expected
        assert len(rows) == 2

    @pytest.mark.parametrize("code", ["de", "DE", "De"])
    def test_the_country_page_shows_gpus_and_providers_there(self, client, de_h100, code):
        page = html(client.get(f"/countries/{code}/"))
        assert "Germany" in page and "H100 SXM 80GB" in page and "Acme GPU" in page
        assert 'href="/?country=DE"' in page

    def test_a_country_without_capacity_says_so(self, client, db):
        assert "No GPU capacity is listed in France" in html(client.get("/countries/fr/"))

    @pytest.mark.parametrize("code", ["xx", "deu", "d", "12"])
    def test_a_code_that_is_not_an_iso_country_is_404(self, client, db, code):
        assert client.get(f"/countries/{code}/").status_code == 404


class TestCapacityWithoutACount:
    """An offer "available, count unknown" (nodes_available NULL) is the only one for its GPU in
    its country, as RunPod's and Shadeform's APIs publish them."""

    @pytest.fixture
    def unknown(self, acme_fra):
        return make_offer(acme_fra.provider, acme_fra, "h100-sxm", nodes_available=None)

    def test_the_gpu_page_lists_the_country(self, client, unknown):
        page = html(client.get("/gpus/h100-sxm/"))
        assert "Germany" in page and "count-unknown" in page

    def test_the_country_page_lists_the_gpu(self, client, unknown):
        page = html(client.get("/countries/de/"))
        assert "H100 SXM 80GB" in page and "count-unknown" in page

    @pytest.mark.parametrize("sort", ["gpus", "offers", "providers", "name"])
    def test_the_country_list_sorts(self, client, unknown, us_h200, sort):
        page = html(client.get(f"/countries/?sort={sort}"))
        assert "Germany" in page and "United States" in page


class TestFavicon:
    def test_the_pages_link_the_svg_icon(self, client, db):
        assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html(client.get("/"))

    def test_favicon_ico_is_sent_to_it_for_anyone(self, client, db):
        from django.contrib.staticfiles import finders

        response = client.get("/favicon.ico")

        assert (response.status_code, response["Location"]) == (302, "/static/img/favicon.svg")
        assert finders.find("img/favicon.svg")
