"""In a real browser: after "Sync now", the page follows the run by itself (htmx polling) and
shows its counts when it is done, without a reload."""

import pytest
from django.test import Client
from django.urls import reverse

from sync.engine import sync_connection_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sync_now_shows_the_run_progress_until_it_is_done(live_server, page, alice, acme_feed):
    client = Client()
    client.force_login(alice)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(live_server.url + reverse("dashboard:connection_detail", args=[acme_feed.provider.slug, acme_feed.pk]))
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.notReloaded = true; }")

    page.get_by_role("button", name="Sync now").click()
    progress = page.locator("#sync-progress")
    progress.get_by_text("Queued: waiting for a worker").wait_for()

    run = sync_connection_run(connection=acme_feed)  # what the worker does with the task

    progress.get_by_text("Sync done.").wait_for(timeout=10_000)
    assert f"{run.created} created" in progress.inner_text()
    assert page.locator("#connection-runs").get_by_text("Success").count() == 1  # refreshed with it
    assert page.evaluate("() => window.notReloaded") is True
    # Finished: the fragment no longer polls.
    assert progress.get_attribute("hx-trigger") is None
