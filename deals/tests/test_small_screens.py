"""Every kind of page on a laptop and on a phone: the page never scrolls sideways, and on a
phone the catalog's filters sit in a drawer that opens, filters and shows the results."""

import re

import pytest
from django.core import mail
from django.test import Client

from deals.tests.support import file_request, send_quote
from portal.testing import make_offer
from providers import services as provider_services
from sync.models import SyncConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP, PHONE = 1366, 390


def sign_in(page, live_server, user) -> None:
    """The browser carries the session of ``user`` (and no one else's)."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


# The elements that stick out of the window (and whose parent does not): what to fix.
STICKING_OUT = """() => [...document.body.querySelectorAll("*")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1
    && el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
  .slice(0, 5)
  .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${Math.round(el.getBoundingClientRect().right)}px`)"""


def overflow(page, live_server, path: str) -> str | None:
    """How much wider than the window the page at ``path`` is, and why; None if it fits."""
    response = page.goto(f"{live_server.url}{path}")
    assert response.ok, f"{path}: {response.status}"
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return f"{width}px ({', '.join(page.evaluate(STICKING_OUT))})" if width > 0 else None


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_no_page_scrolls_sideways(live_server, page, width, developer, alice, acme, acme_h100, beta_nyc, gamma_par):
    page.set_viewport_size({"width": width, "height": 800})
    make_offer(beta_nyc.provider, beta_nyc, "h200", pricing_type="reserved", min_term_months=12, storage_gb=16000)
    make_offer(gamma_par.provider, gamma_par, "h100-sxm", currency="EUR", nodes_available=None)
    request = file_request(developer)
    send_quote(request, acme, terms="Monthly invoicing, 30 days net; " * 6)
    connection = SyncConnection.objects.create(
        provider=acme, name="Acme feed", base_url="https://inventory.acme.example/v1/feed.json"
    )
    dashboard = f"/dashboard/{acme.slug}"
    provider_services.invitation_create(provider=acme, by=alice, email=developer.email, role="owner")
    invitation = re.search(r"/accounts/invitations/[\w-]+/", mail.outbox[-1].body).group(0)
    long_address = "procurement.infrastructure.team@a-rather-long-partner-company.example"
    provider_services.invitation_create(provider=acme, by=alice, email=long_address, role="owner")
    pages = {
        None: [
            "/",
            "/?country=DE&gpu=h100-sxm&total_gpus=64&term_months=12&currency=EUR",
            # Many active filters: the chips wrap.
            "/?country=DE&country=US&country=FR&gpu=h100-sxm&gpu=h200&provider=acme&min_gpus=8&stale=1&max_price=9",
            f"/offers/{acme_h100.pk}/?back=country%3DDE",
            "/gpus/h100-sxm/",
            "/countries/",  # the world map
            "/countries/de/",
            "/countries/de/?gpu=h200",
            f"/providers/{acme.slug}/",
            "/accounts/login/",
            invitation,
        ],
        developer: ["/", "/requests/", f"/requests/{request.pk}/", "/requests/new/", invitation],
        alice: [
            f"{dashboard}/",
            f"{dashboard}/offers/",
            f"{dashboard}/regions/",
            f"{dashboard}/sovereignty/",
            f"{dashboard}/connections/",
            f"{dashboard}/connections/{connection.pk}/",
            f"{dashboard}/connections/{connection.pk}/?sync=1",
            f"{dashboard}/connections/new/",
            f"{dashboard}/requests/",
            f"{dashboard}/requests/{request.pk}/",
            f"{dashboard}/windows/",
            f"{dashboard}/demand/",
            f"{dashboard}/api/",
            f"{dashboard}/history/",
            f"{dashboard}/profile/",
            f"{dashboard}/team/",  # with pending invitations
        ],
    }

    too_wide = {}
    for user, paths in pages.items():
        if user is None:
            page.context.clear_cookies()
        else:
            sign_in(page, live_server, user)
        for path in paths:
            if (extra := overflow(page, live_server, path)) is not None:
                too_wide[f"{user or 'anonymous'} {path}"] = extra

    assert too_wide == {}, f"wider than {width}px by: {too_wide}"


def test_on_a_phone_the_filters_open_in_a_drawer_and_filter_the_results(live_server, page, acme_fra, beta_nyc):
    de = make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    us = make_offer(beta_nyc.provider, beta_nyc, "h200")
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.htmx !== undefined")
    de_row, us_row = page.locator(f'tr[data-offer="{de.pk}"]'), page.locator(f'tr[data-offer="{us.pk}"]')
    # The results come first: the closed drawer hides the filters, and covers nothing.
    assert not page.locator("#country-DE").is_visible()
    assert us_row.is_visible() and de_row.is_visible()
    assert us_row.bounding_box()["width"] <= PHONE  # a row is a card, as wide as the screen at most

    page.get_by_text("Filters", exact=True).click()
    page.locator("#country-DE").check()
    page.get_by_role("button", name="Apply filters").click()

    us_row.wait_for(state="detached")
    page.wait_for_url("**/?country=DE")
    assert de_row.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
