"""Production settings: `check --deploy` is clean when configured, and refuses unsafe config."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DEMO_ENABLED", "SYNC_ALLOW_PRIVATE_ADDRESSES"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "market.example.com",
    "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
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
