"""The catalog's landing sentence, its active filters as removable chips, and the box that
narrows the long facet lists."""

import re
from html import unescape

import pytest

from portal.testing import make_offer

pytestmark = pytest.mark.django_db


def chips(response) -> dict[str, str]:
    """Each chip's text -> the query string of its link (the href, which hx-get repeats)."""
    html = response.content.decode()
    found = {}
    for href, hx_get, text in re.findall(r'<a class="chip" href="([^"]*)" hx-get="([^"]*)">(.*?)</a>', html, re.S):
        assert href == hx_get  # the link works with and without JavaScript
        label = re.sub(r"<span class=\"visually-hidden\">.*?</span>|<[^>]+>|×", "", text)
        found[" ".join(unescape(label).split())] = unescape(href).removeprefix("/").removeprefix("?")
    return found


def clear_all(response) -> str:
    match = re.search(r'<a class="chips-clear" href="([^"]*)" hx-get="\1">', response.content.decode())
    assert match, "no Clear all link"
    return unescape(match.group(1))


class TestLanding:
    def test_it_says_what_the_marketplace_is_and_puts_country_and_gpu_first(self, client, de_h100):
        html = client.get("/").content.decode()
        assert "Find NVIDIA GPUs by country, model and price across providers" in html
        sidebar = html[html.index('id="filters"') :]
        positions = [
            sidebar.index(f'name="{name}"') for name in ("country", "gpu", "region_group", "vendor", "pricing")
        ]
        assert positions == sorted(positions)


class TestChips:
    def test_each_value_is_a_chip_linking_to_the_same_search_without_it(self, client, de_h100, us_h200):
        response = client.get("/?country=de&country=US&gpu=h100-sxm&min_gpus=16&sort=capacity&page=2")
        assert chips(response) == {
            "GPU model: H100 SXM 80GB": "country=de&country=US&min_gpus=16&sort=capacity",
            "Country: Germany": "country=US&gpu=h100-sxm&min_gpus=16&sort=capacity",
            "Country: United States of America": "country=de&gpu=h100-sxm&min_gpus=16&sort=capacity",
            "I need at least N GPUs now: 16": "country=de&country=US&gpu=h100-sxm&sort=capacity",
        }
        # Clear all keeps how the results are shown, drops every filter.
        assert clear_all(response) == "/?sort=capacity"

    def test_switches_dates_prices_and_totals_are_chips_too(self, client, de_h100):
        response = client.get(
            "/?stale=1&max_price=2.5&currency=EUR&available_from=2030-01-01&for_weeks=4&total_gpus=64&gpus_per_node=8"
        )
        found = chips(response)
        assert found["Include stale offers"] == (
            "max_price=2.5&currency=EUR&available_from=2030-01-01&for_weeks=4&total_gpus=64&gpus_per_node=8"
        )
        assert found["Max price per GPU-hour (EUR): 2.5"].startswith("stale=1&currency=EUR&available_from")
        # The period goes with its start.
        assert "for_weeks" not in found["Available from: Jan. 1, 2030"]
        assert found["GPUs per node: 8"].endswith("total_gpus=64")
        assert found["Total for N GPUs: 64"] == (
            "stale=1&max_price=2.5&currency=EUR&available_from=2030-01-01&for_weeks=4&gpus_per_node=8"
        )
        assert clear_all(response) == "/?currency=EUR"

    def test_invalid_values_get_no_chip_and_no_filters_no_chips_at_all(self, client, de_h100):
        assert chips(client.get("/?gpu=nope&min_gpus=abc")) == {}
        html = client.get("/").content.decode()
        assert 'class="chips"' not in html

    def test_numbers_follow_the_language(self, client, de_h100):
        client.cookies["django_language"] = "fr"
        response = client.get("/?max_price=1234.5", headers={"Accept-Language": "fr"})
        assert any(label.endswith("1234,5") or label.endswith("1 234,5") for label in chips(response))

    def test_chips_come_with_the_htmx_fragment(self, client, de_h100):
        response = client.get("/?country=DE", headers={"HX-Request": "true"})
        assert "<html" not in response.content.decode()
        assert chips(response) == {"Country: Germany": ""}

    def test_they_cost_no_query(self, client, de_h100, assert_page_queries):
        # Caches off (tests): six lists of choices, the summary and the rows, with or without chips.
        with assert_page_queries(8):
            client.get("/")
        with assert_page_queries(8):
            client.get("/?country=DE&gpu=h100-sxm&provider=acme&region_group=eu&stale=1&max_price=3")
        with assert_page_queries(8):
            client.get("/?country=DE&gpus_per_node=8&total_gpus=64", headers={"HX-Request": "true"})


class TestFacetSearch:
    def test_long_lists_get_a_box_that_is_never_part_of_the_query(self, client, de_h100, us_h200, acme_par):
        for gpu in ("l40s", "a100-sxm-80", "l4", "b200", "h100-pcie", "a10"):
            make_offer(acme_par.provider, acme_par, gpu)
        html = client.get("/?stale=1").content.decode()
        box = re.search(r'<input type="search" class="facet-search" data-facet-search="gpu"[^>]*>', html)
        assert box, "no search box over the GPU models"
        assert " hidden" in box.group(0) and "name=" not in box.group(0)  # shown by JavaScript only
        assert 'aria-controls="facet-gpu"' in box.group(0) and 'id="facet-gpu"' in html
