"""Test support for the sync engine: real Celery workers on Redis, and "another worker is syncing".

Workers are subprocesses pointed at the pytest test database and at a Redis database of their
own (``TEST_REDIS_DB``, 13 by default: the tests flush it), each in its own process group so a
test can SIGKILL a whole worker, pool processes included.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import connection as db_connection

from portal.testing import database_url, require_redis
from sync.engine import RUN_LOCK_NAMESPACE
from sync.models import SyncConnection, SyncRun


def broker_url() -> str:
    """A Redis database only these tests use, on the host the suite's Redis is on."""
    url = urlparse(require_redis())
    return urlunparse(url._replace(path=f"/{os.environ.get('TEST_REDIS_DB', '13')}"))


def broker_flush() -> None:
    import redis

    redis.Redis.from_url(broker_url()).flushdb()


def worker_spawn(log: Path, *, name: str = "sync-test", concurrency: int = 2, **env: str) -> subprocess.Popen:
    """Start a Celery worker on the default and sync queues; see worker_ready()."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url(),
        "SYNC_ALLOW_PRIVATE_ADDRESSES": "true",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO", "--queues=default,sync"]
    command += [
        f"--concurrency={concurrency}",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: worker_kill() reaches the pool too
        )


def worker_ready(worker: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while b" ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker_stop(worker)
            pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def worker_start(log: Path, **options) -> subprocess.Popen:
    worker = worker_spawn(log, **options)
    worker_ready(worker, log)
    return worker


def worker_stop(worker: subprocess.Popen) -> None:
    """A warm shutdown, or a kill if it takes too long."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    worker_kill(worker)


def worker_kill(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes at once: nothing gets to clean up."""
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait()


def worker_children(worker: subprocess.Popen) -> list[int]:
    """The pids of a worker's pool processes (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == worker.pid:  # field 4, the parent pid, after "pid (comm) state"
            children.append(int(stat.parent.name))
    return children


def wait_for(condition, timeout: float, what: str, *, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = f"\n{log.read_text()[-3000:]}" if log and log.exists() else ""
            pytest.fail(f"timed out waiting for {what}{tail}")
        time.sleep(0.1)


def other_session():
    """A second database session to the test database, as another process would have."""
    current = connections[DEFAULT_DB_ALIAS]
    return type(current)(dict(current.settings_dict), DEFAULT_DB_ALIAS)


@contextmanager
def another_worker_syncing(connection: SyncConnection):
    """What the engine sees while another live worker syncs ``connection``: a running SyncRun,
    and on PostgreSQL the run's advisory lock held by another session."""
    run = SyncRun.objects.create(connection=connection)
    other = None
    if db_connection.vendor == "postgresql":
        other = other_session()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK_NAMESPACE, connection.pk % 2**31])
    try:
        yield run
    finally:
        if other is not None:
            other.close()  # the "worker" goes away: its lock with it, once the server has ended the session
            with db_connection.cursor() as cursor:
                wait_for(lambda: not _advisory_lock_held(cursor, connection.pk), 5, "the other session's lock to go")


def _advisory_lock_held(cursor, connection_id: int) -> bool:
    # Two-int advisory locks show as classid/objid, with objsubid 2.
    cursor.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s AND objsubid = 2",
        [RUN_LOCK_NAMESPACE, connection_id % 2**31],
    )
    return cursor.fetchone()[0] > 0
