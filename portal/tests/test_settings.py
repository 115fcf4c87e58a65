"""Production settings: `check --deploy` is clean when configured; an unsafe or incomplete
production configuration refuses to start (web, worker, beat); defaults are safe elsewhere too."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parents[2]
# What the test settings (portal/settings_test.py) and CI put in the environment.
OPT_INS = {"DEBUG", "DEMO_ENABLED", "SYNC_ALLOW_PRIVATE_ADDRESSES", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV"}


def run(command: list[str], timeout: int = 120, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in OPT_INS and not k.startswith(("DATABASE_", "CELERY_"))}
    return subprocess.run(
        command, cwd=BASE_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=timeout, check=False
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], **env)


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "market.example.com",
    "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/11",
    "CACHE_URL": "redis://127.0.0.1:6379/11",
}


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})

    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_check_deploy_refuses_private_sync_addresses_and_missing_credential_keys():
    env = {**PRODUCTION, "SYNC_ALLOW_PRIVATE_ADDRESSES": "true", "CREDENTIALS_KEYS": ""}
    result = manage("check", "--deploy", **env)

    assert result.returncode != 0
    assert "portal.E001" in result.stderr and "portal.E002" in result.stderr


UNSAFE = [
    ({"SYNC_ALLOW_PRIVATE_ADDRESSES": "true"}, "SYNC_ALLOW_PRIVATE_ADDRESSES must be off"),
    ({"CREDENTIALS_KEYS": ""}, "CREDENTIALS_KEYS must be set"),
    ({"DEMO_ENABLED": "true"}, "DEMO_ENABLED must be off"),
    ({"DEBUG": "true"}, "DEBUG must be off"),
    ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
    ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "DATABASE_URL must be a PostgreSQL"),
    ({"CELERY_BROKER_URL": ""}, "CELERY_BROKER_URL must be a Redis"),
    ({"CACHE_URL": ""}, "CACHE_URL must be a Redis"),
]


@pytest.mark.parametrize(("change", "message"), UNSAFE, ids=[m.split()[0] for _c, m in UNSAFE])
def test_a_production_web_process_refuses_to_start_unsafe_or_incomplete(change, message):
    """gunicorn loads portal.wsgi: the import fails, so no worker boots."""
    env = {k: v for k, v in {**PRODUCTION, **change}.items() if v}
    result = run([sys.executable, "-c", "import portal.wsgi"], **env)

    assert result.returncode != 0
    assert message in result.stderr


def test_a_production_web_process_starts_when_configured():
    result = run([sys.executable, "-c", "import portal.wsgi, portal.asgi"], **PRODUCTION)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_a_production_worker_or_beat_refuses_to_start_unsafe(process, tmp_path):
    env = {**PRODUCTION, "SYNC_ALLOW_PRIVATE_ADDRESSES": "true", "RUN_DIR": str(tmp_path)}
    result = run([sys.executable, "-m", "celery", "-A", "portal", process, "--loglevel=INFO"], timeout=60, **env)

    assert result.returncode != 0
    assert "SYNC_ALLOW_PRIVATE_ADDRESSES must be off" in result.stdout + result.stderr


def test_outside_production_debug_and_private_fetching_are_off_unless_asked_for():
    show = "from django.conf import settings as s; print(s.DEBUG, s.SYNC_ALLOW_PRIVATE_ADDRESSES)"
    assert manage("shell", "-c", show).stdout.split()[-2:] == ["False", "False"]
    asked = manage("shell", "-c", show, DEBUG="true", SYNC_ALLOW_PRIVATE_ADDRESSES="true")
    assert asked.stdout.split()[-2:] == ["True", "True"]


def test_only_the_demo_and_the_tests_opt_in_to_private_addresses():
    demo = run(["make", "-n", "run"]).stdout
    assert "SYNC_ALLOW_PRIVATE_ADDRESSES=true" in demo and "honcho start" in demo
    from django.conf import settings

    assert settings.SYNC_ALLOW_PRIVATE_ADDRESSES  # portal/settings_test.py
