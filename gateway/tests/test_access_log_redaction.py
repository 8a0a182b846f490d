"""No key reaches a log line, in the server setups the README documents.

The real commands are started as subprocesses — `make run`'s uvicorn line, read from the Makefile
(access log on), and the production line of docs/operations.md — and sent requests with keys in
`?key=` (publishable and secret, plain and percent-encoded), in paths, and in `X-API-Key`; then
their whole output is searched for the keys.
"""

import json
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gateway.testing import loopback
from gateway.testing.api import WIDGET_ORIGIN
from gateway.testing.processes import ROOT, free_port, gateway_env, manage, sqlite_database

pytestmark = [pytest.mark.processes, pytest.mark.standalone]

_CHANNEL_WITH_WIDGET = """
import json
from channels_app.services import channel_create, channel_set_allowed_origins, owner_get_or_create, publishable_key_issue
channel, issued = channel_create(owner=owner_get_or_create(email="logs@example.com"), name="Logs", credits=50)
channel_set_allowed_origins(channel=channel, allowed_origins=[%r])
print(json.dumps({"key": issued.plaintext, "pk": publishable_key_issue(channel=channel).key}))
""" % WIDGET_ORIGIN


def make_run_command(port: int) -> list[str]:
    """The uvicorn command of the Makefile's `run` target, exactly, on `port`."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    (line,) = [line.strip() for line in recipe.splitlines() if "bin/uvicorn" in line]
    line = line.replace("$(HOST)", "127.0.0.1").replace("$(PORT)", str(port))
    words = shlex.split(line)
    assert words[0] == "$(VENV)/bin/uvicorn"
    return [sys.executable, "-m", "uvicorn", *words[1:]]


def production_command(port: int) -> list[str]:
    """The uvicorn command of docs/operations.md, with two workers."""
    doc = (ROOT / "docs" / "operations.md").read_text()
    line = re.search(r"^uvicorn gateway\.asgi:application(?:.*\\\n)*.*$", doc, re.M).group(0)
    line = line.replace("\\\n", " ").replace('"$(nproc)"', "2").replace("--port 8000", f"--port {port}")
    words = shlex.split(line)
    return [sys.executable, "-m", *words]


def _serve(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait(base: str, process: subprocess.Popen, log: Path) -> None:
    import time

    deadline = time.monotonic() + 30
    while True:
        try:
            loopback.get(base + "/healthz", timeout=2)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(log.read_text())
            time.sleep(0.1)


def _forms(key: str) -> list[str]:
    body = key[6:]
    return [key, body, body[:20], quote(key), key.encode().hex()]


@pytest.mark.parametrize("setup", ["make run", "production"])
def test_no_key_reaches_the_server_log(tmp_path, setup):
    env = gateway_env(DATABASE_URL=sqlite_database(tmp_path), REDIS_URL="", LLM_API_KEY="", LOG_LEVEL="DEBUG")
    made = json.loads(manage(env, "shell", "-c", _CHANNEL_WITH_WIDGET).strip().splitlines()[-1])
    secret, publishable = made["key"], made["pk"]
    port = free_port()
    command = make_run_command(port) if setup == "make run" else production_command(port)
    log = tmp_path / "server.log"
    server = _serve(command, env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, server, log)
        origin = {"Origin": WIDGET_ORIGIN}
        with loopback.Client(base_url=base, timeout=30) as c:
            assert c.get("/api/widget-config", params={"key": publishable}, headers=origin).status_code == 200
            issued = c.post("/api/widget-session", params={"key": publishable}, headers=origin)
            assert issued.status_code == 200
            visitor = issued.json()["session_id"]
            assert c.post("/api/chat", params={"key": publishable}, headers=origin,
                          json={"message": "hi", "session_id": visitor}).status_code == 200
            assert c.get("/api/history", params={"key": publishable, "session_id": visitor}, headers=origin).status_code == 200
            assert c.post("/api/chat", params={"key": secret}, json={"message": "hi", "session_id": "s"}).status_code == 401
            c.get(f"/api/history?session_id=s&k%65y={quote(secret, safe='')}")
            c.get(f"/api/history?session_id=s&key={quote(publishable, safe='')}x")  # malformed: refused
            c.get(f"/api/history?other={secret}")
            c.get(f"/dashboard/{secret}/")  # a 404 of the web stack: django.request logs its path
            c.get(f"/api/{publishable}")  # a 404 of the API
            assert c.post("/api/chat", headers={"X-API-Key": secret}, json={"message": "hi", "session_id": "s"}).status_code == 200
            c.get("/api/history", params={"session_id": "s"}, headers={"X-API-Key": secret})
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
    text = log.read_text(errors="replace")
    if setup == "make run":
        assert "/api/widget-config?key=[redacted]" in text  # the access log is on, and its lines are there
        assert "/api/history?session_id=s&k%65y=[redacted]" in text
    assert "Not Found: /dashboard/amgai_[redacted]/" in text  # django.request's line is there too
    for key in (secret, publishable):
        for form in _forms(key):
            assert form not in text, f"{form!r} is in the {setup} log"
