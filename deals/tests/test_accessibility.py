"""Every kind of page passes axe-core's checks (no serious or critical violation), in light and
dark mode, and the catalog works from the keyboard.

axe-core is vendored for the tests only (portal/tests/vendor/, MPL-2.0, version in the name).
"""

import re
from pathlib import Path

import pytest
from django.core import mail

from deals.tests.support import file_request, send_quote
from deals.tests.test_small_screens import sign_in
from portal.testing import make_offer
from providers import services as provider_services
from sync.models import SyncConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "portal" / "tests" / "vendor" / "axe-4.14.1.min.js"
SERIOUS = {"serious", "critical"}


def axe(page, **options) -> list[str]:
    """The serious and critical violations on the page, one line per element: id, target, help."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("(options) => axe.run(document, options)", options)
    return [
        f"{violation['id']} {node['target']}: {violation['help']} ({node.get('failureSummary', '').splitlines()[-1]})"
        for violation in result["violations"]
        if violation["impact"] in SERIOUS
        for node in violation["nodes"]
    ]


@pytest.fixture
def pages(developer, alice, acme, acme_h100, beta_nyc, gamma_par):
    """Each kind of page, by who sees it (None: an anonymous visitor)."""
    make_offer(beta_nyc.provider, beta_nyc, "h200", pricing_type="reserved", min_term_months=12)
    make_offer(gamma_par.provider, gamma_par, "h100-sxm", currency="EUR", nodes_available=None)
    request = file_request(developer)
    send_quote(request, acme, terms="Monthly invoicing, 30 days net.")
    connection = SyncConnection.objects.create(
        provider=acme, name="Acme feed", base_url="https://inventory.acme.example/v1/feed.json"
    )
    dashboard = f"/dashboard/{acme.slug}"
    provider_services.invitation_create(provider=acme, by=alice, email=developer.email, role="owner")
    invitation = re.search(r"/accounts/invitations/[\w-]+/", mail.outbox[-1].body).group(0)
    return {
        None: [
            "/",
            "/?country=DE&gpu=h100-sxm&total_gpus=64&term_months=12&currency=EUR",
            f"/offers/{acme_h100.pk}/",
            "/gpus/",
            "/gpus/h100-sxm/",
            "/countries/",
            "/countries/de/",
            "/providers/",
            f"/providers/{acme.slug}/",
            "/accounts/login/",
            "/accounts/signup/",
            invitation,
            "/no-such-page/",
        ],
        developer: [
            "/requests/",
            f"/requests/{request.pk}/",
            "/requests/new/",
            "/accounts/profile/",
            invitation,
            "/accounts/apply/",
        ],
        alice: [
            f"{dashboard}/",
            f"{dashboard}/offers/",
            f"{dashboard}/offers/new/",
            f"{dashboard}/regions/",
            f"{dashboard}/sovereignty/",
            f"{dashboard}/connections/",
            f"{dashboard}/connections/{connection.pk}/",
            f"{dashboard}/requests/",
            f"{dashboard}/requests/{request.pk}/",
            f"{dashboard}/windows/",
            f"{dashboard}/demand/",
            f"{dashboard}/api/",
            f"{dashboard}/profile/",
            f"{dashboard}/team/",
            f"{dashboard}/history/",
        ],
    }


def violations_on(page, live_server, pages, **options) -> dict[str, list[str]]:
    found = {}
    for user, paths in pages.items():
        if user is None:
            page.context.clear_cookies()
        else:
            sign_in(page, live_server, user)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            if lines := axe(page, **options):
                found[f"{user or 'anonymous'} {path}"] = lines
    return found


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())


def test_no_page_has_serious_accessibility_violations(live_server, page, pages):
    found = violations_on(page, live_server, pages)

    if found:
        pytest.fail(report(found), pytrace=False)


def test_in_dark_mode_text_keeps_its_contrast(live_server, page, pages):
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/")
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)", "the page stayed light"

    found = violations_on(page, live_server, pages, runOnly=["color-contrast"])

    if found:
        pytest.fail(report(found), pytrace=False)


def test_the_catalog_works_from_the_keyboard(live_server, page, acme_fra, beta_nyc):
    de = make_offer(acme_fra.provider, acme_fra, "h100-sxm")
    us = make_offer(beta_nyc.provider, beta_nyc, "h200")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.htmx !== undefined")

    reached = []
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.getAttribute('href')"))
        if reached[-1] == "country-DE":
            break
    assert "country-DE" in reached, f"Tab never reached the country filter: {reached}"

    page.keyboard.press("Space")  # tick the checkbox: the results update in place
    page.locator(f'tr[data-offer="{us.pk}"]').wait_for(state="detached")
    page.wait_for_url("**/?country=DE")
    assert page.locator("#country-DE").is_checked()

    offer_link = f"/offers/{de.pk}/"
    for _ in range(200):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement.getAttribute('href')") or "").startswith(offer_link):
            break
    else:
        pytest.fail("Tab never reached a result's link")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{offer_link}")
