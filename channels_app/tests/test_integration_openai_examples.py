"""The integration page's OpenAI SDK examples, taken from the rendered page and run for real against /v1.

Python runs with the openai package of requirements-dev.txt; Node with the one pinned in
conversations/tests/openai_node (`make install-dev`).
"""

import html
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from gateway.testing.api import history

# Programs of their own (the examples, curl, node) are the clients: the gateway listens on a socket.
pytestmark = pytest.mark.live

QUESTION = "Hello! What can you help me with?"
SESSION = "user-session-abc123"
NODE_PACKAGES = Path(__file__).resolve().parents[2] / "conversations" / "tests" / "openai_node"


def openai_examples_in(page: str) -> dict[str, str]:
    found = re.findall(r'<pre class="snippet" data-openai-example="([a-z-]+)"[^>]*><code>(.*?)</code></pre>', page, re.S)
    return {slug: html.unescape(re.sub(r"<[^>]+>", "", body)) for slug, body in found}


@pytest.fixture
def examples(owner_web, channel_and_key):
    channel, issued = channel_and_key
    url = f"/dashboard/channels/{channel.public_id}/keys/{issued.api_key.public_id}/reveal/"
    r = owner_web.submit(url, {"return_to": "integrate"}, follow_redirects=True)  # post/redirect/get
    assert r.status_code == 200
    found = openai_examples_in(r.text)
    assert set(found) == {"openai-python", "openai-node"}
    assert all(issued.plaintext in text for text in found.values())
    return found


def test_the_page_shows_the_sdks_with_this_host_and_the_masked_key(owner_web, gateway_server, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/integrate/")
    found = openai_examples_in(r.text)
    assert list(found) == ["openai-python", "openai-node"]
    for text in found.values():
        assert f"{gateway_server.url}/v1" in text and issued.api_key.masked in text
        assert issued.plaintext not in r.text


def _stored(api, key) -> list:
    return [(m["role"], m["content"]) for m in history(api, key, session_id=SESSION).json()["messages"]]


def test_the_python_sdk_example_prints_the_reply(examples, api, key, llm):
    result = subprocess.run([sys.executable, "-c", examples["openai-python"]], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Echo: {QUESTION}\n"
    assert _stored(api, key) == [("user", QUESTION), ("assistant", f"Echo: {QUESTION}")]


@pytest.mark.node
def test_the_node_sdk_example_streams_the_reply(examples, api, key, llm):
    assert (NODE_PACKAGES / "node_modules" / "openai").is_dir(), "run `make install-dev`"
    llm.reply = "Streamed through the SDK."
    script = NODE_PACKAGES / f"example-{uuid.uuid4().hex}.mjs"  # beside its node_modules, so `openai` resolves
    script.write_text(examples["openai-node"])
    try:
        result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60)
    finally:
        script.unlink()
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Streamed through the SDK.\n"
    assert _stored(api, key) == [("user", QUESTION), ("assistant", "Streamed through the SDK.")]
