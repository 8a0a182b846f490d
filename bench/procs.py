"""Processes the bench starts and stops: the mock upstream, the gateway under uvicorn, wrk, py-spy.

Every process is started in its own session (process group), so stopping it
also stops the workers it forked and nothing else.
"""

import base64
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> int:
    """This process's soft fd limit raised to the hard one (every connection is one fd); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Procs:
    """The processes this run started; stop() ends them, newest first."""

    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def start(self, args: list[str], *, env: dict, log: Path) -> subprocess.Popen:
        out = open(log, "ab")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=raise_fd_limit,
        )
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 15) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            except ProcessLookupError:
                pass
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc)


def bench_env(*, database_url: str, redis_url: str, mock_url: str, workdir: Path, pool_max: int,
              llm_max_connections: int, metrics_token: str) -> dict:
    """A production-like environment that ignores any .env and never reuses a developer's secrets."""

    def b64key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    prom_dir = workdir / "prometheus"
    prom_dir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",)}
    env.update(
        ENV_FILE="",
        DJANGO_SETTINGS_MODULE="gateway.settings",
        PYTHONPATH=str(ROOT),
        SECRET_KEY=secrets.token_urlsafe(50),
        KEY_ENCRYPTION_KEY=b64key(),
        KEY_DIGEST_SECRET=b64key(),
        DEBUG="False",
        SECURE_SSL_REDIRECT="False",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        LLM_BASE_URL=f"{mock_url}/v1",
        LLM_API_KEY="bench-upstream-key",
        LLM_MAX_CONNECTIONS=str(llm_max_connections),
        DATABASE_URL=database_url,
        DATABASE_POOL_MAX=str(pool_max),
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"bench{os.getpid()}x{int(time.time())}",
        METRICS_TOKEN=metrics_token,
        PROMETHEUS_MULTIPROC_DIR=str(prom_dir),
    )
    return env


def recreate_database(database_url: str) -> None:
    """A fresh, empty bench database for every run (PostgreSQL), or a removed SQLite file."""
    parts = urlsplit(database_url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"Refusing odd database name {name!r}")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def forget_cache_keys(redis_url: str, prefix: str) -> None:
    if not redis_url:
        return
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)


def http(method: str, url: str, *, headers: dict | None = None, timeout: float = 5) -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_until(check, *, what: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before it was ready")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} was not ready after {timeout:.0f}s")


def children(pid: int) -> list[int]:
    """All descendants of pid (uvicorn's master forks one process per worker)."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    found.append(int(child))
                    found += children(int(child))
    except FileNotFoundError:
        pass
    return found


def workers_of(pid: int) -> list[int]:
    """uvicorn's worker processes under its supervisor (not multiprocessing's resource tracker)."""
    found = []
    for child in children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"resource_tracker" not in f.read():
                    found.append(child)
        except FileNotFoundError:
            pass
    return found


def memory_kib(pid: int) -> dict:
    """Current (VmRSS) and peak (VmHWM) resident memory of one process, in KiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line[:5]] = int(line.split()[1])
    except FileNotFoundError:
        pass
    return out


def wrk(url: str, *, connections: int, seconds: float, timeout: float, args: list[str], log: Path) -> dict:
    """Run wrk once (one thread: it is cheap, and the machine has two cores) and parse its BENCH_JSON line."""
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", f"--timeout={round(timeout)}s",
        "-s", str(ROOT / "bench" / "wrk" / "chat.lua"), url, "--", *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + timeout + 30, preexec_fn=raise_fd_limit)
    with open(log, "a") as f:
        f.write(" ".join(cmd) + "\n" + proc.stdout + proc.stderr + "\n")
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line[len("BENCH_JSON "):])
            result["connections"] = connections
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            e = result["errors"]
            attempted = result["requests"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
            result["ok"] = result["statuses"].get("200", 0)
            result["success_rate"] = result["ok"] / attempted if attempted else 0.0
            result["all_ok"] = attempted > 0 and result["ok"] == attempted
            return result
    raise SystemExit(f"wrk gave no result (exit {proc.returncode}): {proc.stderr.strip()[:500]}")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (gone ones count 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total
