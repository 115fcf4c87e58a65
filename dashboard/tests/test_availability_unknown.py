""" "Available, count not published" on the dashboard: a blank count in the offer form and in CSV files.

A blank is neither sold out (0) nor a count: the offer can be rented now, its provider does not say
how many nodes are free (see sync/tests/test_availability_unknown.py for feeds and syncs).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard import csv_io
from marketplace.models import GpuModel, Offer

pytestmark = pytest.mark.django_db


# --- By hand and by CSV: blank means "available, count not published" ----------------------------


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_an_offer_form_left_blank_stores_an_unknown_count(alice_client, acme, acme_fra):
    data = {
        "region": acme_fra.pk,
        "gpu_model": GpuModel.objects.get(slug="h100-sxm").pk,
        "gpus_per_node": 8,
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "2.49",
        "currency": "USD",
        "nodes_available": "",
        "nodes_total": "",
        "external_id": "blank-count",
    }
    response = alice_client.post(reverse("dashboard:offer_create", args=[acme.slug]), data)

    assert response.status_code == 302
    offer = Offer.objects.get(external_id="blank-count")
    assert offer.nodes_available is None
    assert offer.snapshots.get().nodes_available is None
    page = alice_client.get(reverse("dashboard:offer_list", args=[acme.slug])).text
    assert "available" in page and "/ ?" in page


def test_the_offer_form_explains_blank_and_zero(alice_client, acme):
    page = alice_client.get(reverse("dashboard:offer_create", args=[acme.slug])).text
    assert "0 means sold out. Leave blank if it is available but you do not publish a count." in page


def csv_text(nodes_available: str) -> str:
    values = {
        "external_id": "csv-1",
        "region": "eu-fra-1",
        "gpu": "h100-sxm",
        "gpus_per_node": "8",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "2.49",
        "currency": "USD",
        "nodes_available": nodes_available,
        "nodes_total": "16",
    }
    row = ",".join(values.get(column, "") for column in csv_io.COLUMNS)
    return ",".join(csv_io.COLUMNS) + "\n" + row + "\n"


def test_a_blank_csv_cell_imports_an_unknown_count_and_exports_blank_again(acme, acme_fra):
    plan = csv_io.offers_csv_import(provider=acme, text=csv_text(""))

    assert plan.is_valid, plan.errors
    offer = Offer.objects.get(external_id="csv-1")
    assert (offer.nodes_available, offer.nodes_total) == (None, 16)
    exported = "".join(csv_io.offers_csv_lines([offer])).splitlines()[1].split(",")
    assert exported[csv_io.COLUMNS.index("nodes_available")] == ""
    # The same file again is unchanged: None compares equal to None.
    assert csv_io.offers_csv_plan(provider=acme, text=csv_text("")).count("unchanged") == 1
    assert csv_io.offers_csv_plan(provider=acme, text=csv_text("0")).count("update") == 1


def test_the_import_preview_shows_an_unknown_count_as_available(alice_client, acme, acme_fra):
    response = alice_client.post(
        reverse("dashboard:offer_import", args=[acme.slug]),
        {"file": SimpleUploadedFile("offers.csv", csv_text("").encode())},
    )

    assert response.status_code == 200
    assert "Available, count not published" in response.text
