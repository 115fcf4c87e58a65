"""The developer's pages: file a request (from the catalog or an offer), compare, accept; searches."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from deals.models import CapacityRequest, Recipient, SavedSearch
from deals.tests.support import TODAY, file_request, send_quote
from marketplace.models import ExchangeRate

pytestmark = pytest.mark.django_db


@pytest.fixture
def dave_client(client, developer):
    client.force_login(developer)
    return client


def form_data(**changes) -> dict:
    data = {
        "gpu_models": ["8"],  # filled below
        "gpu_count": "64",
        "country_groups": ["eu"],
        "start_date": str(TODAY + timedelta(days=30)),
        "duration": "3",
        "duration_unit": "months",
        "pricing_type": "",
        "organisation": "Dave's Lab",
        "notes": "Training run.",
    }
    data.update(changes)
    return data


def test_the_form_is_prefilled_from_the_catalogs_filters(dave_client, acme_h100):
    response = dave_client.get("/requests/new/?gpu=h100-sxm&region_group=eu&min_gpus=64&pricing=reserved")

    form = response.context["form"]
    assert [gpu.slug for gpu in form.initial["gpu_models"]] == ["h100-sxm"]
    assert (form.initial["country_groups"], form.initial["gpu_count"]) == (["eu"], 64)
    assert form.initial["pricing_type"] == "reserved"


def test_the_form_is_prefilled_from_an_offer_whose_provider_is_asked_first(dave_client, acme_h100, beta_h100):
    page = dave_client.get(f"/requests/new/?offer={acme_h100.pk}")
    assert page.context["form"].initial["countries"] == ["DE"]
    assert "Acme GPU is asked first" in page.text

    response = dave_client.post(
        f"/requests/new/?offer={acme_h100.pk}",
        form_data(gpu_models=[str(acme_h100.gpu_model_id)], country_groups=[], countries=["DE", "US"]),
    )

    request = CapacityRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
    assert list(request.recipients.values_list("provider__slug", "priority")) == [("acme-gpu", 0), ("beta-compute", 1)]
    assert (request.end_date - request.start_date).days in (89, 90, 91, 92)  # three calendar months


def test_invalid_input_is_explained_next_to_its_field_and_saves_nothing(dave_client, acme_h100):
    response = dave_client.post(
        "/requests/new/", form_data(gpu_models=[], start_date=str(TODAY), duration="0", budget_per_gpu_hour="2")
    )

    errors = response.context["form"].errors
    assert set(errors) >= {"gpu_models", "start_date", "duration", "budget_currency"}
    assert not CapacityRequest.objects.exists()


def test_an_unverified_developer_is_asked_to_confirm_first(client, dave, acme_h100):
    client.force_login(dave)
    response = client.post("/requests/new/", form_data(gpu_models=[str(acme_h100.gpu_model_id)]))

    assert "Confirm your e-mail address" in response.text and not CapacityRequest.objects.exists()


def test_the_request_page_compares_quotes_and_accepting_shows_the_contacts(
    dave_client, developer, acme_h100, beta_h100
):
    request = file_request(developer, country_groups=[])
    acme, beta = acme_h100.provider, beta_h100.provider
    acme.contact_email = "sales@acme.test"
    acme.save()
    cheap = send_quote(request, acme, price_per_gpu_hour="1.80")
    send_quote(request, beta, price_per_gpu_hour="2.40")

    page = dave_client.get(request.get_absolute_url()).text
    assert page.count('data-quote="') == 2
    assert "sales@acme.test" not in page
    assert "248,832" in page or "248832" in page  # 1.80 x 64 GPUs x 2,160 hours

    response = dave_client.post(reverse("deals:quote_accept", args=[request.pk, cheap.pk]), follow=True)

    assert "sales@acme.test" in response.text and "Print or save as PDF" in response.text
    assert "sales@acme.test" in dave_client.get(request.get_absolute_url()).text


def test_quotes_in_different_currencies_are_ranked_by_their_total_in_one_currency(
    dave_client, developer, acme_h100, beta_h100, gamma, settings
):
    settings.CATALOG_CURRENCY = "EUR"
    ExchangeRate.objects.update_or_create(currency="USD", defaults={"units_per_eur": Decimal("1.25")})
    ExchangeRate.objects.filter(currency="ARS").delete()
    request = file_request(developer, country_groups=[])
    Recipient.objects.create(request=request, provider=gamma)
    dollars = send_quote(request, acme_h100.provider, price_per_gpu_hour="2.40", currency="USD")  # 1.92 EUR
    euros = send_quote(request, beta_h100.provider, price_per_gpu_hour="2.00", currency="EUR")
    pesos = send_quote(request, gamma, price_per_gpu_hour="2000", currency="ARS")  # no rate: never guessed

    page = dave_client.get(request.get_absolute_url()).text

    order = [int(pk) for pk in re.findall(r'data-quote="(\d+)"', page)]
    assert order == [dollars.pk, euros.pk, pesos.pk]
    assert "≈ 265,420.80 EUR" in page or "≈ 265420.80 EUR" in page  # 2.40 USD x 64 x 2,160 h / 1.25
    assert "331,776.00 USD" in page or "331776.00 USD" in page  # the quote's own total, unconverted
    assert "Total in EUR" in page

    # A budget in dollars compares in dollars.
    CapacityRequest.objects.filter(pk=request.pk).update(budget_currency="USD")
    page = dave_client.get(request.get_absolute_url()).text
    assert "Total in USD" in page and ("≈ 345,600.00 USD" in page or "≈ 345600.00 USD" in page)


def test_the_developer_withdraws_extends_and_writes_to_a_provider(dave_client, developer, acme_h100):
    request = file_request(developer)
    url = request.get_absolute_url()

    dave_client.post(reverse("deals:message_post", args=[request.pk, "acme-gpu"]), {"body": "Is storage included?"})
    assert "Is storage included?" in dave_client.get(url).text
    dave_client.post(reverse("deals:request_withdraw", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == CapacityRequest.Status.WITHDRAWN
    response = dave_client.post(
        reverse("deals:request_extend", args=[request.pk]), {"start_date": str(TODAY + timedelta(days=40))}, follow=True
    )
    assert "Only an open or expired request can be extended." in response.text


def test_a_catalog_search_is_saved_and_edited(dave_client, developer):
    catalog = dave_client.get("/?gpu=h100-sxm&country=DE").text
    assert "Save this search" in catalog and "Request this capacity" in catalog

    response = dave_client.post("/searches/save/", {"name": "H100 DE", "q": "gpu=h100-sxm&country=DE&page=2"})

    search = SavedSearch.objects.get()
    assert response["Location"] == reverse("deals:search_edit", args=[search.pk])
    assert search.query == "country=DE&gpu=h100-sxm"
    dave_client.post(
        reverse("deals:search_edit", args=[search.pk]),
        {
            "name": "H100 DE cheap",
            "alert_new": "",
            "price_below": "1.50",
            "price_currency": "eur",
            "alerts_enabled": "on",
        },
    )
    search.refresh_from_db()
    assert (search.name, search.alert_new, str(search.price_below), search.price_currency) == (
        "H100 DE cheap",
        False,
        "1.5000",
        "EUR",
    )
    assert "H100 DE cheap" in dave_client.get("/searches/").text


def test_anonymous_visitors_are_invited_to_sign_in_to_save(client, db):
    assert "Sign in to save this search" in client.get("/?gpu=h100-sxm").text
