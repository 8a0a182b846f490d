"""Real processes for tests that need more than the in-process server.

- GatewayProcess: `uvicorn gateway.asgi:application` in its own process, as in production.
- RedisServer: a private redis-server on a free port, which a test may kill and restart.
- PostgresDatabase: a dedicated, migrated PostgreSQL database that several gateways share.
- sqlite_database / create_channels: a migrated SQLite file and channels made in it.

Every one of them is stopped (or dropped) by its owner's teardown; nothing here
ever touches the machine's shared Redis or PostgreSQL server beyond its own database.
"""

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import httpx

from gateway.testing import loopback

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_env(**overrides: str | None) -> dict[str, str]:
    """The test process's environment (its throwaway secrets included) for a child on the real settings.

    A None value removes the variable.
    """
    # Not the test settings module, nor the browser tests' async-safety switch: a child runs as production would.
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env["ENV_FILE"] = ""
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(env: dict[str, str], *args: str, input: str | None = None) -> str:
    """Run `manage.py` with `env`; its stdout. A failure raises with the command's output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, input=input, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


_CREATE_CHANNELS = """
import json, sys
from channels_app.services import channel_create, owner_get_or_create
from gateway.testing import loopback
out = []
for spec in json.load(sys.stdin):
    owner = owner_get_or_create(email=spec.pop("owner", "owner@example.com"))
    channel, issued = channel_create(owner=owner, **spec)
    out.append({"key": issued.plaintext, "public_id": str(channel.public_id), "id": channel.pk})
print(json.dumps(out))
"""


def create_channels(env: dict[str, str], *specs: dict) -> list[dict]:
    """Create channels (keyword arguments of channel_create) in `env`'s database, in one process.

    Returns [{"key", "public_id", "id"}] in order.
    """
    specs = [{"name": f"Channel {i}", **spec} for i, spec in enumerate(specs)]
    stdout = manage(env, "shell", "-c", _CREATE_CHANNELS, input=json.dumps(specs))
    return json.loads(stdout.strip().splitlines()[-1])


# A directory every process of one test run shares (pytest-xdist's workers inherit it from the process that started
# them); the root conftest makes it and removes it.
RUN_DIRECTORY = "GATEWAY_TEST_RUN_DIR"

_sqlite_template: Path | None = None


def _migrated_sqlite_template() -> Path:
    """A migrated SQLite file: made by the first test process of the run that needs one, under a lock, and used by
    every other (`manage.py migrate` is 6-10 s a process)."""
    shared = os.environ.get(RUN_DIRECTORY)
    if shared is None:  # a test process run some other way: a template of its own
        shared = tempfile.mkdtemp(prefix="gw-sqlite-template-")
        atexit.register(shutil.rmtree, shared, True)
    template = Path(shared) / "sqlite-template.sqlite3"
    with open(Path(shared) / "sqlite-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait while one migrates; released when the file closes
        if not template.exists():
            partial = Path(shared) / "sqlite-template-partial.sqlite3"  # renamed once whole: never a half-made one
            partial.unlink(missing_ok=True)
            manage(gateway_env(DATABASE_URL=f"sqlite:///{partial}", REDIS_URL=""), "migrate", "--noinput", "-v0")
            os.replace(partial, template)
    return template


def sqlite_database(directory: Path) -> str:
    """A DATABASE_URL for a fresh, migrated SQLite file in `directory` (migrated once per test run, then copied)."""
    global _sqlite_template
    if _sqlite_template is None or not _sqlite_template.exists():
        _sqlite_template = _migrated_sqlite_template()
    target = Path(directory) / "db.sqlite3"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite:///{target}"


class GatewayProcess:
    """`uvicorn gateway.asgi:application` on 127.0.0.1 in a process of its own."""

    def __init__(self, env: dict[str, str], *, log_path: Path, port: int | None = None, workers: int = 1):
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "GatewayProcess":
        """Launch and wait until it answers."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> "GatewayProcess":
        """Launch without waiting (start several, then wait_ready each)."""
        command = [sys.executable, "-m", "uvicorn", "gateway.asgi:application", "--host", "127.0.0.1",
                   "--port", str(self.port), "--no-access-log", "--log-level", "warning"]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 30) -> "GatewayProcess":
        deadline = time.monotonic() + timeout
        while True:
            try:
                loopback.get(self.url + "/healthz", timeout=5)  # any answer means it serves
                return self
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the gateway did not start:\n{self.log}")
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class RedisServer:
    """A private redis-server (no persistence) on its own port, for tests that take Redis away."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self, timeout: float = 10) -> "RedisServer":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill it outright, as a crash would."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()
        self.process.wait(timeout=10)


_postgres_templates: dict[tuple, str] = {}  # (host, port, user) -> this process's migrated template database


class PostgresDatabase:
    """A dedicated database on the test's PostgreSQL server: created, migrated, and dropped by its owner."""

    def __init__(self, server: dict, name: str):
        self.server = server  # HOST, PORT, USER, PASSWORD as in Django's DATABASES
        self.name = name

    @classmethod
    def beside(cls, settings_dict: dict, name: str) -> "PostgresDatabase":
        return cls({k: settings_dict.get(k) or "" for k in ("HOST", "PORT", "USER", "PASSWORD")}, name)

    def _connect(self, dbname: str):
        import psycopg

        s = self.server
        return psycopg.connect(
            host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"] or None,
            dbname=dbname, autocommit=True,
        )

    @property
    def url(self) -> str:
        s = self.server
        auth = quote(s["USER"], safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else "")
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{self.name}"

    def create(self, env: dict[str, str]) -> "PostgresDatabase":
        """Drop and re-create it, migrated: copied from a template migrated once per test process and server
        (`manage.py migrate` is 6-10 s; CREATE DATABASE … TEMPLATE a fraction of one). No migration reads the
        environment beyond AUTH_USER_MODEL, so one template serves every test's env."""
        self.drop()
        template = self._template(env)
        for attempt in range(50):
            try:
                with self._connect("postgres") as conn:
                    conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template}"')
                return self
            except Exception as exc:  # autovacuum may be visiting the template: it leaves within moments
                if "being accessed by other users" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.1)
        return self

    def _template(self, env: dict[str, str]) -> str:
        server = (self.server["HOST"], self.server["PORT"], self.server["USER"])
        if server not in _postgres_templates:
            template = PostgresDatabase(self.server, f"gw_template_{os.getpid()}")
            template.drop()
            with self._connect("postgres") as conn:
                conn.execute(f'CREATE DATABASE "{template.name}"')
            manage({**env, "DATABASE_URL": template.url}, "migrate", "--noinput", "-v0")
            atexit.register(template.drop)
            _postgres_templates[server] = template.name
        return _postgres_templates[server]

    def drop(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._connect(self.name) as conn:
            return conn.execute(sql, params).fetchall()

    def terminate_backends(self) -> int:
        """Kill every other connection to this database, as a server restart would; how many."""
        rows = self.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return sum(1 for (killed,) in rows if killed)


@contextlib.contextmanager
def gateway_cluster(name: str, tmp: Path, *, database_settings: dict, redis_url: str, setup, count: int = 2, **env):
    """`count` gateway processes on one fresh, migrated PostgreSQL database and the test's Redis.

    `setup(env)` runs once the database exists (making channels, keys…) and its result is the
    cluster's `channels`. Yields SimpleNamespace(gateways, urls, database, channels, env). On the way
    out the gateways stop, the database is dropped and this cluster's Redis keys are deleted.
    """
    import redis

    prefix = f"gw{name}{os.getpid()}"
    database = PostgresDatabase.beside(database_settings, f"gw_{name}_{os.getpid()}")
    env = gateway_env(REDIS_URL=redis_url, CACHE_KEY_PREFIX=prefix, **env)
    gateways = []
    try:
        database.create(env)
        env["DATABASE_URL"] = database.url
        channels = setup(env)
        gateways = [GatewayProcess(env, log_path=tmp / f"gateway-{i}.log").launch() for i in range(count)]
        for gateway in gateways:
            gateway.wait_ready()
        yield SimpleNamespace(gateways=gateways, urls=[g.url for g in gateways], database=database, channels=channels, env=env)
    finally:
        for gateway in gateways:
            gateway.stop()
        database.drop()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
