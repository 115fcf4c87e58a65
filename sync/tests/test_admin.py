"""Django admin for syncs: pages open, saving goes through the services, credentials stay hidden."""

import pytest
from django.utils import timezone

from portal.testing import admin_url
from sync.models import SyncConnection, SyncRun

SECRET = "sk-live-4f9d2c1e8b7a"

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(acme):
    connection = SyncConnection(provider=acme, name="Acme inventory", base_url="https://api.acme.example/feed.json")
    connection.set_credentials(SECRET)
    connection.save()
    return connection


@pytest.fixture
def objects(connection):
    return {
        SyncConnection: connection,
        SyncRun: SyncRun.objects.create(connection=connection, outcome=SyncRun.Outcome.FAILED, error="HTTP 503"),
    }


@pytest.mark.parametrize("model", [SyncConnection, SyncRun])
def test_every_page_opens_for_a_superuser(admin_client, objects, model):
    obj = objects[model]

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "changelist"), {"q": "acme"}).status_code == 200
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    if model is not SyncRun:
        assert admin_client.get(admin_url(model, "add")).status_code == 200


def test_sync_connection_pages_never_show_the_credentials(admin_client, connection):
    token = SyncConnection.objects.get(pk=connection.pk).credentials_encrypted

    for url in [admin_url(SyncConnection, "changelist"), admin_url(SyncConnection, "change", connection.pk)]:
        content = admin_client.get(url).content.decode()
        assert SECRET not in content
        assert token not in content
        assert token[:20] not in content
    assert (
        "credentials_encrypted"
        not in admin_client.get(admin_url(SyncConnection, "change", connection.pk)).content.decode()
    )


def connection_form(connection: SyncConnection, **changes) -> dict:
    data = {
        "provider": connection.provider_id,
        "name": connection.name,
        "kind": connection.kind,
        "base_url": connection.base_url,
        "interval_seconds": connection.interval_seconds,
        "enabled": "on",
        "api_key": "",
    }
    data.update(changes)
    return data


def test_saving_a_connection_keeps_its_credentials(admin_client, connection):
    response = admin_client.post(admin_url(SyncConnection, "change", connection.pk), connection_form(connection))

    assert response.status_code == 302
    assert SyncConnection.objects.get(pk=connection.pk).get_credentials() == SECRET


def test_credentials_can_be_replaced_or_removed(admin_client, connection):
    url = admin_url(SyncConnection, "change", connection.pk)

    admin_client.post(url, connection_form(connection, api_key="sk-live-new"))
    assert SyncConnection.objects.get(pk=connection.pk).get_credentials() == "sk-live-new"

    admin_client.post(url, connection_form(connection, remove_credentials="on"))
    assert not SyncConnection.objects.get(pk=connection.pk).has_credentials


def test_sync_now_queues_one_task_per_connection_after_commit(
    admin_client, connection, beta, django_capture_on_commit_callbacks
):
    other = SyncConnection.objects.create(provider=beta, base_url="https://beta.example/feed.json")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            admin_url(SyncConnection, "changelist"),
            {"action": "sync_now", "_selected_action": [connection.pk, other.pk]},
            follow=True,
        )

    assert "2 syncs queued." in response.content.decode()
    assert len(callbacks) == 2
    assert sorted(callback.args for callback in callbacks) == sorted([(connection.pk,), (other.pk,)])


def test_sync_runs_are_read_only(admin_client, objects):
    run = objects[SyncRun]

    assert admin_client.get(admin_url(SyncRun, "add")).status_code == 403
    assert admin_client.post(admin_url(SyncRun, "change", run.pk), {"outcome": "success"}).status_code == 403
    assert SyncRun.objects.get(pk=run.pk).outcome == SyncRun.Outcome.FAILED


def test_sync_runs_can_be_listed_by_connection(admin_client, connection, beta):
    other = SyncConnection.objects.create(provider=beta, base_url="https://beta.example/feed.json")
    SyncRun.objects.create(connection=connection)
    SyncRun.objects.create(connection=other)

    response = admin_client.get(admin_url(SyncRun, "changelist"), {"connection__id__exact": connection.pk})

    assert [run.connection for run in response.context["cl"].result_list] == [connection]


def test_re_enabling_a_connection_paused_after_failures_resumes_it(admin_client, connection):
    SyncConnection.objects.filter(pk=connection.pk).update(
        enabled=False, paused_at=timezone.now(), consecutive_failures=8, last_error="HTTP 401"
    )

    admin_client.post(admin_url(SyncConnection, "change", connection.pk), connection_form(connection))

    resumed = SyncConnection.objects.get(pk=connection.pk)
    assert (resumed.enabled, resumed.paused_at, resumed.consecutive_failures) == (True, None, 0)
    assert resumed.next_sync_at <= timezone.now()  # due at once, with the new settings


def test_saving_a_connection_writes_only_its_settings_not_its_health(admin_client, connection):
    form = connection_form(connection, name="Renamed")  # loaded before the sync below finished
    finished = timezone.now()
    SyncConnection.objects.filter(pk=connection.pk).update(last_success_at=finished, last_error="a warning")

    admin_client.post(admin_url(SyncConnection, "change", connection.pk), form)

    saved = SyncConnection.objects.get(pk=connection.pk)
    assert (saved.name, saved.last_success_at, saved.last_error) == ("Renamed", finished, "a warning")


def test_disabling_a_connection_in_the_admin_pauses_it(admin_client, connection):
    form = connection_form(connection)
    del form["enabled"]

    admin_client.post(admin_url(SyncConnection, "change", connection.pk), form)

    assert SyncConnection.objects.get(pk=connection.pk).enabled is False


def test_a_connection_added_in_the_admin_is_due_at_once_with_encrypted_credentials(admin_client, acme):
    data = {
        "provider": acme.pk,
        "name": "Added",
        "kind": "feed",
        "base_url": "https://acme.example/feed.json",
        "interval_seconds": 300,
        "enabled": "on",
        "api_key": SECRET,
    }

    response = admin_client.post(admin_url(SyncConnection, "add"), data)

    assert response.status_code == 302
    added = SyncConnection.objects.get(name="Added")
    assert added.get_credentials() == SECRET and SECRET not in added.credentials_encrypted
    assert added.next_sync_at <= timezone.now()
