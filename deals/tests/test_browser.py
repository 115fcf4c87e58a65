"""The whole loop in a real browser: request from the catalog, two quotes, accept, contacts shown."""

from datetime import timedelta

import pytest
from django.test import Client

from deals.models import CapacityRequest, Quote
from deals.tests.support import TODAY, send_quote, verified
from portal.testing import make_offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user) -> None:
    """The browser carries the session of ``user`` (signed in as the test client would)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_request_two_quotes_accept_and_see_the_contacts(live_server, page, dave, acme, acme_fra, gamma_par):
    acme.contact_email = "sales@acme.test"
    acme.save()
    make_offer(acme, acme_fra, "h100-sxm", nodes_available=4, nodes_total=16)
    make_offer(gamma_par.provider, gamma_par, "h100-sxm", nodes_available=4, nodes_total=16)
    sign_in(page, live_server, verified(dave))

    page.goto(f"{live_server.url}/?gpu=h100-sxm&region_group=eu&min_gpus=8")
    page.get_by_role("button", name="Request this capacity").click()
    page.wait_for_url("**/requests/new/**")
    assert page.locator("#id_gpu_count").input_value() == "8"
    page.fill("#id_gpu_count", "64")
    page.fill("#id_start_date", (TODAY + timedelta(days=30)).isoformat())
    page.fill("#id_duration", "3")
    page.select_option("#id_duration_unit", "months")
    page.fill("#id_organisation", "Dave's Lab")
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_url("**/requests/*/")
    assert "Reached 2 providers" in page.content()

    request = CapacityRequest.objects.get()
    send_quote(request, acme, price_per_gpu_hour="1.85")
    send_quote(request, gamma_par.provider, price_per_gpu_hour="2.20")
    page.reload()
    assert page.locator("tr[data-quote]").count() == 2
    assert "sales@acme.test" not in page.content()

    acme_quote = Quote.objects.get(provider=acme)
    page.locator(f'tr[data-quote="{acme_quote.pk}"]').get_by_role("button", name="Accept").click()
    page.wait_for_url("**/agreements/*/")

    assert "sales@acme.test" in page.content() and "Dave's Lab" in page.content()
    assert Quote.objects.get(provider=gamma_par.provider).status == Quote.Status.DECLINED
