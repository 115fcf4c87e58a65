"""The deployment files: the container's entrypoint runs each role as documented, and a backup
restores into an empty database with every row (PostgreSQL)."""

import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from portal.testing import database_url, make_offer, require_postgres

BASE_DIR = Path(__file__).resolve().parents[2]
STUBS = ["python", "gunicorn", "celery"]


@pytest.fixture
def stubbed_path(tmp_path):
    """python, gunicorn and celery replaced by scripts that print how they were called."""
    for name in STUBS:
        stub = tmp_path / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*"\n')
        stub.chmod(0o755)
    return f"{tmp_path}:{os.environ['PATH']}"


def entrypoint(path: str, *args: str, **env: str) -> list[str]:
    result = subprocess.run(
        ["deploy/entrypoint.sh", *args],
        cwd=BASE_DIR,
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.splitlines()


def test_web_migrates_then_serves_with_gunicorn(stubbed_path):
    lines = entrypoint(stubbed_path, "web", PORT="9000")
    assert lines[0] == "python manage.py migrate --noinput"
    assert lines[1].startswith("gunicorn portal.wsgi --bind 0.0.0.0:9000 --workers 4")
    assert entrypoint(stubbed_path, "web", MIGRATE_ON_START="false")[0].startswith("gunicorn")


def test_worker_and_beat(stubbed_path):
    assert entrypoint(stubbed_path, "worker") == [
        "celery -A portal worker --queues default,sync --concurrency 2 --loglevel INFO"
    ]
    assert entrypoint(stubbed_path, "worker", WORKER_QUEUES="sync")[0].startswith(
        "celery -A portal worker --queues sync"
    )
    assert entrypoint(stubbed_path, "beat")[0].startswith("celery -A portal beat")


def test_anything_else_runs_as_given(stubbed_path):
    assert entrypoint(stubbed_path, "python", "manage.py", "createsuperuser") == ["python manage.py createsuperuser"]


def test_the_image_and_compose_use_the_entrypoint_roles():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    compose = (BASE_DIR / "compose.yaml").read_text()
    assert 'ENTRYPOINT ["deploy/entrypoint.sh"]' in dockerfile
    assert "pip install --require-hashes -r requirements/runtime.txt" in dockerfile
    for role in ["web", "worker", "beat"]:
        assert f'command: ["{role}"]' in compose
    for setting in ["DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"]:
        assert f"{setting}: " in compose


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_every_row_into_an_empty_database(acme, acme_fra, tmp_path):
    require_postgres()
    make_offer(acme, acme_fra)
    source = database_url()
    scratch = connection.settings_dict["NAME"] + "_restore"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        cursor.execute(f'CREATE DATABASE "{scratch}"')
    try:
        dump = tmp_path / "market.dump"
        run = {"cwd": BASE_DIR, "check": True, "capture_output": True, "timeout": 120}
        subprocess.run(["deploy/backup.sh", str(dump)], env={**os.environ, "DATABASE_URL": source}, **run)
        target = source.rsplit("/", 1)[0] + f"/{scratch}"
        subprocess.run(["deploy/restore.sh", str(dump)], env={**os.environ, "DATABASE_URL": target}, **run)
        count = "SELECT (SELECT count(*) FROM marketplace_offer), (SELECT count(*) FROM providers_provider)"
        restored = subprocess.run(["psql", target, "-Atc", count], **run).stdout.decode().strip()
        with connection.cursor() as cursor:
            cursor.execute(count)
            assert restored == "|".join(str(n) for n in cursor.fetchone()) != "0|0"
        # Restoring again over the restored database works too (objects are replaced).
        subprocess.run(["deploy/restore.sh", str(dump)], env={**os.environ, "DATABASE_URL": target}, **run)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
