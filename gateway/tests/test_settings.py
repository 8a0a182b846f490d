"""Configuration from the environment: production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ["SECRET_KEY", "KEY_ENCRYPTION_KEY", "KEY_DIGEST_SECRET"]
SWITCHES = ["DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]


def load_settings(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in SECRETS + SWITCHES}
    env.update({"SECRET_KEY": "x" * 50, "KEY_ENCRYPTION_KEY": "A" * 43 + "=", "KEY_DIGEST_SECRET": "B" * 43 + "=", "ENV_FILE": ""})
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None}
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='gateway.settings'; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'])"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("name", SECRETS)
def test_it_refuses_to_start_without_a_secret(name):
    result = load_settings(**{name: None})
    assert result.returncode != 0
    assert f"{name} is not set" in result.stderr


@pytest.mark.parametrize("name", ["KEY_ENCRYPTION_KEY", "KEY_DIGEST_SECRET"])
def test_it_refuses_a_key_that_is_not_32_bytes(name):
    result = load_settings(**{name: "c2hvcnQ="})
    assert result.returncode != 0
    assert f"{name} must be the base64 encoding of exactly 32 bytes" in result.stderr


def test_https_hardening_is_on_by_default_and_switchable():
    assert load_settings().stdout.split()[:4] == ["False", "True", "True", "True"]
    off = load_settings(SECURE_SSL_REDIRECT="False", SESSION_COOKIE_SECURE="False", CSRF_COOKIE_SECURE="False")
    assert off.stdout.split()[:4] == ["False", "False", "False", "False"]


def test_embedded_defaults_need_no_services():
    out = load_settings(DATABASE_URL=None, REDIS_URL=None).stdout.split()
    assert out[4:] == ["django.db.backends.sqlite3", "django.core.cache.backends.locmem.LocMemCache"]


def test_postgres_and_redis_come_from_urls():
    out = load_settings(DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0").stdout.split()
    assert out[4:] == ["django.db.backends.postgresql", "gateway.cache.SharedRedisCache"]
