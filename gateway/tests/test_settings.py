"""Configuration from the environment: production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A child process loads the settings from the environment given it; nothing uses the run's database or cache.
pytestmark = [pytest.mark.processes, pytest.mark.standalone]

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ["SECRET_KEY", "KEY_ENCRYPTION_KEY", "KEY_DIGEST_SECRET"]
STRONG_SECRET_KEY = "a-strong-secret-key-for-these-tests-0123456789-abcdef"
SWITCHES = ["DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]


def load_settings(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in SECRETS + SWITCHES}
    env.update({"SECRET_KEY": STRONG_SECRET_KEY, "KEY_ENCRYPTION_KEY": "A" * 43 + "=", "KEY_DIGEST_SECRET": "B" * 43 + "=", "ENV_FILE": ""})
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
    assert out[4:] == ["django.db.backends.postgresql", "gateway.infra.cache.SharedRedisCache"]


WEAK_SECRET_KEYS = {
    "short": "x",
    "49 characters": "abcdefghij" * 4 + "abcdefghi",
    "4 different characters": "abcd" * 20,
    "Django's placeholder": "django-insecure-" + "q8#w9e0r1t2y3u4i5o6p7a8s9d0f1g2h3j4k5l6z7x8",
}


@pytest.mark.parametrize("value", WEAK_SECRET_KEYS.values(), ids=WEAK_SECRET_KEYS.keys())
def test_it_refuses_a_weak_secret_key_naming_the_variable(value):
    result = load_settings(SECRET_KEY=value)
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr
    assert len(value) < 8 or value not in result.stderr  # the value itself is never echoed


def test_it_refuses_the_same_key_for_encryption_and_digest():
    same = "A" * 43 + "="
    result = load_settings(KEY_ENCRYPTION_KEY=same, KEY_DIGEST_SECRET=same)
    assert result.returncode != 0
    assert "KEY_DIGEST_SECRET must differ from KEY_ENCRYPTION_KEY" in result.stderr


def test_debug_accepts_a_weak_secret_key_and_one_key_for_both():
    same = "A" * 43 + "="
    result = load_settings(DEBUG="True", SECRET_KEY="x", KEY_ENCRYPTION_KEY=same, KEY_DIGEST_SECRET=same)
    assert result.returncode == 0, result.stderr


def test_the_generated_and_the_test_secrets_pass(tmp_path):
    subprocess.run([sys.executable, "scripts/init_env.py", str(tmp_path / ".env")], cwd=ROOT, check=True)
    generated = dict(
        line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    result = load_settings(**{name: generated[name] for name in SECRETS})
    assert result.returncode == 0, result.stderr
    from django.conf import settings

    assert load_settings(SECRET_KEY=settings.SECRET_KEY).returncode == 0


def test_each_test_process_has_cache_keys_of_its_own_whatever_it_inherited():
    """pytest-xdist's workers inherit the starting process's environment, its CACHE_KEY_PREFIX included: a worker
    that kept it would share the other workers' Redis keys (counters, the key cache's generation)."""
    code = ("import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'gateway.settings_test'; django.setup(); "
            "from django.conf import settings; print(os.getpid(), settings.CACHES['default'].get('KEY_PREFIX', ''), "
            "os.environ['CACHE_KEY_PREFIX'])")
    env = {**os.environ, "CACHE_KEY_PREFIX": "gwtest1"}  # as a worker inherits it from the process that started it
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    pid, *prefixes = result.stdout.split()[-3:]
    assert prefixes[-1] == f"gwtest{pid}", result.stdout + result.stderr
