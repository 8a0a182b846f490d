"""Secrets from `*_FILE` variables (Docker/Kubernetes/systemd secrets) and retired keys for rotations."""

import base64
import secrets
import subprocess
import sys

import pytest

from gateway.testing.processes import ROOT, gateway_env

# A child process loads the settings from the environment given it; nothing uses the run's database or cache.
pytestmark = [pytest.mark.processes, pytest.mark.standalone]

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
SK_FROM_FILE = "s3cret-from-file-long-enough-to-pass-the-start-up-check"  # >= 50 characters

SHOW = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'gateway.settings'; django.setup(); "
    "from django.conf import settings as s; "
    "print(repr((s.SECRET_KEY, s.KEY_ENCRYPTION_KEY, s.KEY_DIGEST_SECRET, s.LLM_API_KEY, "
    "s.DATABASES['default']['NAME'], s.REDIS_URL, s.KEY_ENCRYPTION_KEYS_OLD, s.KEY_DIGEST_SECRETS_OLD, "
    "s.SECRET_KEY_FALLBACKS)))"
)


def load(**env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=gateway_env(**env), capture_output=True, text=True)


def loaded(**env: str | None) -> tuple:
    result = load(**env)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr() of plain values


def secret_file(tmp_path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_each_secret_can_come_from_a_file_without_its_trailing_newline(tmp_path):
    values = loaded(
        SECRET_KEY=None, SECRET_KEY_FILE=secret_file(tmp_path, "sk", SK_FROM_FILE + "\n"),
        KEY_ENCRYPTION_KEY=None, KEY_ENCRYPTION_KEY_FILE=secret_file(tmp_path, "kek", KEY_A + "\n"),
        KEY_DIGEST_SECRET=None, KEY_DIGEST_SECRET_FILE=secret_file(tmp_path, "kds", KEY_B),
        LLM_API_KEY=None, LLM_API_KEY_FILE=secret_file(tmp_path, "llm", "sk-upstream\r\n"),
        DATABASE_URL=None, DATABASE_URL_FILE=secret_file(tmp_path, "db", f"sqlite:///{tmp_path}/file.sqlite3\n"),
        REDIS_URL=None, REDIS_URL_FILE=secret_file(tmp_path, "redis", "redis://:pw@127.0.0.1:6390/2\n"),
    )
    assert values[:6] == (
        SK_FROM_FILE, b"a" * 32, b"b" * 32, "sk-upstream", f"{tmp_path}/file.sqlite3", "redis://:pw@127.0.0.1:6390/2"
    )


def test_setting_both_a_variable_and_its_file_is_an_error(tmp_path):
    result = load(SECRET_KEY="x" * 50, SECRET_KEY_FILE=secret_file(tmp_path, "sk", "y" * 50))
    assert result.returncode != 0
    assert "Both SECRET_KEY and SECRET_KEY_FILE are set: set only one of them." in result.stderr


def test_an_unreadable_secret_file_is_an_error_naming_the_variable(tmp_path):
    result = load(KEY_DIGEST_SECRET=None, KEY_DIGEST_SECRET_FILE=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "KEY_DIGEST_SECRET_FILE: cannot read" in result.stderr


def test_an_empty_secret_file_counts_as_unset(tmp_path):
    result = load(SECRET_KEY=None, SECRET_KEY_FILE=secret_file(tmp_path, "sk", "\n"))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_secret_file_s_content_never_reaches_the_error_message(tmp_path):
    result = load(KEY_ENCRYPTION_KEY=None, KEY_ENCRYPTION_KEY_FILE=secret_file(tmp_path, "kek", "not-base64-but-secret"))
    assert result.returncode != 0
    assert "KEY_ENCRYPTION_KEY must be the base64 encoding of exactly 32 bytes" in result.stderr
    assert "not-base64-but-secret" not in result.stderr


def test_retired_keys_are_a_comma_separated_list(tmp_path):
    values = loaded(
        KEY_ENCRYPTION_KEY_OLD=f"{KEY_A}, {KEY_B}",
        KEY_DIGEST_SECRET_OLD_FILE=secret_file(tmp_path, "old", KEY_B + "\n"),
        SECRET_KEY_FALLBACKS="old-secret-1,old-secret-2",
    )
    assert values[6:] == ([b"a" * 32, b"b" * 32], [b"b" * 32], ["old-secret-1", "old-secret-2"])
    assert loaded()[6:] == ([], [], [])


@pytest.mark.parametrize("name", ["KEY_ENCRYPTION_KEY_OLD", "KEY_DIGEST_SECRET_OLD"])
def test_a_retired_key_must_be_32_bytes_too(name):
    result = load(**{name: f"{KEY_A},c2hvcnQ="})
    assert result.returncode != 0
    assert f"{name} must be the base64 encoding of exactly 32 bytes" in result.stderr
