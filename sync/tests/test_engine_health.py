"""A connection's health over time: failures pause it and tell its provider; offers go stale and come back.

Acme's feed (alice owns Acme, bob is staff) is served by a local server; time is moved with
time_machine where the story spans hours.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from marketplace.models import GpuAlias, GpuModel, GpuNameReview, Offer
from marketplace.tasks import offers_mark_stale_task
from portal.testing import Reply
from sync.engine import connections_claim_due, sync_connection_run
from sync.models import SyncConnection, SyncRun
from sync.tests.support import feed_document, payload

pytestmark = pytest.mark.django_db

BROKEN = Reply(b"{not json")  # fails at once: no retries inside the run


def sync(connection) -> SyncRun:
    run = sync_connection_run(connection=connection)
    assert run is not None
    return run


def offers_state(provider) -> list[tuple]:
    return list(
        Offer.objects.filter(provider=provider)
        .order_by("external_id")
        .values_list("external_id", "status", "price_per_gpu_hour", "nodes_available", "last_verified_at", "stale_at")
    )


@pytest.fixture
def pause_after_3(settings):
    settings.SYNC_PAUSE_AFTER_FAILURES = 3
    settings.SITE_URL = "https://gpus.example.com/"
    return settings


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs on-commit callbacks (the pause e-mail) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- Pause after repeated failures -------------------------------------------------------------


def test_a_connection_failing_too_often_is_paused_and_its_provider_told(
    acme_feed, acme, alice, local_server, pause_after_3, committed
):
    acme.contact_email = "ops@acme.example"
    acme.save()
    local_server.serve("/feed.json", BROKEN)

    with committed():
        sync(acme_feed)
        sync(acme_feed)
    acme_feed.refresh_from_db()
    assert (acme_feed.enabled, acme_feed.paused_at, mail.outbox) == (True, None, [])

    with committed():
        run = sync(acme_feed)

    acme_feed.refresh_from_db()
    assert (acme_feed.enabled, acme_feed.consecutive_failures) == (False, 3)
    assert acme_feed.paused_at == run.finished_at
    SyncConnection.objects.filter(pk=acme_feed.pk).update(next_sync_at=timezone.now())
    assert connections_claim_due() == []  # no more scheduled syncs, even once due
    (message,) = mail.outbox
    assert sorted(message.to) == ["alice@example.com", "ops@acme.example"]  # owners, not staff (bob)
    assert message.subject == 'Syncing of "Acme feed" is paused after 3 failed attempts'
    words = " ".join(message.body.split())  # the body is wrapped at 78 columns
    assert 'through the connection "Acme feed" 3 times in a row, so it has stopped trying' in words
    assert f"The last error was: {acme_feed.last_error}" in words
    assert "The feed is not valid JSON" in acme_feed.last_error
    assert "edit and save the connection on your dashboard to resume its syncs" in words
    assert f"\n    https://gpus.example.com/dashboard/acme-gpu/connections/{acme_feed.pk}/" in message.body
    assert max(len(line) for line in message.body.splitlines() if not line.startswith("    ")) <= 78


def test_a_paused_connection_is_not_paused_or_mailed_again(acme_feed, local_server, pause_after_3, committed):
    local_server.serve("/feed.json", BROKEN)
    with committed():
        for _ in range(3):
            sync(acme_feed)
    acme_feed.refresh_from_db()
    paused_at = acme_feed.paused_at

    with committed():
        sync(acme_feed)  # "sync now" on the dashboard, still broken

    acme_feed.refresh_from_db()
    assert (acme_feed.enabled, acme_feed.paused_at, acme_feed.consecutive_failures) == (False, paused_at, 4)
    assert len(mail.outbox) == 1


def test_a_successful_sync_resumes_a_paused_connection(acme_feed, acme, local_server, pause_after_3):
    local_server.serve("/feed.json", BROKEN)
    for _ in range(3):
        sync(acme_feed)
    local_server.serve("/feed.json", feed_document())

    run = sync(acme_feed)  # "sync now" after the provider fixed its API

    acme_feed.refresh_from_db()
    assert (run.outcome, acme_feed.enabled, acme_feed.paused_at, acme_feed.consecutive_failures) == (
        "success",
        True,
        None,
        0,
    )
    assert acme_feed.next_sync_at == run.finished_at + timedelta(seconds=acme_feed.interval_seconds)


def test_a_connection_disabled_by_hand_stays_disabled_after_a_sync(acme_feed, pause_after_3):
    SyncConnection.objects.filter(pk=acme_feed.pk).update(enabled=False)
    acme_feed.refresh_from_db()

    assert sync(acme_feed).outcome == "success"

    acme_feed.refresh_from_db()
    assert (acme_feed.enabled, acme_feed.paused_at) == (False, None)


def test_a_provider_without_any_address_is_paused_without_mail(acme_feed, acme, local_server, pause_after_3, committed):
    acme.memberships.all().delete()
    local_server.serve("/feed.json", BROKEN)

    with committed():
        for _ in range(3):
            sync(acme_feed)

    acme_feed.refresh_from_db()
    assert acme_feed.paused_at is not None
    assert mail.outbox == []


def test_a_mail_that_cannot_be_sent_does_not_undo_the_pause(
    acme_feed, local_server, pause_after_3, committed, monkeypatch, caplog
):
    def send_mail(*args, **kwargs):
        raise ConnectionRefusedError("no SMTP server")

    monkeypatch.setattr("sync.engine.send_mail", send_mail)
    local_server.serve("/feed.json", BROKEN)

    with committed():
        for _ in range(3):
            run = sync(acme_feed)

    acme_feed.refresh_from_db()
    assert (run.outcome, acme_feed.enabled) == ("failed", False)
    assert "no SMTP server" in caplog.text  # logged for the portal's team


def test_the_default_threshold_is_eight_failures_with_growing_waits(acme_feed, local_server, committed):
    local_server.serve("/feed.json", BROKEN)
    waits = []
    with committed():
        for _ in range(8):
            run = sync(acme_feed)
            acme_feed.refresh_from_db()
            waits.append((acme_feed.next_sync_at - run.finished_at) / timedelta(seconds=acme_feed.interval_seconds))

    assert waits == [1, 2, 4, 8, 12, 12, 12, 12]  # interval x 1, 2, 4... up to the one-hour ceiling
    assert acme_feed.paused_at is not None and len(mail.outbox) == 1


# --- Staleness: last known state, stale after the threshold, restored by a success -------------


def test_a_failing_connection_keeps_its_offers_until_they_go_stale_and_a_success_restores_them(
    acme_feed, acme, local_server
):
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        sync(acme_feed)
        synced = offers_state(acme)
        threshold = Offer.objects.filter(provider=acme).first().stale_after()
        assert threshold == timedelta(minutes=15)  # 3 intervals of 5 minutes
        local_server.serve("/feed.json", Reply(b"Service Unavailable", 503))

        clock.move_to(start + timedelta(minutes=10))
        assert sync(acme_feed).outcome == "failed"
        assert offers_state(acme) == synced  # last known state, untouched
        assert Offer.objects.listed().fresh().filter(provider=acme).count() == 4

        clock.move_to(start + threshold + timedelta(seconds=1))
        assert sync(acme_feed).outcome == "failed"
        offers_mark_stale_task()  # what beat runs every few seconds
        assert [state[:4] for state in offers_state(acme)] == [(*state[:1], "stale", *state[2:4]) for state in synced]
        assert not Offer.objects.listed().fresh().filter(provider=acme).exists()  # hidden by default
        assert Offer.objects.listed().stale().filter(provider=acme).count() == 4  # still there, marked stale
        acme_feed.refresh_from_db()
        for offer in Offer.objects.filter(provider=acme):
            assert offer.is_stale and offer.verified_at == acme_feed.last_success_at  # the last success

        clock.move_to(start + timedelta(minutes=40))
        local_server.serve("/feed.json", feed_document())
        run = sync(acme_feed)

        assert (run.outcome, run.unchanged, run.updated) == ("success", 4, 0)  # listed again: fresh, not changed
        assert Offer.objects.listed().fresh().filter(provider=acme).count() == 4
        for offer in Offer.objects.filter(provider=acme).select_related("sync_connection"):
            assert run.started_at <= offer.verified_at <= run.finished_at


# --- Unknown GPU names: the admin review queue --------------------------------------------------


def test_unknown_gpu_names_go_to_the_review_queue_and_their_offers_follow_the_alias(acme_feed, acme, local_server):
    document = feed_document()
    document["offers"][0]["gpu"] = "Quantum Tensor 9000"
    document["offers"][1]["gpu"] = "quantum-tensor 9000"  # the same name, normalized
    local_server.serve("/feed.json", document)

    run = sync(acme_feed)

    (review,) = GpuNameReview.objects.all()
    assert (review.offers_held, review.resolved_at, list(review.providers.all())) == (2, None, [acme])
    assert review.last_seen_at == review.first_seen_at
    assert run.skipped == 2
    assert not Offer.objects.filter(provider=acme, external_id__in=["h100-8x-fra-od", "h200-8x-par-spot"]).exists()

    # The admin maps the name; the next sync lists the held offers under that model.
    GpuAlias.objects.create(name="Quantum Tensor 9000", gpu_model=GpuModel.objects.get(slug="h200"))
    run = sync(acme_feed)

    assert (run.created, run.skipped) == (2, 0)
    assert set(Offer.objects.filter(provider=acme, gpu_model__slug="h200").values_list("external_id", flat=True)) == {
        "h100-8x-fra-od",
        "h200-8x-par-spot",
    }


def test_a_failed_sync_records_no_gpu_name(acme, local_server):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://feeds.invalid/acme.json")
    document = payload("feed_v1_acme.json").replace(b"H100 SXM 80GB", b"Quantum Tensor 9000")

    run = sync_connection_run(connection=connection, payload=document[:-20])

    assert run.outcome == "failed"
    assert not GpuNameReview.objects.exists()
