"""The world map on the country list: vendored shapes, coloured by the country list's own figures,
each country with capacity a link to the catalog filtered on it."""

import re

import pytest
from django_countries.fields import Country

from marketplace.world_map import SHADE_FLOORS, _shapes, shade_of, world_map
from portal.testing import make_offer
from providers.models import Region

pytestmark = pytest.mark.django_db


def map_links(response) -> dict[str, tuple[str, str]]:
    """Country code -> (link, tooltip) of each country drawn as a link on the map."""
    html = response.content.decode()
    svg = html[html.index('<figure class="world-map">') : html.index("</figure>")]
    return {
        code: (href, title)
        for href, code, title in re.findall(
            r'<a href="([^"]*)" class="shade-\d" data-country="(\w\w)"><title>([^<]*)</title>', svg
        )
    }


def test_the_shapes_are_iso_countries_mapped_from_their_numeric_codes():
    width, height, shapes = _shapes()
    codes = {shape.code for shape in shapes}
    assert {"DE", "US", "FR", "SG", "JP", "IN", "NO", "HK", "LU"} <= codes
    assert width == 1000 and 300 < height < 500
    singapore = next(shape for shape in shapes if shape.code == "SG")
    assert singapore.dot is not None  # too small to tap: drawn with a marker


def test_countries_with_capacity_link_to_the_filtered_catalog(client, de_h100, us_h200, assert_page_queries):
    with assert_page_queries(1):  # the country list's one query: the map reads the same rows
        response = client.get("/countries/")
    links = map_links(response)
    assert set(links) == {"DE", "US"}
    assert links["DE"] == ("/?country=DE", "Germany: 32 GPUs available now")
    assert links["US"] == ("/?country=US", "United States of America: 80 GPUs available now")
    # Every other country is drawn grey, without a link; the table stays as the text alternative.
    html = response.content.decode()
    assert '<g class="blank"><path d="M' in html
    assert '<table class="compact striped">' in html


def test_shades_follow_the_gpus_available_and_a_legend_says_so(client, de_h100, us_h200):
    assert [shade_of(n) for n in (0, 1, 15, 16, 127, 128, 1023, 1024, 50_000)] == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert shade_of(0, unknown=2) == 1  # available, count not published
    html = client.get("/countries/").content.decode()
    assert 'class="shade-2" data-country="DE"' in html  # 32 GPUs
    assert 'class="shade-2" data-country="US"' in html  # 80
    legend = re.sub(r"<[^>]+>", "", html[html.index('class="map-legend"') : html.index("</figcaption>")])
    assert " ".join(legend.split()).endswith("none 1–15 16–127 128–1,023 1,024 or more")
    assert len(SHADE_FLOORS) == 4


def test_a_sold_out_country_is_listed_grey_and_a_count_not_published_is_capacity(acme, acme_fra):
    region = Region.objects.create(provider=acme, code="sg-1", country="SG", city="Singapore")
    make_offer(acme, region, nodes_available=None)
    make_offer(acme, acme_fra, nodes_available=0)
    rows = [
        {"country": Country("SG"), "gpus": 0, "unknown": 1},
        {"country": Country("DE"), "gpus": 0, "unknown": 0},
    ]
    listed = {country.code: country for country in world_map(rows=rows).listed}
    assert (listed["SG"].shade, listed["DE"].shade) == (1, 0)


def test_the_map_fits_a_phone(client, de_h100):
    html = client.get("/countries/").content.decode()
    assert re.search(r'<svg viewBox="0 0 1000 [\d.]+"', html)  # scaled to the width (CSS: width 100%)


def test_french_names_and_numbers(client, de_h100, acme_fra):
    for _ in range(40):
        make_offer(acme_fra.provider, acme_fra, nodes_available=4)
    response = client.get("/countries/", headers={"Accept-Language": "fr"})
    _link, title = map_links(response)["DE"]
    assert title == "Allemagne : 1\xa0312 GPU disponibles actuellement"
