"""Outages: Redis stops and comes back, PostgreSQL drops every connection or becomes unreachable.

Real processes: a throwaway redis-server on a port of its own (never the shared one), Celery
worker and beat, gunicorn; PostgreSQL is the suite's test database, reached directly or through
a TCP proxy the test can cut (the shared server itself is never stopped).
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone

from portal.testing import database_url, missing_service, require_postgres
from sync.models import SyncConnection, SyncRun
from sync.tests.engine_support import wait_for, worker_ready, worker_spawn, worker_stop

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayRedis:
    """A redis-server on its own port, started and stopped by the test."""

    def __init__(self, tmp_path: Path):
        if not shutil.which("redis-server"):
            missing_service("needs the redis-server program for the Redis outage test")
        self.port, self.dir, self.process = free_port(), tmp_path, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*command, "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        wait_for(self._answers, 10, "redis-server to start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def _answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False


def beat_spawn(log: Path, schedule: Path, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "DATABASE_URL": database_url(), "SYNC_DISPATCH_EVERY_SECONDS": "1", **env}
    command = [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO", "--schedule", str(schedule)]
    with log.open("wb") as output:
        return subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT
        )


@pytest.fixture
def feed_connection(acme, local_server):
    from sync.tests.support import feed_document

    local_server.serve("/feed.json", feed_document())
    return SyncConnection.objects.create(
        provider=acme, name="Acme feed", base_url=local_server.url("/feed.json"), interval_seconds=3600
    )


def successful_runs(connection) -> int:
    return SyncRun.objects.filter(connection=connection, outcome=SyncRun.Outcome.SUCCESS).count()


def test_with_redis_down_pages_serve_sync_now_says_so_and_work_resumes_when_it_returns(
    client, alice, feed_connection, tmp_path, settings
):
    require_postgres()
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    broker = {"CELERY_BROKER_URL": redis.url, "CACHE_URL": redis.url.replace("/0", "/1")}
    settings.CELERY_BROKER_URL = broker["CELERY_BROKER_URL"]
    settings.CACHES = {"default": {**settings.CACHES["default"], **_redis_cache(broker["CACHE_URL"])}}
    settings.CATALOG_CACHE_SECONDS = 30
    SyncConnection.objects.filter(pk=feed_connection.pk).update(next_sync_at=timezone.now() + timedelta(hours=1))
    worker = worker_spawn(tmp_path / "worker.log", **broker)
    beat = beat_spawn(tmp_path / "beat.log", tmp_path / "schedule", **broker)
    try:
        worker_ready(worker, tmp_path / "worker.log")
        client.force_login(alice)
        assert client.get("/").status_code == 200  # fills the cache

        redis.stop()
        assert client.get("/?gpu=h100-sxm").status_code == 200
        detail = reverse("dashboard:connection_detail", args=[feed_connection.provider.slug, feed_connection.pk])
        assert client.get(detail).status_code == 200
        started = time.monotonic()
        response = client.post(
            reverse("dashboard:connection_sync", args=[feed_connection.provider.slug, feed_connection.pk]), follow=True
        )
        assert time.monotonic() - started < 5
        assert "The sync queue is unavailable right now" in response.text
        feed_connection.refresh_from_db()
        assert feed_connection.next_sync_at <= timezone.now()  # due: nothing is lost
        time.sleep(2)  # beat keeps ticking into the void meanwhile
        assert successful_runs(feed_connection) == 0

        redis.start()  # same port: beat and the worker reconnect by themselves
        wait_for(
            lambda: successful_runs(feed_connection) == 1,
            90,
            "the sync after Redis came back",
            log=tmp_path / "worker.log",
        )
        assert worker.poll() is None and beat.poll() is None
    finally:
        beat.terminate()
        beat.wait(10)
        worker_stop(worker)
        if redis.process.poll() is None:
            redis.stop()


def _redis_cache(url: str) -> dict:
    return {"BACKEND": "portal.lib.cache.FailSafeRedisCache", "LOCATION": url}


class CuttableProxy:
    """A TCP proxy to PostgreSQL: ``cut()`` drops every connection and refuses new ones (the
    server is unreachable, as while it restarts), ``restore()`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=True)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it (Linux)
        except OSError:
            pass
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in [(client, upstream), (upstream, client)]:
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def connected_applications() -> list[str]:
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [name for (name,) in cursor.fetchall()]


def terminate_backends(application_name: str) -> int:
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        )
        return cursor.fetchone()[0]


def test_the_web_fails_cleanly_while_postgresql_is_away_and_recovers_without_a_restart(feed_connection, tmp_path):
    require_postgres()
    db = db_connection.settings_dict
    proxy = CuttableProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    port = free_port()
    url = database_url().replace(f":{db['PORT'] or 5432}/", f":{proxy.port}/")
    env = {**os.environ, "DATABASE_URL": url, "CONN_MAX_AGE": "60", "PGAPPNAME": "outage-web"}
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        web = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(base + "/healthz") == 200, 30, "gunicorn to answer", log=log)
        assert _get(base + "/") == 200

        assert terminate_backends("outage-web") == 1  # what a PostgreSQL restart does to a kept connection
        assert _get(base + "/") == 200  # the health check reconnects first

        proxy.cut()  # PostgreSQL unreachable
        page = httpx.get(base + "/", timeout=10)
        assert page.status_code == 503 and "Temporarily unavailable" in page.text
        assert _get(base + "/healthz") == 503

        proxy.restore()
        assert _get(base + "/") == 200 and _get(base + "/healthz") == 200
        assert web.poll() is None  # the same process throughout
    finally:
        web.terminate()
        web.wait(10)
        proxy.cut()


def _get(url: str) -> int:
    try:
        return httpx.get(url, timeout=10).status_code
    except httpx.HTTPError:
        return 0


def test_a_worker_recovers_when_postgresql_drops_its_connection(feed_connection, tmp_path):
    require_postgres()
    from portal.testing import require_redis

    require_redis()
    from sync.tests.engine_support import broker_flush, broker_url

    broker_flush()
    env = {"CELERY_BROKER_URL": broker_url(), "CONN_MAX_AGE": "60", "PGAPPNAME": "outage-worker"}
    worker = worker_spawn(tmp_path / "worker.log", concurrency=1, **env)
    beat = beat_spawn(tmp_path / "beat.log", tmp_path / "schedule", **env)
    try:
        wait_for(lambda: successful_runs(feed_connection) == 1, 60, "the first sync", log=tmp_path / "worker.log")
        wait_for(
            lambda: terminate_backends("outage-worker") >= 1,
            30,
            f"the worker's connection (connected after the first sync: {connected_applications()})",
            log=tmp_path / "worker.log",
        )
        SyncConnection.objects.filter(pk=feed_connection.pk).update(next_sync_at=timezone.now())
        wait_for(lambda: successful_runs(feed_connection) == 2, 60, "the sync after", log=tmp_path / "worker.log")
        assert worker.poll() is None
    finally:
        beat.terminate()
        beat.wait(10)
        worker_stop(worker)
