"""A real PostgreSQL crash-restart between a chat's hold and its store: the books stay exact.

The hold commits with synchronous_commit off (channels_app/services.py CREDIT_HOLD_TOKEN). A server of the
test's own (initdb in a temporary directory, a Unix socket, its WAL writer slowed to 10 s so the hold's commit is
certainly not flushed yet) gets a copy of the test database; the store's statements run on it as the gateway
sends them; `pg_ctl stop -m immediate` is the crash. A lost hold must not be stored nor given back; a hold whose
chat was stored before the crash is durable with it.
"""

import glob
import os
import shutil
import subprocess
import tempfile

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.providers.provider import Completion
from channels_app.services import CREDIT_RELEASE_TOKEN_SQL
from conversations.engine.store import Exchange
from conversations.engine.store.postgresql import HOLD_AND_HISTORY, store_statement

pytestmark = [pytest.mark.processes, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class PrivateServer:
    def __init__(self, bin_dir: str):
        self.bin = bin_dir
        self.dir = tempfile.mkdtemp(prefix="holdcrash")  # short: a Unix socket's path has a length limit
        self.data = os.path.join(self.dir, "data")
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self.port = 54000 + os.getpid() % 1000

    def run(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_postgres, os.path.join(self.bin, program), *args], check=True,
                              capture_output=True, **kwargs)

    def init(self) -> None:
        self.run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses='' -c wal_writer_delay=10000"
        self.run("pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.dir, "log"), "-w", "start")

    def crash(self) -> None:
        self.run("pg_ctl", "-D", self.data, "stop", "-m", "immediate")  # no shutdown checkpoint, no WAL flush

    def stop(self) -> None:
        subprocess.run([*self.as_postgres, os.path.join(self.bin, "pg_ctl"), "-D", self.data, "stop", "-m", "immediate"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self):
        import psycopg

        return psycopg.connect(host=self.dir, port=self.port, user="postgres", dbname="postgres", autocommit=True)


@pytest.fixture
def server(channel):
    if not PG_BIN or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's server programs (initdb, pg_ctl) and DATABASE_URL on PostgreSQL")
    private = PrivateServer(PG_BIN[-1])
    try:
        private.init()
        private.start()
        # The test database, channel included, copied as it is: the schema the migrations made.
        settings = connection.settings_dict
        dump = subprocess.run(
            [os.path.join(PG_BIN[-1], "pg_dump"), "--no-owner", "-h", settings["HOST"] or "127.0.0.1",
             "-p", str(settings["PORT"] or 5432), "-U", settings["USER"], settings["NAME"]],
            check=True, capture_output=True, env={**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""},
        ).stdout
        subprocess.run([os.path.join(PG_BIN[-1], "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", private.dir,
                        "-p", str(private.port), "-U", "postgres", "postgres"], input=dump, check=True, capture_output=True)
        with private.connect() as conn:
            conn.execute("CHECKPOINT")  # the copy is on disk before any crash
        yield private
    finally:
        private.stop()


def hold(conn, channel) -> int:
    params = {"channel": channel.pk, "key": None, "capped": False, "source": "api", "session": "s",
              "now": timezone.now(), "limit": 20}
    held, _, _, token, setting, *_ = conn.execute(HOLD_AND_HISTORY, params).fetchone()
    assert (held, setting) == (1, "off")
    return token


def store(conn, channel, token) -> bool:
    now = timezone.now()
    x = Exchange(channel_id=channel.pk, source="api", session_id="s", message="q", received_at=now,
                 completion=Completion("a", "m", 3, 4, 100), replied_at=now, hold_token=token)
    return bool(conn.execute(*store_statement(x)).fetchall())


def books(server, channel) -> tuple[int, int, int]:
    with server.connect() as conn:
        return conn.execute(
            "SELECT (SELECT credits FROM channels_app_channel WHERE id = %s), "
            "(SELECT count(*) FROM conversations_message), (SELECT count(*) FROM channels_app_credithold)",
            [channel.pk],
        ).fetchone()


def test_a_hold_lost_in_a_crash_restart_is_neither_stored_nor_given_back(server, channel):
    assert books(server, channel) == (100, 0, 0)
    with server.connect() as conn:
        token = hold(conn, channel)
    server.crash()
    server.start()
    assert books(server, channel) == (100, 0, 0)  # the crash lost the hold and its token together
    with server.connect() as conn:  # the chat's upstream answered meanwhile; a new connection stores it
        assert store(conn, channel, token) is False
        conn.execute(CREDIT_RELEASE_TOKEN_SQL, {"token": token})  # the failed chat's release
    assert books(server, channel) == (100, 0, 0)  # nothing stored, nothing spent, nothing given back


def test_a_chat_stored_before_a_crash_keeps_its_hold(server, channel):
    with server.connect() as conn:
        token = hold(conn, channel)
        assert store(conn, channel, token) is True  # its synchronous commit flushes the hold's WAL too
    server.crash()
    server.start()
    assert books(server, channel) == (99, 2, 0)
