"""Logs that say which request or task they belong to.

Every web request gets an id (the client's X-Request-ID if it is a plain token, else a new one),
sent back in the X-Request-ID response header; every log record carries it as ``request_id``,
and records written inside a Celery task carry its ``task_id``. With LOG_FORMAT=json each record
is one JSON object per line (python-json-logger); plain text stays the default.
"""

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        # Kept until the response is closed (request_finished): Django logs 4xx and 5xx answers
        # after the middleware has returned.
        request_id.set(given if ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id.get()
        return response


def _request_finished(**kwargs) -> None:
    request_id.set("")


request_finished.connect(_request_finished, dispatch_uid="portal.logging.request_finished")


class ContextFilter(logging.Filter):
    """Add ``request_id`` and ``task_id`` (empty outside a request or a task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = _task_id()
        return True


def _task_id() -> str:
    from celery import current_task

    task = current_task
    return (task.request.id or "") if task and task.request else ""


def logging_config(*, level: str, json: bool) -> dict:
    """The LOGGING setting: one console handler, JSON or plain text."""
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if json
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "portal.logging.ContextFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["context"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
    }
