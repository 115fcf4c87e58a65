"""The catalog's sovereignty facts: operator jurisdiction filters beside the data centre's country,
certifications that count only when verified and unexpired (for their scope), and their badges."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.testing import certify, make_offer, make_provider
from providers import services
from providers.models import Region

pytestmark = pytest.mark.django_db


def shown(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'data-offer="(\d+)"', response.content.decode())]


@pytest.fixture
def world(acme, beta, acme_fra, beta_nyc, acme_par):
    """acme (DE, EU-owned) in Frankfurt and Paris; beta (US) in New York; a US-owned subsidiary
    incorporated in Ireland (IE) with a data centre in Dublin; a provider that states nothing."""
    services.provider_facts_update(
        provider=acme, legal_entity="Acme GPU GmbH", incorporation_country="DE", parent_country="DE"
    )
    services.provider_facts_update(provider=beta, legal_entity="Beta Compute Inc.", incorporation_country="US")
    services.provider_facts_update(provider=beta, parent_name="Beta Holdings", parent_country="US")
    subsidiary = make_provider("Emerald GPU", "IE")
    services.provider_facts_update(
        provider=subsidiary,
        legal_entity="Emerald GPU Ltd",
        incorporation_country="IE",
        parent_name="Big US Cloud Corp.",
        parent_country="US",
    )
    silent = make_provider("Quiet Cloud", "FR")
    dublin = Region.objects.create(provider=subsidiary, code="dub-1", country="IE", city="Dublin")
    paris = Region.objects.create(provider=silent, code="par", country="FR")
    return {
        "fra": make_offer(acme, acme_fra, price_per_gpu_hour=Decimal("2.00")),
        "par": make_offer(acme, acme_par, price_per_gpu_hour=Decimal("2.10")),
        "nyc": make_offer(beta, beta_nyc, price_per_gpu_hour=Decimal("2.20")),
        "dub": make_offer(subsidiary, dublin, price_per_gpu_hour=Decimal("2.30")),
        "quiet": make_offer(silent, paris, price_per_gpu_hour=Decimal("2.40")),
    }


def keys(world, response) -> list[str]:
    by_pk = {offer.pk: key for key, offer in world.items()}
    return [by_pk[pk] for pk in shown(response)]


class TestOperatorJurisdiction:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", ["fra", "par", "nyc", "dub", "quiet"]),
            # In the EU: the operator and its ultimate parent. A US-owned Irish subsidiary is not,
            # nor is a provider that does not say; its data centre in the EU changes nothing.
            ("operator_group=eu", ["fra", "par"]),
            ("operator_group=north-america", ["nyc"]),
            ("operator_group=eu&operator_group=north-america", ["fra", "par", "nyc", "dub"]),
            ("operator_country=de", ["fra", "par"]),
            ("operator_country=IE", []),
            ("operator_country=IE&operator_country=US", ["nyc", "dub"]),
            # Beside the data centre's country: EU-operated capacity in France.
            ("operator_group=eu&country=FR", ["par"]),
            ("country=IE", ["dub"]),
            ("country=IE&operator_group=eu", []),
        ],
    )
    def test_it_filters_on_the_operator_and_its_parent(self, client, world, query, expected):
        assert keys(world, client.get(f"/?{query}")) == expected

    def test_values_are_validated_deduplicated_and_capped(self, client, world):
        response = client.get("/?operator_group=eu&operator_group=eu&operator_country=de&operator_country=DE")
        assert response.context["form"].cleaned_data["operator_group"] == ["eu"]
        assert response.context["form"].cleaned_data["operator_country"] == ["DE"]
        response = client.get("/?operator_group=mars")
        assert "operator_group" in response.context["form"].errors
        assert len(shown(response)) == 5  # an invalid filter is ignored, the page still answers
        many = "&".join(f"operator_country={code}" for code in ["DE", "FR", "US", "GB", "IE", "NL"] * 8)
        response = client.get(f"/?{many}")  # the same six: deduplicated
        assert response.context["form"].cleaned_data["operator_country"] == ["DE", "FR", "US", "GB", "IE", "NL"]

    def test_the_facets_list_stated_jurisdictions(self, client, world):
        facets = client.get("/").context["facets"]
        assert [choice.value for choice in facets["operator_country"]] == ["DE", "IE", "US"]
        assert "eu" in [choice.value for choice in facets["operator_group"]]

    def test_the_filters_cost_no_query(self, client, world):
        client.get("/")  # warm the per-process lists
        with CaptureQueriesContext(connection) as plain:
            client.get("/?country=FR")
        with CaptureQueriesContext(connection) as filtered:
            client.get("/?country=FR&operator_group=eu&operator_country=DE")
        assert len(filtered) == len(plain)


class TestCertificationFilter:
    def test_only_verified_unexpired_records_count(self, client, world, acme, beta):
        yesterday = timezone.localdate() - timedelta(days=1)
        certify(acme, "iso27001")
        certify(beta, "iso27001", valid_until=yesterday)  # expired
        certify(beta, "soc2", verified=False)  # not verified

        assert keys(world, client.get("/?cert=iso27001")) == ["fra", "par"]
        assert keys(world, client.get("/?cert=soc2")) == []

    def test_a_record_scoped_to_regions_counts_for_their_offers_only(self, client, world, acme, acme_par):
        certify(acme, "c5", regions=[acme_par])
        certify(acme, "soc2")

        assert keys(world, client.get("/?cert=c5")) == ["par"]
        assert keys(world, client.get("/?cert=c5&cert=soc2")) == ["par"]  # all of them, each for the offer

    def test_all_of_them_mixes_whole_provider_and_regional_records(self, client, world, acme, beta, acme_par, beta_nyc):
        certify(acme, "soc2")
        certify(acme, "c5", regions=[acme_par])
        certify(beta, "c5")
        certify(beta, "soc2", regions=[beta_nyc])
        certify(beta, "hipaa", regions=[beta_nyc], verified=False)

        assert keys(world, client.get("/?cert=soc2&cert=c5")) == ["par", "nyc"]
        assert keys(world, client.get("/?cert=soc2")) == ["fra", "par", "nyc"]
        assert keys(world, client.get("/?cert=soc2&cert=hipaa")) == []

    def test_a_record_counts_through_its_last_day(self, client, world, acme):
        certify(acme, "soc2", valid_until=timezone.localdate())
        assert keys(world, client.get("/?cert=soc2")) == ["fra", "par"]


class TestBadges:
    def test_the_provider_page_shows_the_operator_and_each_records_state(self, client, world, acme, acme_par):
        yesterday = timezone.localdate() - timedelta(days=1)
        certify(acme, "iso27001", issuer="TÜV SÜD", certificate_id="12 310 12345", evidence_url="https://a.example/c")
        certify(acme, "soc2", valid_until=yesterday)
        certify(acme, "c5", verified=False)
        certify(acme, "pci-dss", regions=[acme_par])
        services.provider_facts_update(provider=acme, dpa_offered=True, dpa_url="https://acme.example/dpa")

        page = client.get("/providers/acme-gpu/").content.decode()

        assert "EU operator" in page and "Acme GPU GmbH" in page
        assert 'href="https://acme.example/dpa"' in page  # the GDPR DPA: a document, linked
        assert re.search(r'class="badge ok"[^>]*>ISO 27001 <small>until', page)
        assert re.search(r'class="badge bad"[^>]*>SOC 2 Type II · expired', page)
        assert re.search(r'class="badge"[^>]*>BSI C5 · not verified', page)
        assert "PCI DSS <small>until" in page and "eu-par-1</span>" in page
        assert "TÜV SÜD" in page and 'href="https://a.example/c"' in page

    def test_a_us_owned_subsidiary_is_not_an_eu_operator(self, client, world):
        page = client.get("/providers/emerald-gpu/").content.decode()
        assert "EU operator" not in page
        assert "Emerald GPU Ltd" in page and "Big US Cloud Corp." in page

    def test_a_provider_that_states_nothing_says_so(self, client, world):
        page = client.get("/providers/quiet-cloud/").content.decode()
        assert "Operator not stated" in page and "ultimate parent not stated" in page

    def test_the_offer_page_shows_the_records_covering_its_location(self, client, world, acme, acme_par):
        certify(acme, "soc2")
        certify(acme, "pci-dss", regions=[acme_par])

        fra = client.get(f"/offers/{world['fra'].pk}/").content.decode()
        par = client.get(f"/offers/{world['par'].pk}/").content.decode()

        assert "EU operator" in fra
        assert "SOC 2 Type II" in fra and "PCI DSS" not in fra
        assert "SOC 2 Type II" in par and "PCI DSS" in par

    def test_the_provider_list_shows_jurisdictions_and_states(self, client, world, acme, beta):
        certify(acme, "soc2")
        certify(beta, "soc2", verified=False)
        page = client.get("/providers/").content.decode()
        assert page.count("EU operator") == 1
        assert "SOC 2 Type II · not verified" in page

    def test_the_provider_list_costs_the_same_queries_with_more_records(self, client, world, acme, beta):
        certify(acme, "soc2")
        with CaptureQueriesContext(connection) as few:
            client.get("/providers/")
        for provider in [acme, beta]:
            for slug in ["iso27001", "c5", "hipaa"]:
                certify(provider, slug)
        with CaptureQueriesContext(connection) as many:
            client.get("/providers/")
        assert len(many) == len(few)
