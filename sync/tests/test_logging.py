"""Structured logs: LOG_FORMAT=json writes one JSON object per line with the request's or task's id."""

import io
import json
import logging
import logging.config

import pytest

from portal.logging import logging_config
from sync.engine import sync_connection_run
from sync.tasks import sync_connection_task


@pytest.fixture
def json_logs():
    """The JSON configuration, writing into a buffer; the test configuration is restored after."""
    config = logging_config(level="INFO", json=True)
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
def test_a_request_logs_with_its_id_which_the_response_carries(client, json_logs):
    response = client.get("/no-such-page/")
    records = [r for r in json_logs() if r["logger"] == "django.request"]
    assert records and records[0]["level"] == "WARNING" and "Not Found" in records[0]["message"]
    assert records[0]["request_id"] == response["X-Request-ID"] != ""


@pytest.mark.django_db
def test_a_clients_request_id_is_kept_if_it_is_a_plain_token(client):
    assert client.get("/", headers={"X-Request-ID": "abc-123"})["X-Request-ID"] == "abc-123"
    assert client.get("/", headers={"X-Request-ID": "bad id\n"})["X-Request-ID"] != "bad id\n"


@pytest.mark.django_db
def test_a_task_logs_with_its_id(acme_feed, json_logs):
    result = sync_connection_task.apply(args=(acme_feed.pk,), task_id="task-42")
    assert result.successful()
    records = [r for r in json_logs() if r["logger"] == "sync.engine"]
    assert records and all(r["task_id"] == "task-42" for r in records)
    sync_connection_run(connection=acme_feed)
    assert json_logs()[-1]["task_id"] == ""


def test_plain_text_stays_the_default():
    from django.conf import settings

    assert settings.LOG_FORMAT == "text"
    assert "format" in settings.LOGGING["formatters"]["default"]
