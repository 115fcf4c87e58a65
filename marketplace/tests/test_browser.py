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
