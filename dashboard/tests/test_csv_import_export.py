"""CSV import (preview with per-row errors, nothing saved unless every row is valid) and export."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard import csv_io
from marketplace.models import Offer
from portal.testing import make_offer
from providers.models import Region
from sync.models import SyncConnection

HEADER = ",".join(csv_io.COLUMNS)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def row(**values) -> str:
    defaults = {
        "external_id": "h100-8x-fra",
        "region": "eu-fra-1",
        "gpu": "h100-sxm",
        "gpus_per_node": "8",
        "vcpus": "128",
        "ram_gb": "2048",
        "storage_gb": "30720",
        "gpu_interconnect": "nvlink",
        "network": "infiniband",
        "pricing_type": "on_demand",
        "min_term_months": "",
        "price_per_gpu_hour": "2.49",
        "currency": "USD",
        "nodes_available": "12",
        "nodes_total": "64",
    }
    defaults.update(values)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([defaults[column] for column in csv_io.COLUMNS])
    return out.getvalue()


def csv_file(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def upload(client, provider, text: str | bytes, name: str = "offers.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse("dashboard:offer_import", args=[provider.slug]), {"file": SimpleUploadedFile(name, data)}
    )


def confirm(client, provider, preview):
    return client.post(
        reverse("dashboard:offer_import_confirm", args=[provider.slug]),
        {"token": preview.context["token"]},
        follow=True,
    )


def errors(response) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.message) for error in response.context["plan"].errors]


# --- Import: the good path -----------------------------------------------------------------


def test_import_form(alice_client, acme):
    response = alice_client.get(reverse("dashboard:offer_import", args=[acme.slug]))
    assert response.status_code == 200
    assert "external_id, region, gpu" in response.text


def test_preview_then_confirm_creates_and_updates(alice_client, acme, acme_fra):
    existing = make_offer(acme, acme_fra, external_id="a100-4x", gpu="a100-sxm-80", gpus_per_node=4)
    text = csv_file(
        row(),
        row(
            external_id="a100-4x", gpu="a100-sxm-80", gpus_per_node="4", price_per_gpu_hour="1.10", nodes_available="2"
        ),
        row(external_id="l40s-spot", gpu="NVIDIA L40S", pricing_type="spot", gpu_interconnect="PCIe", network=""),
        row(external_id="h200-reserved", gpu="H200 SXM 141GB", pricing_type="reserved", min_term_months="12"),
    )

    preview = upload(alice_client, acme, text)

    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert plan.is_valid
    assert [(r.row, r.action) for r in plan.rows] == [(2, "create"), (3, "update"), (4, "create"), (5, "create")]
    assert "Confirm import" in preview.text
    assert acme.offers.count() == 1  # the preview saves nothing

    response = confirm(alice_client, acme, preview)

    assert response.status_code == 200
    assert "Imported 4 rows: 3 created, 1 updated, 0 unchanged." in response.text
    assert acme.offers.count() == 4
    existing.refresh_from_db()
    assert (existing.price_per_gpu_hour, existing.nodes_available) == (Decimal("1.10"), 2)
    h100 = acme.offers.get(external_id="h100-8x-fra")
    assert (h100.gpu_model.slug, h100.country.code, h100.source, h100.gpus_available) == ("h100-sxm", "DE", "csv", 96)
    l40s = acme.offers.get(external_id="l40s-spot")
    assert (l40s.gpu_model.slug, l40s.gpu_interconnect, l40s.network) == ("l40s", "pcie", "")
    assert acme.offers.get(external_id="h200-reserved").min_term_months == 12


def test_confirm_needs_the_previewed_token(alice_client, acme, acme_fra):
    preview = upload(alice_client, acme, csv_file(row()))
    assert preview.context["plan"].is_valid
    response = alice_client.post(
        reverse("dashboard:offer_import_confirm", args=[acme.slug]), {"token": "forged"}, follow=True
    )
    assert "Please upload the file again" in response.text
    assert not Offer.objects.exists()


def test_confirm_twice_imports_once(alice_client, acme, acme_fra):
    preview = upload(alice_client, acme, csv_file(row()))
    confirm(alice_client, acme, preview)
    response = confirm(alice_client, acme, preview)
    assert "Please upload the file again" in response.text
    assert acme.offers.count() == 1


def test_confirm_validates_again(alice_client, acme, acme_fra):
    """The region was renamed between preview and confirmation: nothing is saved."""
    preview = upload(alice_client, acme, csv_file(row()))
    Region.objects.filter(pk=acme_fra.pk).update(code="eu-fra-2")
    response = confirm(alice_client, acme, preview)
    assert errors(response) == [(2, "region", "Unknown region “eu-fra-1”. Your regions: eu-fra-2.")]
    assert not Offer.objects.exists()


def test_import_lists_a_withdrawn_offer_again_and_verifies_unchanged_ones(alice_client, acme, acme_fra):
    withdrawn = make_offer(acme, acme_fra, external_id="back", status=Offer.Status.WITHDRAWN)
    unchanged = make_offer(acme, acme_fra, external_id="same")
    Offer.objects.filter(pk=unchanged.pk).update(stale_at=unchanged.last_verified_at)
    text = "".join(csv_io.offers_csv_lines(Offer.objects.filter(pk__in=[withdrawn.pk, unchanged.pk]).order_by("pk")))

    preview = upload(alice_client, acme, text)
    assert [r.action for r in preview.context["plan"].rows] == ["update", "unchanged"]
    confirm(alice_client, acme, preview)

    withdrawn.refresh_from_db()
    unchanged.refresh_from_db()
    assert withdrawn.status == Offer.Status.ACTIVE
    assert not unchanged.is_stale


def test_import_accepts_a_byte_order_mark_and_skips_blank_lines(alice_client, acme, acme_fra):
    text = "\ufeff" + csv_file(row(external_id="one"), "", ",,,,,,,,,,,,,,", row(external_id="two", region="nowhere"))
    response = upload(alice_client, acme, text)
    # Row numbers stay those of the spreadsheet: blank rows count.
    assert errors(response) == [(5, "region", "Unknown region “nowhere”. Your regions: eu-fra-1.")]


# --- Import: bad rows, nothing saved -------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"region": "us-east-1"}, "region", "Unknown region “us-east-1”. Your regions: eu-fra-1."),
        ({"gpu": "Z9000"}, "gpu", "Unknown GPU “Z9000”: use a GPU model slug from the GPUs page, e.g. h100-sxm."),
        ({"price_per_gpu_hour": "-0.5"}, "price_per_gpu_hour", "Ensure this value is greater than or equal to 0."),
        ({"price_per_gpu_hour": "2,49"}, "price_per_gpu_hour", "Enter a number."),
        ({"gpus_per_node": "eight"}, "gpus_per_node", "Enter a whole number."),
        ({"nodes_available": "-1"}, "nodes_available", "Ensure this value is greater than or equal to 0."),
        ({"nodes_available": "65"}, "nodes_available", "Cannot exceed the total number of nodes."),
        ({"pricing_type": "reserved"}, "min_term_months", "A reserved price needs a minimum term."),
        (
            {"pricing_type": "weekly"},
            "pricing_type",
            "Select a valid choice. weekly is not one of the available choices.",
        ),
        (
            {"network": "carrier-pigeon"},
            "network",
            "Select a valid choice. carrier-pigeon is not one of the available choices.",
        ),
        ({"currency": "EURO"}, "currency", "Use a three-letter code, e.g. USD."),
        ({"currency": "xyz"}, "currency", "“XYZ” is not an ISO 4217 currency code: use one like USD or EUR."),
        ({"external_id": ""}, "external_id", "This field is required."),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_saved(alice_client, acme, acme_fra, beta_nyc, values, column, message):
    text = csv_file(row(external_id="good-1"), row(**values), row(external_id="good-2"))
    response = upload(alice_client, acme, text)
    assert response.status_code == 200
    assert errors(response) == [(3, column, message)]
    assert "Nothing was saved" in response.text
    assert message.replace("“", "&ldquo;") in response.text or message in response.text
    assert "Confirm import" not in response.text
    assert not Offer.objects.exists()


def test_several_errors_on_several_rows_are_all_listed(alice_client, acme, acme_fra):
    text = csv_file(
        row(external_id="a", region="nowhere", price_per_gpu_hour="x"),
        row(external_id="b"),
        row(external_id="a"),
        row(external_id="c", gpu="nonsense"),
    )
    response = upload(alice_client, acme, text)
    assert errors(response) == [
        (2, "region", "Unknown region “nowhere”. Your regions: eu-fra-1."),
        (2, "price_per_gpu_hour", "Enter a number."),
        (4, "external_id", "Duplicate of row 2."),
        (5, "gpu", "Unknown GPU “nonsense”: use a GPU model slug from the GPUs page, e.g. h100-sxm."),
    ]
    assert not Offer.objects.exists()


def test_a_duplicate_external_id_within_the_file_is_an_error(alice_client, acme, acme_fra):
    response = upload(alice_client, acme, csv_file(row(), row(price_per_gpu_hour="3")))
    assert errors(response) == [(3, "external_id", "Duplicate of row 2.")]
    assert not Offer.objects.exists()


def test_a_row_with_extra_cells_is_an_error(alice_client, acme, acme_fra):
    response = upload(alice_client, acme, csv_file(row() + ",surprise"))
    assert errors(response) == [(2, "", "This row has more cells than the header has columns.")]


def test_a_synced_offer_may_only_appear_unchanged(alice_client, acme, acme_fra):
    connection = SyncConnection.objects.create(provider=acme, name="Main feed", base_url="https://acme.example/f")
    synced = make_offer(acme, acme_fra, external_id="synced", sync_connection=connection, source=Offer.Source.SYNC)
    exported = "".join(csv_io.offers_csv_lines([synced]))
    assert upload(alice_client, acme, exported).context["plan"].is_valid

    changed = exported.replace(",4,16", ",3,16")
    response = upload(alice_client, acme, changed)
    assert errors(response) == [
        (2, "external_id", "This offer is synced from “Main feed”: change it at the source, not by CSV.")
    ]


# --- Import: unusable files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            csv_file(row()).replace("nodes_total", "nodes_totl"),
            "missing columns: nodes_total; unknown columns: nodes_totl",
        ),
        ("external_id,region\nx,eu-fra-1\n", "missing columns: gpu, gpus_per_node"),
        ("", "The submitted file is empty."),  # Django refuses it before we read it
        (HEADER + "\n", "The file has a header but no rows."),
        ("external_id,region,gpu\n".encode("utf-16"), "The file is not UTF-8 text"),
        (csv_file(row()).encode().replace(b"eu-fra-1", b"eu-fr\xe9-1"), "The file is not UTF-8 text (byte"),
    ],
)
def test_an_unusable_file_is_refused_clearly(alice_client, acme, acme_fra, content, message):
    response = upload(alice_client, acme, content)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not Offer.objects.exists()


def test_a_file_over_2_mb_is_refused(alice_client, acme, acme_fra):
    text = csv_file(*[row(external_id=f"id-{n:07d}-{'x' * 100}") for n in range(13_000)])
    assert len(text.encode()) > csv_io.MAX_BYTES
    response = upload(alice_client, acme, text)
    assert response.context["form"].errors["file"] == ["The file is larger than 2 MB: split it into several imports."]


def test_a_file_over_10000_rows_is_refused(alice_client, acme, acme_fra):
    text = csv_file(*[f"{n},,,,,,,,,,,,,," for n in range(csv_io.MAX_ROWS + 1)])
    assert len(text.encode()) < csv_io.MAX_BYTES
    response = upload(alice_client, acme, text)
    assert response.context["form"].errors["file"] == ["The file has more than 10000 rows: split it."]


# --- Export and the round trip -------------------------------------------------------------


def test_export_writes_the_active_offers(alice_client, acme, acme_fra):
    make_offer(acme, acme_fra, external_id="on", storage_gb=None, gpu_interconnect="nvlink")
    make_offer(acme, acme_fra, external_id="off", status=Offer.Status.WITHDRAWN)
    response = alice_client.get(reverse("dashboard:offer_export", args=[acme.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="acme-gpu-offers-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        {
            "external_id": "on",
            "region": "eu-fra-1",
            "gpu": "h100-sxm",
            "gpus_per_node": "8",
            "vcpus": "128",
            "ram_gb": "2048",
            "storage_gb": "",
            "gpu_interconnect": "nvlink",
            "network": "",
            "pricing_type": "on_demand",
            "min_term_months": "",
            "price_per_gpu_hour": "2.5000",
            "currency": "USD",
            "nodes_available": "4",
            "nodes_total": "16",
        }
    ]


def test_export_defuses_spreadsheet_formulas_and_import_restores_them(alice_client, acme):
    region = Region.objects.create(provider=acme, code="=cmd|calc", country="DE")
    make_offer(acme, region, external_id="+1-offer")
    exported = b"".join(alice_client.get(reverse("dashboard:offer_export", args=[acme.slug])).streaming_content)
    assert b"'=cmd|calc" in exported and b"'+1-offer" in exported
    plan = upload(alice_client, acme, exported).context["plan"]
    assert [(r.external_id, r.action) for r in plan.rows] == [("+1-offer", "unchanged")]


def test_export_then_import_changes_nothing(alice_client, acme, acme_fra):
    make_offer(acme, acme_fra, external_id="a", vcpus=None, ram_gb=None, nodes_total=None)
    make_offer(acme, acme_fra, external_id="b", gpu="l40s", gpus_per_node=1, gpu_interconnect="pcie", network="roce")
    make_offer(
        acme,
        acme_fra,
        external_id='c, with "quotes"',
        pricing_type="reserved",
        min_term_months=36,
        price_per_gpu_hour=Decimal("1.2345"),
        currency="EUR",
        storage_gb=1000,
    )
    fields = [
        f.attname
        for f in Offer._meta.concrete_fields
        if f.attname not in {"last_verified_at", "stale_at", "updated_at"}
    ]
    before = list(Offer.objects.order_by("pk").values_list(*fields))

    exported = b"".join(alice_client.get(reverse("dashboard:offer_export", args=[acme.slug])).streaming_content)
    preview = upload(alice_client, acme, exported)
    assert [r.action for r in preview.context["plan"].rows] == ["unchanged"] * 3
    response = confirm(alice_client, acme, preview)

    assert "3 unchanged" in response.text
    assert list(Offer.objects.order_by("pk").values_list(*fields)) == before
    again = b"".join(alice_client.get(reverse("dashboard:offer_export", args=[acme.slug])).streaming_content)
    assert again == exported


def test_import_is_scoped_to_the_provider(client, charlie, beta, beta_nyc, acme, acme_fra):
    """Beta's file naming Acme's external id creates Beta's own offer; Acme's is untouched."""
    acme_offer = make_offer(acme, acme_fra, external_id="shared-id")
    client.force_login(charlie)
    preview = upload(
        client, beta, csv_file(row(external_id="shared-id", region="us-east-1", price_per_gpu_hour="0.01"))
    )
    assert [r.action for r in preview.context["plan"].rows] == ["create"]
    confirm(client, beta, preview)
    acme_offer.refresh_from_db()
    assert acme_offer.price_per_gpu_hour == Decimal("2.50")
    assert beta.offers.get().price_per_gpu_hour == Decimal("0.01")
