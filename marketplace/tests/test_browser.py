"""The catalog in a real browser: filtering swaps the results in place and pushes the URL."""

import pytest

from portal.testing import make_offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filtering_by_country_updates_the_rows_without_a_page_load(
    live_server, page, transactional_db, acme_fra, beta_nyc
):
    de = make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    us = make_offer(beta_nyc.provider, beta_nyc, "h200")
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.htmx !== undefined")
    us_row = page.locator(f'tr[data-offer="{us.pk}"]')
    de_row = page.locator(f'tr[data-offer="{de.pk}"]')
    assert us_row.count() == 1 and de_row.count() == 1
    page.evaluate("window.__marker = 1")

    page.locator("#country-DE").check()

    us_row.wait_for(state="detached")
    assert de_row.count() == 1
    page.wait_for_url("**/?country=DE")
    assert "min_gpus" not in page.url  # empty fields stay out of the shared URL
    assert page.evaluate("window.__marker") == 1  # same document: no full page load
    # The sidebar came back with the results: DE is still ticked, and US can still be added.
    assert page.locator("#country-DE").is_checked()
    assert page.locator("#country-US").count() == 1

    page.go_back()
    us_row.wait_for(state="attached")
    assert "country=DE" not in page.url


def test_removing_a_chip_swaps_the_results_and_the_sidebar_in_place(live_server, page, acme_fra, beta_nyc):
    de = make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    us = make_offer(beta_nyc.provider, beta_nyc, "h200")
    page.goto(f"{live_server.url}/?country=DE&country=US&gpus_per_node=8")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("window.__marker = 1")
    assert page.locator("a.chip").count() == 3

    page.locator("a.chip", has_text="United States").click()

    page.locator(f'tr[data-offer="{us.pk}"]').wait_for(state="detached")
    page.wait_for_url("**/?country=DE&gpus_per_node=8")
    assert page.locator(f'tr[data-offer="{de.pk}"]').count() == 1
    assert page.evaluate("window.__marker") == 1  # no full page load
    # The chips and the sidebar follow: US is no longer a chip, nor ticked.
    assert [" ".join(text.split("×")[0].split()) for text in page.locator("a.chip").all_inner_texts()] == [
        "Country: Germany",
        "GPUs per node: 8",
    ]
    assert not page.locator("#country-US").is_checked()

    page.locator("a.chips-clear").click()
    page.locator(f'tr[data-offer="{us.pk}"]').wait_for(state="attached")
    assert page.locator("a.chip").count() == 0


def test_typing_in_the_country_box_narrows_the_list(live_server, page, acme_fra, beta_nyc, acme):
    from providers.models import Region

    for code in ("FR", "NL", "SE", "FI", "NO", "GB"):
        region = Region.objects.create(provider=acme, code=f"r-{code}", country=code, city="X")
        make_offer(acme, region, "h100-sxm")
    make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    make_offer(beta_nyc.provider, beta_nyc, "h200")
    page.goto(f"{live_server.url}/")
    box = page.locator('[data-facet-search="country"]')
    box.wait_for(state="visible")
    box.fill("germ")
    assert page.locator("#country-DE").is_visible()
    assert not page.locator("#country-US").is_visible()
    assert "?" not in page.url  # typing is no search
    box.fill("")
    assert page.locator("#country-US").is_visible()


def test_clicking_a_country_on_the_map_opens_the_catalog_filtered_on_it(live_server, page, acme_fra, beta_nyc):
    de = make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    us = make_offer(beta_nyc.provider, beta_nyc, "h200")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/countries/")
    germany = page.locator('figure.world-map a[data-country="DE"]')
    assert "Germany" in germany.locator("title").text_content()
    assert page.locator('figure.world-map a[data-country="FR"]').count() == 0  # no capacity: no link

    germany.click()

    page.wait_for_url("**/?country=DE")
    assert page.locator(f'tr[data-offer="{de.pk}"]').count() == 1
    assert page.locator(f'tr[data-offer="{us.pk}"]').count() == 0
    assert page.locator("#country-DE").is_checked()
