"""Offer rows (marketplace/offer_rows.py): the HTML of each kind of row, pinned byte for byte.

The rows were a template (components/offer_row.html with country, capacity and freshness
includes); the expected HTML below is what that template rendered, so the faster renderer is
the same page; since then each cell also names its column (data-label, for the cards of a narrow
screen). Time is frozen: "verified 3 minutes ago" is computed when the row is rendered.

Changed on purpose since (marketplace/formats.py, one rule for numbers): sizes read in TB from a
thousand GB ("2 TB RAM" is "2 TB RAM", "16 TB disk" "16 TB disk"), and numbers follow the
language: "3,10" for a price in French, GPU counts grouped by thousands.
"""

# ruff: noqa: E501 (rows of HTML, as they are served)

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string
from django.utils import translation
from django_countries.fields import Country

from marketplace.models import Offer
from marketplace.offer_rows import OfferRows
from marketplace.selectors import ROW_RELATIONS
from portal.testing import make_offer, make_provider
from providers.models import Region

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 14, 5, 30, tzinfo=UTC)
VERIFIED = NOW - timedelta(minutes=3)


@pytest.fixture
def offers(acme_fra, beta_nyc):
    """One offer of each kind, verified 3 minutes before NOW (the stale one 10 days before)."""
    odd = make_provider("Smith & <Sons>", "GB")
    odd_region = Region.objects.create(provider=odd, code="o'1", country="GB", city='St "Ives"')
    with time_machine.travel(VERIFIED, tick=False):
        made = {
            "counted": make_offer(acme_fra.provider, acme_fra, gpu_interconnect="nvlink", network="infiniband"),
            "unknown": make_offer(acme_fra.provider, acme_fra, "l40s", nodes_available=None, nodes_total=None),
            "unknown of a total": make_offer(acme_fra.provider, acme_fra, nodes_available=None, storage_gb=4000),
            "sold out": make_offer(acme_fra.provider, acme_fra, nodes_available=0, network="ethernet"),
            "reserved": make_offer(
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
                storage_gb=16000,
            ),
            "bare": make_offer(
                odd,
                odd_region,
                "rtx-4090",
                gpus_per_node=1,
                vcpus=None,
                ram_gb=None,
                price_per_gpu_hour=Decimal("0.0425"),
                currency="EUR",
                nodes_available=1,
                nodes_total=None,
                pricing_type="spot",
                min_term_months=1,
            ),
        }
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        made["stale"] = make_offer(
            acme_fra.provider, acme_fra, ram_gb=None, external_id="stale", status=Offer.Status.STALE
        )
    return {name: Offer.objects.select_related(*ROW_RELATIONS).get(pk=offer.pk) for name, offer in made.items()}


def render(offer: Offer, language: str = "en") -> str:
    with translation.override(language), time_machine.travel(NOW, tick=False):
        return OfferRows().render([offer])


def expected(offer: Offer, html: str) -> str:
    """The pinned HTML, with the offer's id (ids differ from one database to another)."""
    return html.replace("{pk}", str(offer.pk))


def test_a_row_with_a_count_of_gpus(offers):
    assert render(offers["counted"]) == expected(
        offers["counted"],
        """<tr class="offer-row" data-offer="{pk}">
  <td data-label="GPU"><a href="/gpus/h100-sxm/"><strong>H100 SXM 80GB</strong></a></td>
  <td data-label="Provider"><a href="/providers/acme-gpu/">Acme GPU</a></td>
  <td class="location" data-label="Location"><span class="place"><a href="/countries/de/" class="country" title="Germany"><img class="flag" src="/static/flags/de.gif" alt="" width="16" height="11" loading="lazy">DE</a> Frankfurt</span><br><small class="muted">eu-fra-1</small></td>
  <td class="num" data-label="GPUs / node">8</td>
  <td data-label="Node"><small>128 vCPU · 2 TB RAM<br><span class="muted">NVLink / InfiniBand</span></small></td>
  <td class="num price" data-label="Price / GPU-h"><strong>2.50</strong>&nbsp;<small>USD</small><br><small class="muted">On demand</small></td>
  <td class="num capacity" data-label="Available"><strong>32</strong> <small>GPUs</small><br><small class="muted">4 / 16 nodes</small>
</td>
  <td data-label="Verified"><small><time datetime="2026-03-02T14:02:30+00:00" title="March 2, 2026, 2:02 p.m." class="verified">verified 3\xa0minutes ago</time></small></td>
  <td class="details"><a href="/offers/{pk}/" aria-label="Offer details">Details</a></td>
</tr>
""",
    )


def test_a_row_whose_count_is_not_published(offers):
    assert render(offers["unknown"]) == expected(
        offers["unknown"],
        """<tr class="offer-row" data-offer="{pk}">
  <td data-label="GPU"><a href="/gpus/l40s/"><strong>L40S 48GB</strong></a></td>
  <td data-label="Provider"><a href="/providers/acme-gpu/">Acme GPU</a></td>
  <td class="location" data-label="Location"><span class="place"><a href="/countries/de/" class="country" title="Germany"><img class="flag" src="/static/flags/de.gif" alt="" width="16" height="11" loading="lazy">DE</a> Frankfurt</span><br><small class="muted">eu-fra-1</small></td>
  <td class="num" data-label="GPUs / node">8</td>
  <td data-label="Node"><small>128 vCPU · 2 TB RAM<br><span class="muted"></span></small></td>
  <td class="num price" data-label="Price / GPU-h"><strong>2.50</strong>&nbsp;<small>USD</small><br><small class="muted">On demand</small></td>
  <td class="num capacity" data-label="Available"><strong class="availability unknown-count" title="Available now; the provider does not publish how many.">Available</strong><br><small class="muted">count not published</small>
</td>
  <td data-label="Verified"><small><time datetime="2026-03-02T14:02:30+00:00" title="March 2, 2026, 2:02 p.m." class="verified">verified 3\xa0minutes ago</time></small></td>
  <td class="details"><a href="/offers/{pk}/" aria-label="Offer details">Details</a></td>
</tr>
""",
    )
    assert "count not published, 16 nodes in total" in render(offers["unknown of a total"])
    assert '<span class="muted">4 TB disk</span>' in render(offers["unknown of a total"])


def test_a_sold_out_row(offers):
    assert render(offers["sold out"]) == expected(
        offers["sold out"],
        """<tr class="offer-row sold-out" data-offer="{pk}">
  <td data-label="GPU"><a href="/gpus/h100-sxm/"><strong>H100 SXM 80GB</strong></a></td>
  <td data-label="Provider"><a href="/providers/acme-gpu/">Acme GPU</a></td>
  <td class="location" data-label="Location"><span class="place"><a href="/countries/de/" class="country" title="Germany"><img class="flag" src="/static/flags/de.gif" alt="" width="16" height="11" loading="lazy">DE</a> Frankfurt</span><br><small class="muted">eu-fra-1</small></td>
  <td class="num" data-label="GPUs / node">8</td>
  <td data-label="Node"><small>128 vCPU · 2 TB RAM<br><span class="muted">Ethernet</span></small></td>
  <td class="num price" data-label="Price / GPU-h"><strong>2.50</strong>&nbsp;<small>USD</small><br><small class="muted">On demand</small></td>
  <td class="num capacity" data-label="Available"><strong class="availability sold-out">Sold out</strong><br><small class="muted">0 / 16 nodes</small>
</td>
  <td data-label="Verified"><small><time datetime="2026-03-02T14:02:30+00:00" title="March 2, 2026, 2:02 p.m." class="verified">verified 3\xa0minutes ago</time></small></td>
  <td class="details"><a href="/offers/{pk}/" aria-label="Offer details">Details</a></td>
</tr>
""",
    )


def test_a_stale_row(offers):
    assert render(offers["stale"]) == expected(
        offers["stale"],
        """<tr class="offer-row stale" data-offer="{pk}">
  <td data-label="GPU"><a href="/gpus/h100-sxm/"><strong>H100 SXM 80GB</strong></a></td>
  <td data-label="Provider"><a href="/providers/acme-gpu/">Acme GPU</a></td>
  <td class="location" data-label="Location"><span class="place"><a href="/countries/de/" class="country" title="Germany"><img class="flag" src="/static/flags/de.gif" alt="" width="16" height="11" loading="lazy">DE</a> Frankfurt</span><br><small class="muted">eu-fra-1</small></td>
  <td class="num" data-label="GPUs / node">8</td>
  <td data-label="Node"><small>128 vCPU<br><span class="muted"></span></small></td>
  <td class="num price" data-label="Price / GPU-h"><strong>2.50</strong>&nbsp;<small>USD</small><br><small class="muted">On demand</small></td>
  <td class="num capacity" data-label="Available"><strong>32</strong> <small>GPUs</small><br><small class="muted">4 / 16 nodes</small>
</td>
  <td data-label="Verified"><small><time datetime="2026-02-20T14:05:30+00:00" title="Feb. 20, 2026, 2:05 p.m." class="verified">verified 1\xa0week, 3\xa0days ago</time> <span class="badge bad stale-marker" title="Not verified recently: the provider has not confirmed this offer.">stale</span></small></td>
  <td class="details"><a href="/offers/{pk}/" aria-label="Offer details">Details</a></td>
</tr>
""",
    )


def test_a_reserved_row_with_its_minimum_term(offers):
    assert render(offers["reserved"]) == expected(
        offers["reserved"],
        """<tr class="offer-row" data-offer="{pk}">
  <td data-label="GPU"><a href="/gpus/h200/"><strong>H200 SXM 141GB</strong></a></td>
  <td data-label="Provider"><a href="/providers/beta-compute/">Beta Compute</a></td>
  <td class="location" data-label="Location"><span class="place"><a href="/countries/us/" class="country" title="United States of America"><img class="flag" src="/static/flags/us.gif" alt="" width="16" height="11" loading="lazy">US</a> New York</span><br><small class="muted">us-east-1</small></td>
  <td class="num" data-label="GPUs / node">8</td>
  <td data-label="Node"><small>128 vCPU · 2 TB RAM<br><span class="muted">16 TB disk · PCIe / Ethernet</span></small></td>
  <td class="num price" data-label="Price / GPU-h"><strong>3.10</strong>&nbsp;<small>USD</small><br><small class="muted">Reserved, min 12 months</small></td>
  <td class="num capacity" data-label="Available"><strong>80</strong> <small>GPUs</small><br><small class="muted">10 / 20 nodes</small>
</td>
  <td data-label="Verified"><small><time datetime="2026-03-02T14:02:30+00:00" title="March 2, 2026, 2:02 p.m." class="verified">verified 3\xa0minutes ago</time></small></td>
  <td class="details"><a href="/offers/{pk}/" aria-label="Offer details">Details</a></td>
</tr>
""",
    )


def test_names_are_escaped_and_missing_specs_left_out(offers):
    assert render(offers["bare"]) == expected(
        offers["bare"],
        """<tr class="offer-row" data-offer="{pk}">
  <td data-label="GPU"><a href="/gpus/rtx-4090/"><strong>RTX 4090 24GB</strong></a></td>
  <td data-label="Provider"><a href="/providers/smith-sons/">Smith &amp; &lt;Sons&gt;</a></td>
  <td class="location" data-label="Location"><span class="place"><a href="/countries/gb/" class="country" title="United Kingdom"><img class="flag" src="/static/flags/gb.gif" alt="" width="16" height="11" loading="lazy">GB</a> St &quot;Ives&quot;</span><br><small class="muted">o&#x27;1</small></td>
  <td class="num" data-label="GPUs / node">1</td>
  <td data-label="Node"><small><br><span class="muted"></span></small></td>
  <td class="num price" data-label="Price / GPU-h"><strong>0.0425</strong>&nbsp;<small>EUR</small><br><small class="muted">Spot, min 1 month</small></td>
  <td class="num capacity" data-label="Available"><strong>1</strong> <small>GPUs</small><br><small class="muted">1 node</small>
</td>
  <td data-label="Verified"><small><time datetime="2026-03-02T14:02:30+00:00" title="March 2, 2026, 2:02 p.m." class="verified">verified 3\xa0minutes ago</time></small></td>
  <td class="details"><a href="/offers/{pk}/" aria-label="Offer details">Details</a></td>
</tr>
""",
    )


def test_rows_in_french(offers):
    with translation.override("fr"):  # "2 To de RAM" once translated: the sizes in TB are new texts
        ram, disk = translation.gettext("%(n)s TB RAM") % {"n": 2}, translation.gettext("%(n)s TB disk") % {"n": 16}
    assert render(offers["reserved"], "fr") == expected(
        offers["reserved"],
        """<tr class="offer-row" data-offer="{pk}">
  <td data-label="GPU"><a href="/gpus/h200/"><strong>H200 SXM 141GB</strong></a></td>
  <td data-label="Fournisseur"><a href="/providers/beta-compute/">Beta Compute</a></td>
  <td class="location" data-label="Emplacement"><span class="place"><a href="/countries/us/" class="country" title="États-Unis d&#x27;Amérique"><img class="flag" src="/static/flags/us.gif" alt="" width="16" height="11" loading="lazy">US</a> New York</span><br><small class="muted">us-east-1</small></td>
  <td class="num" data-label="GPU / nœud">8</td>
  <td data-label="Nœud"><small>128 vCPU · {ram}<br><span class="muted">{disk} · PCIe / Ethernet</span></small></td>
  <td class="num price" data-label="Prix / GPU-h"><strong>3,10</strong>&nbsp;<small>USD</small><br><small class="muted">Réservé, min. 12 mois</small></td>
  <td class="num capacity" data-label="Disponible"><strong>80</strong> <small>GPU</small><br><small class="muted">10 / 20 nœuds</small>
</td>
  <td data-label="Vérification"><small><time datetime="2026-03-02T14:02:30+00:00" title="2 mars 2026 14:02" class="verified">vérifiée il y a 3\xa0minutes</time></small></td>
  <td class="details"><a href="/offers/{pk}/" aria-label="Détails de l'offre">Détails</a></td>
</tr>
""",
    ).replace("{ram}", ram).replace("{disk}", disk)
    stale = render(offers["stale"], "fr")
    assert 'class="offer-row stale"' in stale and ">périmée</span>" in stale
    unknown = render(offers["unknown of a total"], "fr")
    assert ">Disponible</strong>" in unknown and "quantité non publiée, 16 nœuds au total" in unknown
    assert "Complet" in render(offers["sold out"], "fr") and "1 nœud<" in render(offers["bare"], "fr")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_country_link_and_the_freshness_note_match_their_components(offers, language):
    """Other pages show countries and freshness with the component templates: the same markup."""
    with translation.override(language), time_machine.travel(NOW, tick=False):
        rows = OfferRows()
        for code in ["DE", "US", "GB"]:
            country = Country(code)
            component = render_to_string("components/country.html", {"country": country, "link": True, "short": True})
            assert rows.country_link(country) == component
        for offer in [offers["counted"], offers["stale"]]:
            component = render_to_string("components/freshness.html", {"offer": offer})
            assert rows.freshness(offer.last_verified_at, offer.is_stale) == component


def test_rendering_rows_reads_nothing_more_from_the_database(offers, django_assert_num_queries):
    page = list(Offer.objects.select_related(*ROW_RELATIONS).order_by("pk"))

    with django_assert_num_queries(0):
        html = OfferRows().render(page)

    assert [f'data-offer="{offer.pk}"' in html for offer in page] == [True] * len(offers)


def test_every_table_of_offers_renders_its_rows_or_says_it_has_none(client, offers):
    urls = ["/?provider=acme-gpu", "/providers/acme-gpu/", "/gpus/h200/", "/?gpu=b200", "/gpus/b200/"]
    with time_machine.travel(NOW, tick=False):
        catalog, provider, gpu, no_match, no_offer = (client.get(url).content.decode() for url in urls)

    assert render(offers["counted"]) in catalog and render(offers["counted"]) in provider
    assert render(offers["reserved"]) in gpu
    assert "No offers match these filters." in no_match and "data-offer" not in no_match
    assert "No offers listed right now." in no_offer and "data-offer" not in no_offer


def test_numbers_follow_the_language(offers):
    offer = offers["bare"]
    offer.price_per_gpu_hour, offer.nodes_available, offer.gpus_per_node = Decimal("0.0425"), 128, 8
    offer.gpus_available = 1024  # a generated column: the database would compute it
    offer.storage_gb, offer.ram_gb = 3840, 512
    english, french = render(offer), render(offer, "fr")
    assert "<strong>0.0425</strong>" in english and "<strong>0,0425</strong>" in french
    assert "<strong>1,024</strong> <small>GPUs</small>" in english and "<strong>1\xa0024</strong>" in french
    assert "512 GB RAM" in english and "512 Go de RAM" in french
    assert "3.8 TB disk" in english and "3,8 T" in french
