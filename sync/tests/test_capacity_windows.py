"""Provider feed v1.1: capacity windows sync like offers (upsert by id, withdraw the missing)."""

import json

import pytest

from marketplace.models import CapacityWindow
from sync.adapters.base import AdapterError
from sync.adapters.feed import FeedAdapter
from sync.engine import sync_connection_run
from sync.models import SyncRun
from sync.tests.support import feed_document

pytestmark = pytest.mark.django_db

WINDOWS = [
    {
        "id": "h100-fra-q2",
        "region": "eu-fra-1",
        "gpu": "H100 SXM",
        "gpus": 512,
        "from": "2027-04-01",
        "until": "2027-07-01",
        "price_per_gpu_hour": "2.05",
        "currency": "EUR",
    },
    {
        "id": "b200-par-h2",
        "region": "fr-par-1",
        "gpu": "B200",
        "gpus": 256,
        "from": "2027-07-01",
        "until": "2028-01-01",
    },
]


def feed_v11(windows):
    document = feed_document()
    document["version"] = 1.1
    document["capacity_windows"] = windows
    return document


def test_a_v11_feed_creates_updates_and_withdraws_windows(acme_feed, acme, local_server):
    local_server.serve("/feed.json", feed_v11(WINDOWS))
    run = sync_connection_run(connection=acme_feed)

    assert (run.outcome, run.windows) == (SyncRun.Outcome.SUCCESS, 2)
    window = CapacityWindow.objects.get(external_id="h100-fra-q2")
    assert (window.country.code, window.gpu_model.slug, window.gpus, window.currency) == ("DE", "h100-sxm", 512, "EUR")
    assert (window.sync_connection, window.source) == (acme_feed, "sync")
    assert CapacityWindow.objects.get(external_id="b200-par-h2").price_per_gpu_hour is None

    local_server.serve("/feed.json", feed_v11([{**WINDOWS[0], "gpus": 640}]))
    sync_connection_run(connection=acme_feed)

    states = dict(CapacityWindow.objects.values_list("external_id", "status"))
    assert states == {"h100-fra-q2": "active", "b200-par-h2": "withdrawn"}
    assert CapacityWindow.objects.get(external_id="h100-fra-q2").gpus == 640


def test_a_v1_feed_leaves_windows_alone(acme_feed, acme, local_server):
    local_server.serve("/feed.json", feed_v11(WINDOWS))
    sync_connection_run(connection=acme_feed)
    local_server.serve("/feed.json", feed_document())  # version 1: no capacity_windows

    run = sync_connection_run(connection=acme_feed)

    assert run.windows is None
    assert set(CapacityWindow.objects.values_list("status", flat=True)) == {"active"}


def test_an_unknown_gpu_or_region_skips_the_window_with_a_warning(acme_feed, local_server):
    local_server.serve("/feed.json", feed_v11([{**WINDOWS[0], "gpu": "Quantum 9000"}, {**WINDOWS[1], "region": "x"}]))

    run = sync_connection_run(connection=acme_feed)

    assert run.windows == 0
    assert any('"h100-fra-q2" skipped: its GPU name is unknown' in warning for warning in run.warnings)
    assert any('"b200-par-h2" skipped: its region is unknown' in warning for warning in run.warnings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"until": "2027-03-01"}, "capacity_windows[0].until: 2027-03-01 is not after its start"),
        ({"from": "2027-02-30"}, 'capacity_windows[0].from: "2027-02-30" is not a date'),
        ({"gpus": 0}, "capacity_windows[0].gpus: 0 is less than the minimum of 1"),
        ({"currency": None}, 'capacity_windows[0]: a window with a price needs its "currency"'),
    ],
)
def test_invalid_windows_are_explained(change, message):
    document = feed_v11([{**WINDOWS[0], **change}])
    with pytest.raises(AdapterError) as error:
        FeedAdapter().parse(json.dumps(document).encode())
    assert message in str(error.value)
