"""The SQLite database and its -wal/-shm/-journal files are readable by their owner only (0600), as .env is.

A real server process on a fresh SQLite file: migrate, serve, real writes over HTTP (a chat, a
login), then the modes of every file of the database are checked.
"""

import os
import sqlite3
import stat

import pytest

from gateway.testing import loopback
from gateway.testing.processes import GatewayProcess, create_channels, gateway_env, manage, sqlite_database

pytestmark = [pytest.mark.processes, pytest.mark.standalone, pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")]


def _modes(directory) -> dict[str, int]:
    modes = {}
    for path in directory.iterdir():
        if path.name.startswith("db.sqlite3"):
            try:
                modes[path.name] = stat.S_IMODE(path.stat().st_mode)
            except FileNotFoundError:
                # SQLite removes -wal/-journal when its last connection closes (the server's background jobs open
                # and close theirs): a file gone between listing and reading has no mode left to check.
                pass
    return modes


def test_the_database_files_are_owner_only_after_real_writes(tmp_path):
    old_umask = os.umask(0o022)  # the usual umask: files would be 0644
    try:
        env = gateway_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_URL="")
        manage(env, "migrate", "--noinput", "-v0")
        assert _modes(tmp_path) and set(_modes(tmp_path).values()) == {0o600}, _modes(tmp_path)
        (created,) = create_channels(env, {"credits": 5})
        server = GatewayProcess(env, log_path=tmp_path / "gateway.log").start()
        try:
            r = loopback.post(f"{server.url}/api/chat", headers={"X-API-Key": created["key"]},
                              json={"message": "Hello!", "session_id": "s-1"}, timeout=30)
            assert r.status_code == 200
            with loopback.Client(base_url=server.url) as web:  # a login writes a session row
                web.get("/accounts/login/")
                web.post("/accounts/login/", data={"username": "nobody@example.com", "password": "x",
                                                   "csrfmiddlewaretoken": web.cookies["csrftoken"]})
            assert set(_modes(tmp_path).values()) == {0o600}, _modes(tmp_path)
            # While a connection holds the database open, its -wal and -shm exist: owner-only too
            # (SQLite gives them the main file's mode).
            with sqlite3.connect(tmp_path / "db.sqlite3") as reader:
                reader.execute("SELECT count(*) FROM conversations_message").fetchone()
                modes = _modes(tmp_path)
                assert {"db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"} <= set(modes), modes
                assert set(modes.values()) == {0o600}, modes
            reader.close()
        finally:
            server.stop()
        assert set(_modes(tmp_path).values()) == {0o600}, _modes(tmp_path)
    finally:
        os.umask(old_umask)


def test_an_existing_world_readable_database_is_fixed_on_first_connection(tmp_path):
    env = gateway_env(DATABASE_URL=sqlite_database(tmp_path), REDIS_URL="")  # a migrated copy of a database
    for path in tmp_path.iterdir():
        if path.name.startswith("db.sqlite3"):
            path.chmod(0o644)  # as a database made before this change
    manage(env, "check", "--database", "default")
    assert set(_modes(tmp_path).values()) == {0o600}, _modes(tmp_path)
