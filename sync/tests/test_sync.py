"""The sync service against a real HTTP server on 127.0.0.1: good, changed, bad and failing feeds."""

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.inventory import NormalizedOffer
from marketplace.models import GpuModel, Offer, OfferSnapshot
from marketplace.services import offers_apply_inventory
from portal.lib.http import FetchError
from portal.testing import Pace, Reply, SlowServer, make_offer, require_postgres
from providers.models import Region
from sync.engine import (
    FAILURE_BACKOFF_CAP,
    INTERRUPTED,
    RUN_LEASE,
    connection_preview,
    failure_backoff,
    sync_connection_run,
)
from sync.models import SyncConnection, SyncRun
from sync.tests.engine_support import another_worker_syncing
from sync.tests.support import feed_document, payload

pytestmark = pytest.mark.django_db


def offers_state(provider) -> list[tuple]:
    """Everything a failed sync must leave as it was."""
    return list(
        Offer.objects.filter(provider=provider)
        .order_by("external_id")
        .values_list("external_id", "status", "price_per_gpu_hour", "nodes_available", "last_verified_at", "updated_at")
    )


def sync(connection) -> SyncRun:
    run = sync_connection_run(connection=connection)
    assert run is not None
    return run


def test_the_first_sync_creates_offers_and_regions(acme_feed, acme):
    run = sync(acme_feed)

    assert (run.outcome, run.error) == (SyncRun.Outcome.SUCCESS, "")
    assert (run.created, run.updated, run.unchanged, run.withdrawn, run.skipped) == (4, 0, 0, 0, 0)
    assert run.finished_at >= run.started_at
    regions = {region.code: region for region in Region.objects.filter(provider=acme)}
    assert (regions["fr-par-1"].country.code, regions["fr-par-1"].city) == ("FR", "Paris")
    offer = Offer.objects.get(provider=acme, external_id="h100-8x-fra-od")
    assert offer.gpu_model == GpuModel.objects.get(slug="h100-sxm")
    assert (offer.region, offer.country.code) == (regions["eu-fra-1"], "DE")
    assert (offer.gpus_per_node, offer.vcpus, offer.ram_gb, offer.storage_gb) == (8, 208, 1800, 30720)
    assert (offer.gpu_interconnect, offer.network, offer.pricing_type) == ("nvlink", "infiniband", "on_demand")
    assert (offer.price_per_gpu_hour, offer.currency) == (Decimal("2.49"), "USD")
    assert (offer.nodes_available, offer.nodes_total, offer.gpus_available) == (12, 64, 96)
    assert (offer.status, offer.source, offer.sync_connection) == ("active", "sync", acme_feed)
    assert offer.stale_at == offer.last_verified_at + offer.stale_after()
    reserved = Offer.objects.get(provider=acme, external_id="a100-8x-fra-1y")
    assert (reserved.pricing_type, reserved.min_term_months, reserved.gpu_model.slug) == ("reserved", 12, "a100-sxm-80")
    assert OfferSnapshot.objects.filter(offer__provider=acme).count() == 4


def test_a_successful_sync_records_health_and_the_next_time(acme_feed):
    before = timezone.now()

    run = sync(acme_feed)

    acme_feed.refresh_from_db()
    # The success is the apply's time, which verifies the offers (Offer.verified_at).
    assert run.started_at <= acme_feed.last_success_at <= acme_feed.last_run_at == run.finished_at
    assert (acme_feed.last_error, acme_feed.consecutive_failures, acme_feed.health) == ("", 0, "ok")
    assert before + timedelta(seconds=300) <= acme_feed.next_sync_at <= timezone.now() + timedelta(seconds=300)


def test_an_unchanged_feed_writes_no_offer_and_verifies_them_all_by_the_connection(acme_feed, acme):
    sync(acme_feed)
    before = set(Offer.objects.filter(provider=acme).values_list(*[f.attname for f in Offer._meta.concrete_fields]))

    run = sync(acme_feed)

    assert (run.created, run.updated, run.unchanged, run.withdrawn) == (0, 0, 4, 0)
    after = set(Offer.objects.filter(provider=acme).values_list(*[f.attname for f in Offer._meta.concrete_fields]))
    assert after == before  # not one column of one row written
    acme_feed.refresh_from_db()
    for offer in Offer.objects.filter(provider=acme).select_related("sync_connection"):
        assert offer.verified_at == acme_feed.last_success_at and run.started_at <= offer.verified_at
    assert OfferSnapshot.objects.filter(offer__provider=acme).count() == 4


def test_a_changed_feed_updates_price_and_availability_and_records_snapshots(acme_feed, acme, local_server):
    sync(acme_feed)
    document = feed_document()
    document["offers"][0]["price_per_gpu_hour"] = "2.19"
    document["offers"][1]["nodes_available"] = 0
    document["offers"][3]["vcpus"] = 48  # a change, but not of price or availability
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert (run.created, run.updated, run.unchanged, run.withdrawn) == (0, 3, 1, 0)
    h100 = Offer.objects.get(provider=acme, external_id="h100-8x-fra-od")
    assert h100.price_per_gpu_hour == Decimal("2.19")
    assert list(h100.snapshots.values_list("price_per_gpu_hour", flat=True)) == [Decimal("2.49"), Decimal("2.19")]
    h200 = Offer.objects.get(provider=acme, external_id="h200-8x-par-spot")
    assert list(h200.snapshots.values_list("nodes_available", flat=True)) == [3, 0]
    assert Offer.objects.get(provider=acme, external_id="l40s-4x-par-od").snapshots.count() == 1


def test_a_missing_offer_is_withdrawn_not_deleted_and_comes_back(acme_feed, acme, local_server):
    sync(acme_feed)
    document = feed_document()
    gone = document["offers"].pop(1)
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert (run.unchanged, run.withdrawn) == (3, 1)
    offer = Offer.objects.get(provider=acme, external_id=gone["id"])
    assert offer.status == Offer.Status.WITHDRAWN
    assert not Offer.objects.listed().filter(pk=offer.pk).exists()

    local_server.serve("/feed.json", feed_document())
    run = sync(acme_feed)

    assert (run.created, run.updated, run.unchanged, run.withdrawn) == (0, 1, 3, 0)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACTIVE
    assert offer.snapshots.count() == 2


def test_a_valid_but_empty_feed_withdraws_nothing_and_is_marked_suspicious(acme_feed, acme, local_server):
    sync(acme_feed)
    before = Offer.objects.get(provider=acme, external_id=feed_document()["offers"][0]["id"]).last_verified_at
    document = feed_document()
    document["offers"] = []
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert run.outcome == SyncRun.Outcome.SUCCESS and run.suspicious
    assert run.withdrawn == 0 and "Suspicious" in run.warnings[0]
    # Kept, but not verified by this inventory: stale (hidden by default) until listed again, with
    # the previous success as their verification.
    assert Offer.objects.filter(provider=acme, status="stale").count() == 4
    assert Offer.objects.filter(provider=acme, last_verified_at=before).count() == 4


def test_a_sudden_shrink_keeps_the_missing_offers_as_stale_and_verifies_only_the_listed_ones(
    acme_feed, acme, local_server
):
    sync(acme_feed)
    document = feed_document()
    kept = document["offers"][0]["id"]
    document["offers"] = document["offers"][:1]  # 3 of 4 gone: more than half
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert run.suspicious and (run.unchanged, run.withdrawn) == (1, 0)
    states = dict(Offer.objects.filter(provider=acme).values_list("external_id", "status"))
    assert states == {external_id: "active" if external_id == kept else "stale" for external_id in states}
    verified = {offer.external_id: offer.verified_at for offer in Offer.objects.filter(provider=acme)}
    assert verified[kept] > max(when for external_id, when in verified.items() if external_id != kept)


def test_an_empty_feed_that_says_withdraw_all_withdraws_everything(acme_feed, acme, local_server):
    sync(acme_feed)
    document = feed_document()
    document["offers"], document["withdraw_all"] = [], True
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert run.withdrawn == 4 and not run.suspicious
    assert not Offer.objects.filter(provider=acme, status="active").exists()


def test_unknown_gpu_names_are_held_back_and_reported(acme_feed, acme, local_server):
    document = feed_document()
    document["offers"][0]["gpu"] = "Quantum Tensor 9000"
    document["offers"][1]["gpu"] = "Quantum Tensor 9000"
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert (run.outcome, run.created, run.skipped) == ("success", 2, 2)
    assert run.warnings == [
        'Unknown GPU name "Quantum Tensor 9000" (2 offers): held back until an admin maps it to a GPU model.'
    ]
    assert not Offer.objects.filter(provider=acme, external_id__in=["h100-8x-fra-od", "h200-8x-par-spot"]).exists()


def test_offers_in_an_unknown_region_are_held_back(acme_feed, acme, local_server):
    document = feed_document()
    document["offers"][0]["region"] = "mars-1"
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert (run.created, run.skipped) == (3, 1)
    assert 'Unknown region "mars-1"' in run.warnings[0]


def test_offers_may_use_a_region_from_the_dashboard_and_feed_regions_update_it(acme_feed, acme, acme_fra, local_server):
    document = feed_document()
    document["regions"] = [{"code": "eu-fra-1", "country": "DE", "name": "Frankfurt One"}]
    for offer in document["offers"]:
        offer["region"] = "eu-fra-1"
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert run.created == 4
    acme_fra.refresh_from_db()
    assert (acme_fra.name, acme_fra.city) == ("Frankfurt One", "Frankfurt")  # city left out: kept
    assert Offer.objects.filter(provider=acme, region=acme_fra).count() == 4


def test_a_region_moving_country_moves_its_offers(acme_feed, acme, local_server):
    sync(acme_feed)
    document = feed_document()
    document["regions"][1]["country"] = "BE"
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    assert run.updated == 2
    assert set(Offer.objects.filter(region__code="fr-par-1").values_list("country", flat=True)) == {"BE"}


def test_a_hand_made_offer_with_the_same_id_is_taken_over(acme_feed, acme, acme_fra):
    manual = make_offer(acme, acme_fra, external_id="h100-8x-fra-od")

    run = sync(acme_feed)

    assert (run.created, run.updated) == (3, 1)
    manual.refresh_from_db()
    assert (manual.source, manual.sync_connection, manual.price_per_gpu_hour) == ("sync", acme_feed, Decimal("2.49"))


def test_an_offer_synced_by_another_connection_is_not_touched(acme_feed, acme, local_server):
    other = SyncConnection.objects.create(provider=acme, name="Other feed", base_url=local_server.url("/other.json"))
    local_server.serve("/other.json", {**feed_document(), "offers": feed_document()["offers"][:1]})
    sync(other)

    run = sync(acme_feed)

    assert (run.created, run.skipped) == (3, 1)
    assert "synced by another connection" in run.warnings[0]
    assert Offer.objects.get(external_id="h100-8x-fra-od").sync_connection == other


def test_credentials_are_sent_as_a_bearer_token(acme_feed, local_server):
    acme_feed.set_credentials("s3cret-key")
    acme_feed.save()

    sync(acme_feed)

    assert local_server.requests[-1].headers["Authorization"] == "Bearer s3cret-key"
    assert local_server.requests[-1].headers["Accept"] == "application/json"


def test_a_payload_can_be_applied_without_fetching(acme, local_server):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://feeds.invalid/acme.json")

    run = sync_connection_run(connection=connection, payload=payload("feed_v1_acme.json"))

    assert (run.outcome, run.created) == ("success", 4)
    assert local_server.requests == []


# --- Failures: a clear error, no offer changed, the connection backs off -------------------------

FAILURES = {
    "malformed JSON": (Reply(payload("feed_v1_malformed.json")), "The feed is not valid JSON at line 4 column 3"),
    "wrong types": (
        Reply(json.dumps({**feed_document(), "offers": [{**feed_document()["offers"][0], "nodes_available": "12"}]})),
        'offers[0].nodes_available: "12" is not of type integer',
    ),
    "offers not a list": (Reply(json.dumps({**feed_document(), "offers": {"h100": 1}})), "is not of type array"),
    "an array, not an object": (Reply(b"[]"), "The feed must be a JSON object, not an array."),
    "empty body": (Reply(b""), "The feed is empty."),
    "not UTF-8": (Reply(b"\xff\xfe{}"), "The feed is not UTF-8 text"),
    "negative price": (
        Reply(json.dumps({**feed_document(), "offers": [{**feed_document()["offers"][0], "price_per_gpu_hour": -1}]})),
        "offers[0].price_per_gpu_hour: -1 is less than the minimum of 0",
    ),
    "HTML page": (
        Reply(payload("error_page.html"), headers={"Content-Type": "text/html"}),
        "an HTML page instead of JSON",
    ),
    "truncated body": (
        Reply(payload("feed_v1_acme.json")[:200], content_length=5000),
        "before the whole response arrived",
    ),
    "10x oversize body": (Reply(b" " * 100_000), "larger than the 10,000 bytes allowed"),
    "10x oversize body, length not declared": (
        Reply(b" " * 100_000, send_length=False),
        "larger than the 10,000 bytes allowed",
    ),
    "slow server": (Reply(payload("feed_v1_acme.json"), delay=1.5), "(read timeout)"),
    "401": (Reply(b"unauthorized", 401), "rejected our credentials (HTTP 401"),
    "403": (Reply(b"forbidden", 403), "rejected our credentials (HTTP 403"),
    "429 asking for a long wait": (
        Reply(b"slow down", 429, {"Retry-After": "3600"}),
        "The provider's API is limiting our requests (HTTP 429 Too Many Requests)",
    ),
    "server errors on every attempt": (
        Reply(b"Bad Gateway", 502),
        "The provider's server failed (HTTP 502 Bad Gateway) after 3 attempts.",
    ),
    "404": (Reply(b"gone", 404), "HTTP 404 Not Found"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failing_feed_records_the_error_and_changes_no_offer(case, acme_feed, acme, local_server, fast_sync):
    fast_sync.SYNC_MAX_RESPONSE_BYTES = 10_000
    sync(acme_feed)
    before = offers_state(acme)
    reply, message = FAILURES[case]
    local_server.serve("/feed.json", reply)

    run = sync(acme_feed)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert message in run.error
    assert (run.created, run.updated, run.unchanged, run.withdrawn) == (0, 0, 0, 0)
    assert offers_state(acme) == before
    acme_feed.refresh_from_db()
    assert (acme_feed.last_error, acme_feed.consecutive_failures, acme_feed.health) == (run.error, 1, "failing")
    assert acme_feed.last_success_at < run.started_at


def test_a_feed_that_stalls_mid_body_times_out_and_changes_no_offer(acme_feed, acme, fast_sync):
    sync(acme_feed)
    before = offers_state(acme)

    with SlowServer() as server:
        server.serve("/feed.json", feed_document())
        server.pace("/feed.json", Pace(head=300, pause=30))  # headers and a few offers, then nothing
        acme_feed.base_url = server.url("/feed.json")
        acme_feed.save()
        run = sync(acme_feed)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert "stopped sending data for more than 0.5 s (read timeout)" in run.error
    assert offers_state(acme) == before


def test_rejected_credentials_say_what_to_do_and_wait_the_longest(acme_feed, local_server):
    local_server.serve("/feed.json", Reply(b"unauthorized", 401))

    run = sync(acme_feed)

    assert (
        run.error
        == "The provider's API rejected our credentials (HTTP 401 Unauthorized). Edit the connection's API key."
    )
    acme_feed.refresh_from_db()
    assert acme_feed.next_sync_at >= run.finished_at + FAILURE_BACKOFF_CAP


@pytest.mark.parametrize(
    "first",
    [Reply(b"busy", 429, {"Retry-After": "1"}), Reply(b"oops", 500), Reply(b"oops", 503)],
    ids=["429 with Retry-After", "500", "503"],
)
def test_a_transient_error_then_success_is_retried_within_the_run(first, acme_feed, local_server):
    local_server.serve("/feed.json", first, Reply(payload("feed_v1_acme.json")))

    run = sync(acme_feed)

    assert (run.outcome, run.created) == ("success", 4)
    assert local_server.hits("/feed.json") == 2


def test_a_redirect_to_another_host_is_followed_without_the_credentials(acme_feed, local_server, other_server):
    acme_feed.set_credentials("s3cret-key")
    acme_feed.save()
    local_server.serve(
        "/feed.json", Reply(status=302, headers={"Location": other_server.url("/feed.json", "localhost")})
    )
    other_server.serve("/feed.json", Reply(payload("feed_v1_acme.json")))

    run = sync(acme_feed)

    assert (run.outcome, run.created) == ("success", 4)
    assert "Authorization" not in other_server.requests[0].headers


def test_with_the_guard_on_a_private_feed_url_is_refused(acme_feed, acme, settings, local_server):
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = False

    run = sync(acme_feed)

    assert run.outcome == "failed"
    assert "Only https:// URLs are allowed" in run.error
    assert local_server.requests == []


def test_failures_back_off_and_a_success_recovers(acme_feed, local_server):
    local_server.serve("/feed.json", Reply(b"{not json"))
    waits = []
    for _ in range(4):
        run = sync(acme_feed)
        acme_feed.refresh_from_db()
        waits.append(round((acme_feed.next_sync_at - run.finished_at).total_seconds()))

    assert acme_feed.consecutive_failures == 4
    assert waits == [300, 600, 1200, 2400]

    local_server.serve("/feed.json", Reply(payload("feed_v1_acme.json")))
    run = sync(acme_feed)

    acme_feed.refresh_from_db()
    assert (run.outcome, acme_feed.consecutive_failures, acme_feed.last_error, acme_feed.health) == (
        "success",
        0,
        "",
        "ok",
    )
    assert acme_feed.next_sync_at == run.finished_at + timedelta(seconds=300)


def test_failure_backoff_doubles_up_to_the_cap():
    assert failure_backoff(interval_seconds=60, failures=1, permanent=False) == timedelta(minutes=1)
    assert failure_backoff(interval_seconds=60, failures=3, permanent=False) == timedelta(minutes=4)
    assert failure_backoff(interval_seconds=60, failures=50, permanent=False) == FAILURE_BACKOFF_CAP
    assert failure_backoff(interval_seconds=60, failures=1, permanent=True) == FAILURE_BACKOFF_CAP
    # A connection synced less often than the cap is never pushed back further than its interval.
    assert failure_backoff(interval_seconds=86400, failures=5, permanent=False) == timedelta(days=1)


def test_one_failing_connection_does_not_affect_another(acme_feed, acme, beta, local_server):
    beta_feed = SyncConnection.objects.create(provider=beta, base_url=local_server.url("/beta.json"))
    local_server.serve("/beta.json", Reply(b"oops", 404))

    beta_run, acme_run = sync(beta_feed), sync(acme_feed)

    assert (beta_run.outcome, acme_run.outcome) == ("failed", "success")
    assert Offer.objects.filter(provider=acme).count() == 4
    acme_feed.refresh_from_db()
    assert acme_feed.consecutive_failures == 0


# --- One run at a time ---------------------------------------------------------------------------


def test_a_connection_already_syncing_is_left_alone(acme_feed, acme, local_server):
    with another_worker_syncing(acme_feed) as running:
        assert sync_connection_run(connection=acme_feed) is None

    assert local_server.requests == []
    assert list(SyncRun.objects.filter(connection=acme_feed)) == [running]
    assert not Offer.objects.filter(provider=acme).exists()


def test_a_run_left_behind_by_a_dead_worker_is_closed_and_no_longer_blocks(acme_feed):
    dead = SyncRun.objects.create(connection=acme_feed, started_at=timezone.now() - RUN_LEASE - timedelta(minutes=1))

    run = sync(acme_feed)

    dead.refresh_from_db()
    assert (dead.outcome, run.outcome) == ("failed", "success")
    assert "interrupted" in dead.error


def test_on_postgresql_a_run_whose_worker_is_gone_is_closed_at_once(acme_feed):
    require_postgres()
    with another_worker_syncing(acme_feed) as running:
        assert sync_connection_run(connection=acme_feed) is None
    # That worker died: its database session, and the run's advisory lock with it, are gone.

    run = sync(acme_feed)

    running.refresh_from_db()
    assert (running.outcome, running.error, run.outcome) == ("failed", INTERRUPTED, "success")


def test_an_internal_error_fails_the_run_instead_of_leaving_it_running(acme_feed):
    SyncConnection.objects.filter(pk=acme_feed.pk).update(kind="retired-kind")
    acme_feed.refresh_from_db()

    run = sync(acme_feed)

    assert run.outcome == "failed"
    assert "internal error (LookupError)" in run.error


# --- Cost: a bounded number of queries whatever the size -----------------------------------------


def big_feed(count: int, price: str = "2.00") -> bytes:
    document = feed_document()
    template = document["offers"][0]
    document["offers"] = [dict(template, id=f"node-{n}", price_per_gpu_hour=price) for n in range(count)]
    return json.dumps(document).encode()


def queries_for(connection, feed: bytes) -> int:
    with CaptureQueriesContext(db_connection) as context:
        sync_connection_run(connection=connection, payload=feed)
    return len(context.captured_queries)


def test_applying_costs_the_same_queries_for_10_or_300_offers(acme, beta):
    small = SyncConnection.objects.create(provider=acme, base_url="https://feeds.invalid/acme.json")
    large = SyncConnection.objects.create(provider=beta, base_url="https://feeds.invalid/beta.json")

    assert queries_for(large, big_feed(300)) == queries_for(small, big_feed(10))  # all created
    assert queries_for(large, big_feed(300)) == queries_for(small, big_feed(10))  # all unchanged
    assert queries_for(large, big_feed(300, "2.10")) == queries_for(small, big_feed(10, "2.10"))  # all updated
    assert queries_for(large, big_feed(0)) == queries_for(small, big_feed(0))  # all withdrawn


# --- Without saving, and other adapters' input ---------------------------------------------------


def test_a_preview_fetches_and_parses_without_saving(acme_feed, acme):
    inventory = connection_preview(connection=acme_feed)

    assert [offer.external_id for offer in inventory.offers][:2] == ["h100-8x-fra-od", "h200-8x-par-spot"]
    assert not Offer.objects.exists() and not SyncRun.objects.exists()


def test_a_preview_raises_what_a_sync_would_record(acme_feed, local_server):
    local_server.serve("/feed.json", Reply(b"nope", 403))

    with pytest.raises(FetchError, match="rejected our credentials"):
        connection_preview(connection=acme_feed)


def test_offers_the_database_would_refuse_are_skipped_not_fatal(acme, acme_fra):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://feeds.invalid/acme.json")
    good = NormalizedOffer("ok", "eu-fra-1", "H100 SXM", 8, "on_demand", Decimal("2.5"), nodes_available=1)
    bad = [
        replace(good, external_id="over", nodes_available=5, nodes_total=4),
        replace(good, external_id="free-lunch", price_per_gpu_hour=Decimal("-1")),
        replace(good, external_id="no-term", pricing_type="reserved"),
        replace(good, external_id="x" * 201),
    ]

    result = offers_apply_inventory(
        connection=connection, offers=[good, *bad], regions={"eu-fra-1": acme_fra}, now=timezone.now()
    )

    assert (result.created, result.skipped) == (1, 4)
    assert 'Offer "over" skipped: 5 nodes available out of 4 is not possible.' in result.warnings
    assert list(Offer.objects.values_list("external_id", flat=True)) == ["ok"]


def test_an_unchanged_resync_writes_no_row(acme, acme_fra):
    """Verification per connection (docs/performance.md): 500 unchanged offers, not one update."""
    require_postgres()
    connection = SyncConnection.objects.create(provider=acme, base_url="https://feeds.invalid/acme.json")
    offers = [
        NormalizedOffer(f"o{n}", "eu-fra-1", "H100 SXM", 8, "on_demand", Decimal("2.5"), nodes_available=n % 7)
        for n in range(500)
    ]
    regions = {"eu-fra-1": acme_fra}
    offers_apply_inventory(connection=connection, offers=offers, regions=regions, now=timezone.now())

    def updates() -> tuple[int, int]:
        with db_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_xact_tuples_updated(c.oid), pg_stat_get_xact_tuples_hot_updated(c.oid) "
                "FROM pg_class c WHERE c.relname = 'marketplace_offer'"
            )
            return cursor.fetchone()

    before = updates()
    result = offers_apply_inventory(connection=connection, offers=offers, regions=regions, now=timezone.now())
    after = updates()

    assert result.unchanged == 500
    assert (after[0] - before[0], after[1] - before[1]) == (0, 0)
