"""The provider's side of deals on the dashboard: the requests inbox, quotes, capacity windows, demand."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from deals.models import Message, Quote, Recipient
from deals.tests.support import TODAY, file_request, quote_values, verified
from marketplace import services as offer_services
from marketplace.models import CapacityWindow
from portal.testing import make_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def routed(acme, acme_fra, dave):
    make_offer(acme, acme_fra, "h100-sxm", nodes_available=4, nodes_total=16)
    return file_request(verified(dave))


def test_the_inbox_lists_routed_requests_with_a_badge_until_opened(alice_client, routed, acme):
    inbox = alice_client.get(reverse("dashboard:request_inbox", args=[acme.slug])).text
    assert f'href="/dashboard/acme-gpu/requests/{routed.pk}/"' in inbox
    assert 'title="not opened yet">1</span>' in inbox

    alice_client.get(reverse("dashboard:request_detail", args=[acme.slug, routed.pk]))

    assert Recipient.objects.get().status == Recipient.Status.SEEN
    assert 'title="not opened yet">' not in alice_client.get(reverse("dashboard:request_inbox", args=[acme.slug])).text


def test_the_provider_answers_with_a_quote_from_the_prefilled_form(alice_client, routed, acme):
    url = reverse("dashboard:request_detail", args=[acme.slug, routed.pk])
    form = alice_client.get(url).context["quote_form"]
    assert form.initial["gpu_count"] == 64 and form.initial["start_date"] == routed.start_date

    data = {key: str(value) for key, value in quote_values(routed).items()}
    response = alice_client.post(reverse("dashboard:quote_submit", args=[acme.slug, routed.pk]), data)

    assert response.status_code == 302
    quote = Quote.objects.get()
    assert (quote.provider, quote.author.username, quote.status) == (acme, "alice", Quote.Status.OFFERED)


def test_a_bad_quote_is_refused_with_its_reason(alice_client, routed, acme):
    data = {key: str(value) for key, value in quote_values(routed, end_date=routed.start_date).items()}
    response = alice_client.post(reverse("dashboard:quote_submit", args=[acme.slug, routed.pk]), data)

    assert response.status_code == 400 and "The end must be after the start." in response.text
    assert not Quote.objects.exists()


def test_the_provider_declines_and_writes(alice_client, routed, acme):
    alice_client.post(reverse("dashboard:request_message", args=[acme.slug, routed.pk]), {"body": "How much storage?"})
    alice_client.post(reverse("dashboard:request_decline", args=[acme.slug, routed.pk]), {"reason": "Full in March."})

    assert Message.objects.get().from_provider
    assert Recipient.objects.get().declined_reason == "Full in March."


def test_windows_are_published_edited_withdrawn_and_go_through_csv(alice_client, acme, acme_fra):
    start = TODAY + timedelta(days=30)
    data = {"region": acme_fra.pk, "gpu_model": "8", "gpus": "128", "starts_on": str(start)}
    data["ends_on"] = str(start - timedelta(days=1))
    response = alice_client.post(reverse("dashboard:window_create", args=[acme.slug]), data)
    assert "The window must end after it starts." in response.text
    data["ends_on"] = str(start + timedelta(days=90))
    alice_client.post(reverse("dashboard:window_create", args=[acme.slug]), data)
    window = CapacityWindow.objects.get()
    assert (window.country.code, window.gpus, window.source) == ("DE", 128, "manual")

    exported = b"".join(alice_client.get(reverse("dashboard:window_export", args=[acme.slug])).streaming_content)
    text = exported.decode().replace(",128,", ",256,")
    upload = SimpleUploadedFile("windows.csv", text.encode())
    response = alice_client.post(reverse("dashboard:window_import", args=[acme.slug]), {"file": upload})
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.gpus == 256

    alice_client.post(reverse("dashboard:window_withdraw", args=[acme.slug, window.pk]))
    assert CapacityWindow.objects.get().status == CapacityWindow.Status.WITHDRAWN


def test_a_windows_csv_with_errors_saves_nothing_and_names_each_problem(alice_client, acme, acme_fra):
    text = (
        "external_id,region,gpu,gpus,from,until,price_per_gpu_hour,currency\n"
        "w1,eu-fra-1,h100-sxm,8,2030-01-01,2030-02-01,2.10,usd\n"
        "w2,nowhere,h100-sxm,0,2030-13-01,2030-02-01,,\n"
        "w3,eu-fra-1,h100-sxm,8,2030-03-01,2030-02-01,,\n"
    )
    response = alice_client.post(
        reverse("dashboard:window_import", args=[acme.slug]), {"file": SimpleUploadedFile("w.csv", text.encode())}
    )

    errors = {(error.row, error.column) for error in response.context["errors"]}
    assert {(3, "region"), (3, "gpus"), (3, "from"), (4, "until")} <= errors
    assert not CapacityWindow.objects.exists()


def test_the_catalog_finds_offers_with_capacity_later(client, acme, acme_fra, beta, beta_nyc):
    acme_offer = make_offer(acme, acme_fra, "h100-sxm")
    make_offer(beta, beta_nyc, "h100-sxm")
    offer_services.window_create(
        provider=acme,
        region=acme_fra,
        gpu_model=acme_offer.gpu_model,
        gpus=512,
        starts_on=TODAY + timedelta(days=20),
        ends_on=TODAY + timedelta(days=200),
    )
    url = f"/?available_from={TODAY + timedelta(days=30)}&for_weeks=12"

    rows = client.get(url).context["results"].page.object_list
    assert [offer.pk for offer in rows] == [acme_offer.pk]
    assert client.get(url + "&min_gpus=1024").context["results"].page.object_list == []
    assert client.get(f"/?available_from={TODAY + timedelta(days=10)}").context["results"].page.object_list == []


def test_demand_counts_searches_for_the_providers_gpus_and_countries(alice_client, client, acme, acme_fra, routed):
    from marketplace import services

    client.get("/?gpu=h100-sxm&country=DE")
    client.get("/?gpu=h100-sxm&country=DE&page=2")  # the same search, paged: not counted again
    client.get("/?gpu=b200&country=JP")  # elsewhere, another GPU
    client.get("/?region_group=eu&gpu=gh200")  # Germany is in the EU; no GH200 listed: found nothing
    services.search_demand_flush()

    demand = alice_client.get(reverse("dashboard:demand", args=[acme.slug])).context["demand"]

    assert demand.searches == 2 and demand.empty == 1
    assert demand.requests_received == 1
    assert demand.daily[-1] == (timezone.localdate(), 2)
