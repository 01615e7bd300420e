"""Settings: production refuses unsafe values; deploy checks pass; migrations are complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "q8Zr1xV0pL3nW5tY7uB9cD2fG4hJ6kM8nP0rS2tV4wX6yZ8aB1cD3eF5gH7j"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_debug() -> None:
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings_production", SECRET_KEY=GOOD_SECRET, DEBUG="1")
    assert result.returncode != 0 and "DEBUG must be off" in result.stderr


def test_production_refuses_insecure_secret() -> None:
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings_production", DEBUG="0")
    assert result.returncode != 0 and "SECRET_KEY is missing or insecure" in result.stderr
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings_production", DEBUG="0", SECRET_KEY="short")
    assert result.returncode != 0 and "SECRET_KEY is missing or insecure" in result.stderr


def test_check_deploy_passes_with_production_settings() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings_production",
        SECRET_KEY=GOOD_SECRET,
        DEBUG="0",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_missing_migrations() -> None:
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_s3_storage_is_chosen_when_a_bucket_is_set() -> None:
    code = (
        "from django.conf import settings; import django; django.setup();"
        "from django.core.files.storage import default_storage as s;"
        "b = s.bucket_name; print(type(s._wrapped).__module__, b, s.querystring_auth)"
    )
    env = {k: v for k, v in os.environ.items()}
    env.update(AWS_STORAGE_BUCKET_NAME="recs", DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["storages.backends.s3", "recs", "True"], result.stderr
