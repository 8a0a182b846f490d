"""The integration page's examples, taken from the rendered page and run for real against the gateway.

The page is the reveal response (the real key in every example), as an owner would copy it.
Python runs always; cURL, Node and PHP when their program is installed.
"""

import os
import shutil
import subprocess
import sys
import time

import pytest

from channels_app.services import api_key_revoke
from dashboard.tests.test_dashboard_integration import examples_in
from gateway.testing.api import history

# Programs of their own (the examples, curl, node) are the clients: the gateway listens on a socket.
pytestmark = pytest.mark.live

QUESTION = "Hello! What can you help me with?"
SESSION = "user-session-abc123"  # the examples' session_id


@pytest.fixture
def examples(owner_web, channel_and_key):
    """The page's examples with the real key, by slug."""
    channel, issued = channel_and_key
    url = f"/dashboard/channels/{channel.public_id}/keys/{issued.api_key.public_id}/reveal/"
    r = owner_web.submit(url, {"return_to": "integrate"}, follow_redirects=True)  # post/redirect/get
    assert r.status_code == 200
    found = examples_in(r.text)
    assert all(issued.plaintext in text for text in found.values())
    return found


def _env() -> dict:
    return {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=60, env=_env(), **kwargs)


def _run_timed(args: list[str]) -> tuple[str, list[float], float]:
    """Run a program; its stdout, when each piece of it arrived, and when it exited (seconds from start)."""
    start = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    out, arrivals = b"", []
    while piece := os.read(process.stdout.fileno(), 4096):
        out += piece
        arrivals.append(time.monotonic() - start)
    process.wait(timeout=60)
    ended = time.monotonic() - start
    assert process.returncode == 0, process.stderr.read().decode()
    return out.decode("utf-8"), arrivals, ended


def _assert_stored(api, key, reply):
    messages = history(api, key, session_id=SESSION).json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("user", QUESTION), ("assistant", reply)]


def _assert_streamed(arrivals, ended, token_delay):
    # The first words were printed while the provider was still writing the rest.
    assert len(arrivals) >= 2
    assert ended - arrivals[0] >= 2 * token_delay


def test_the_python_example_prints_the_reply(examples, api, key, llm):
    result = _run([sys.executable, "-c", examples["python"]])
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Echo: {QUESTION}\n"
    _assert_stored(api, key, f"Echo: {QUESTION}")


def test_the_python_streaming_example_prints_the_reply_as_it_arrives(examples, api, key, llm):
    llm.reply = "Tokens arrive one by one, and a\u2028line separator\x85stays inside its line."
    llm.token_delay = 0.15
    out, arrivals, ended = _run_timed([sys.executable, "-c", examples["python-stream"]])
    assert out == llm.reply + "\n"
    _assert_streamed(arrivals, ended, llm.token_delay)
    _assert_stored(api, key, llm.reply)


@pytest.mark.parametrize("slug", ["python", "python-stream"])
def test_the_python_examples_stop_with_the_apis_error(examples, channel_and_key, llm, slug):
    api_key_revoke(api_key=channel_and_key[1].api_key)
    result = _run([sys.executable, "-c", examples[slug]])
    assert result.returncode == 1
    assert result.stderr.strip() == "Invalid API key"


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_the_curl_example_prints_the_json_answer(examples, api, key, llm):
    import json

    result = _run(["sh", "-c", examples["curl"]])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"reply": f"Echo: {QUESTION}", "session_id": SESSION, "sources": []}
    _assert_stored(api, key, f"Echo: {QUESTION}")


def _node_file(tmp_path, code: str):
    script = tmp_path / "chat.mjs"  # top-level await needs a module
    script.write_text(code)
    return str(script)


@pytest.mark.node
def test_the_javascript_example_prints_the_reply_in_node(examples, api, key, llm, tmp_path):
    result = _run(["node", _node_file(tmp_path, examples["javascript"])])
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Echo: {QUESTION}\n"
    _assert_stored(api, key, f"Echo: {QUESTION}")


@pytest.mark.node
def test_the_javascript_streaming_example_prints_the_reply_as_it_arrives_in_node(examples, api, key, llm, tmp_path):
    llm.reply = "Tokens arrive one by one, and a\u2028line separator stays inside its line."
    llm.token_delay = 0.15
    out, arrivals, ended = _run_timed(["node", _node_file(tmp_path, examples["javascript-stream"])])
    assert out == llm.reply + "\n"
    _assert_streamed(arrivals, ended, llm.token_delay)
    _assert_stored(api, key, llm.reply)


@pytest.mark.skipif(not shutil.which("php"), reason="php is not installed")
def test_the_php_example_prints_the_reply(examples, api, key, llm, tmp_path):
    script = tmp_path / "chat.php"
    script.write_text(examples["php"])
    result = _run(["php", str(script)])
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Echo: {QUESTION}\n"
    _assert_stored(api, key, f"Echo: {QUESTION}")
