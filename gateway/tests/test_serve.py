"""The production command serves the contract: uvicorn in its own process, real curl, the contract's examples."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.testing.processes import sqlite_database

pytestmark = [pytest.mark.processes, pytest.mark.standalone]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A fresh, migrated SQLite database, a channel made by the command, and `uvicorn gateway.asgi:application`:
    one for the module, as a reader of the contract would start it once and try each example."""
    database = sqlite_database(tmp_path_factory.mktemp("served"))
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, "manage.py"]
    created = subprocess.run(
        [*manage, "create_channel", "--owner", "cli@example.com", "--name", "CLI"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(base + "/api/history", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(server.stdout.read())
            time.sleep(0.1)
    yield base, key
    server.terminate()
    log = server.communicate(timeout=10)[0]
    assert key not in log  # the key never reaches the server's log


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_contracts_curl_example_works_unchanged(served):
    base, key = served
    result = subprocess.run(
        ["curl", "-s", "-X", "POST", f"{base}/api/chat",
         "-H", "Content-Type: application/json",
         "-H", f"X-API-Key: {key}",
         "-d", '{"message": "Hello! What can you help me with?", "session_id": "user-session-abc123"}'],
        capture_output=True, text=True, check=True,
    )
    body = json.loads(result.stdout)
    assert body["session_id"] == "user-session-abc123"
    assert body["reply"].startswith("[Demo reply")  # no LLM_API_KEY: the labelled offline demo answers


def test_the_contracts_python_example_works_unchanged(served):
    base, key = served
    r = httpx.post(f"{base}/api/chat",
                   headers={"Content-Type": "application/json", "X-API-Key": key},
                   json={"message": "Hello!", "session_id": "user-session-abc123"})
    assert r.status_code == 200
    assert "Hello!" in r.json()["reply"]
    h = httpx.get(f"{base}/api/history", params={"session_id": "user-session-abc123"}, headers={"X-API-Key": key})
    # The module's server is shared: the curl example may have spoken in this session first.
    assert [(m["role"], m["content"]) for m in h.json()["messages"]][-2:] == [
        ("user", "Hello!"), ("assistant", r.json()["reply"])
    ]
