"""`manage.py check --deploy` passes, warnings included, with the production settings docs/operations.md gives."""

import secrets
import subprocess
import sys

import pytest

from gateway.testing.processes import ROOT, gateway_env

pytestmark = [pytest.mark.processes, pytest.mark.standalone]


def production_env(**overrides: str | None) -> dict[str, str]:
    return gateway_env(
        **{
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "gateway.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://gateway.example.com",
            "TRUST_X_FORWARDED_PROTO": "True",
            # The suite runs on plain HTTP; production leaves these at their default (on).
            "SECURE_SSL_REDIRECT": None,
            "SESSION_COOKIE_SECURE": None,
            "CSRF_COOKIE_SECURE": None,
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
            "SECURE_HSTS_PRELOAD": "True",
            **overrides,
        }
    )


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def test_it_passes_with_production_settings():
    result = check_deploy(production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_passes_with_secrets_from_files(tmp_path):
    files = {}
    for name, value in [("SECRET_KEY", secrets.token_urlsafe(50)),
                        ("KEY_ENCRYPTION_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
                        ("KEY_DIGEST_SECRET", "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")]:
        path = tmp_path / name.lower()
        path.write_text(value + "\n")
        files[f"{name}_FILE"] = str(path)
    env = production_env(SECRET_KEY=None, KEY_ENCRYPTION_KEY=None, KEY_DIGEST_SECRET=None, **files)
    result = check_deploy(env)
    assert result.returncode == 0, result.stderr


def test_it_would_catch_a_missing_hardening_setting():
    # The check is a real gate: the suite's own plain-HTTP settings would not pass it.
    result = check_deploy(production_env(SECURE_HSTS_SECONDS=None, SESSION_COOKIE_SECURE="False"))
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W012" in result.stderr
