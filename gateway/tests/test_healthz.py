"""`/healthz`: database and cache checked, no auth, nothing secret, plain HTTP allowed, 503 naming what fails."""

import time

import pytest

from gateway.testing import loopback
from gateway.testing.processes import GatewayProcess, free_port, gateway_env, sqlite_database


def test_it_reports_ok_without_any_key(api):
    r = api.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "database": "ok", "cache": "ok"})
    assert r.headers["Cache-Control"] == "no-store"
    assert "set-cookie" not in r.headers


def test_it_answers_head_and_refuses_other_methods(api):
    assert api.head("/healthz").status_code == 200
    assert api.post("/healthz").status_code == 405


def cache_keys() -> list[str]:
    from django.conf import settings
    from django.core.cache import caches

    backend = caches["default"]
    if settings.REDIS_URL:
        import redis

        prefix = settings.CACHES["default"]["KEY_PREFIX"]
        return [k.decode() for k in redis.Redis.from_url(settings.REDIS_URL).scan_iter(match=f"{prefix}:*")]
    return list(backend._cache)  # the in-process cache's own dict, shared by every thread


def test_it_leaves_no_keys_behind_in_the_cache(api):
    for _ in range(3):
        assert api.get("/healthz").status_code == 200
    assert [k for k in cache_keys() if "healthz" in k] == []


def _serve(tmp_path, **env) -> GatewayProcess:
    return GatewayProcess(gateway_env(REDIS_URL="", **env), log_path=tmp_path / "gateway.log").start()


@pytest.fixture
def https_only_gateway(tmp_path):
    server = _serve(tmp_path, DATABASE_URL=sqlite_database(tmp_path), SECURE_SSL_REDIRECT="True")
    yield server
    server.stop()


@pytest.mark.processes
@pytest.mark.standalone
def test_load_balancers_can_probe_it_over_plain_http(https_only_gateway):
    assert loopback.get(https_only_gateway.url + "/healthz").status_code == 200
    redirected = loopback.get(https_only_gateway.url + "/api/history")
    assert redirected.status_code == 301 and redirected.headers["location"].startswith("https://")


@pytest.fixture
def gateway_without_database(tmp_path):
    missing = tmp_path / "no-such-directory" / "db.sqlite3"
    server = _serve(tmp_path, DATABASE_URL=f"sqlite:///{missing}")
    yield server
    server.stop()


@pytest.mark.processes
@pytest.mark.standalone
def test_it_names_the_database_when_the_database_fails(gateway_without_database):
    r = loopback.get(gateway_without_database.url + "/healthz")
    assert (r.status_code, r.json()) == (503, {"status": "error", "database": "error", "cache": "ok"})
    assert "no-such-directory" not in r.text  # the cause is logged, not shown


@pytest.fixture
def gateway_with_unreachable_postgres(tmp_path):
    # Nothing listens on that port: the pool keeps retrying in the background.
    server = _serve(tmp_path, DATABASE_URL=f"postgres://gw:secret-pw@127.0.0.1:{free_port()}/gw", HEALTHZ_TIMEOUT="1")
    yield server
    server.stop()


@pytest.mark.processes
@pytest.mark.standalone
def test_an_unreachable_postgres_fails_it_within_its_deadline(gateway_with_unreachable_postgres):
    started = time.monotonic()
    r = loopback.get(gateway_with_unreachable_postgres.url + "/healthz", timeout=10)
    assert time.monotonic() - started < 3
    assert (r.status_code, r.json()) == (503, {"status": "error", "database": "error", "cache": "ok"})
    assert "secret-pw" not in r.text and "secret-pw" not in gateway_with_unreachable_postgres.log
