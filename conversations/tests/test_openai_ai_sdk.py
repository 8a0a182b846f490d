"""The Vercel AI SDK (`ai` + `@ai-sdk/openai` from npm), run by the machine's Node.js, against /v1 on loopback.

Both of its OpenAI models, changed only in base URL and key: the provider's default `openai(model)` (the Responses
API) and `openai.chat(model)` (Chat Completions); each runs `generateText` with a tool (call, result, final
answer), `streamText` with the same tool and without, and `generateObject`. Versions are pinned in
ai_sdk_node/package.json (package-lock.json); `make install-dev` runs `npm ci` there.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conversations.models import Message
from conversations.tests.test_openai_tools import able, credits

HERE = Path(__file__).parent / "ai_sdk_node"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def run(gateway_server, key, model, api) -> dict:
    assert (HERE / "node_modules" / "ai").is_dir(), "the ai npm package is missing: run `make install-dev`"
    done = subprocess.run([NODE, "run.mjs", f"{gateway_server.url}/v1", key, model, api],
                          cwd=HERE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_text_tools_streams_and_objects_work_through_both_of_its_models(gateway_server, llm, key, channel, api):
    able(channel.model, tools=True, json_object=True, json_schema=True)
    llm.tool_calls = [("get_weather", '{"city":"Paris"}')]
    llm.json_reply = '{"name": "Paris"}'
    seen = run(gateway_server, key, channel.model, api)
    assert seen["text"] == {"text": "Echo: Hello", "usage": 18}, seen
    assert seen["followUp"] == {"text": "Echo: And now?"}, seen
    followed = next(r["json"]["messages"] for r in llm.requests if r["json"]["messages"][-1]["content"] == "And now?")
    assert followed[-3:] == [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Echo: Hello"},
                             {"role": "user", "content": "And now?"}]
    assert seen["tool"] == {"text": "Result: 22 degrees in Paris", "steps": 2, "calls": [["get_weather", {"city": "Paris"}]],
                            "results": ["22 degrees in Paris"]}, seen
    assert seen["streamedTool"] == {"text": "Result: 22 degrees in Paris", "steps": 2, "toolInputDeltas": True}, seen
    assert seen["streamed"]["text"] == "Echo: Hello", seen
    assert seen["object"] == {"name": "Paris"}, seen
    path = "/v1/responses" if api == "responses" else "/v1/chat/completions"
    assert {r["path"] for r in llm.requests} == {"/v1/chat/completions"}  # the gateway asks its provider one way
    assert all(r["json"]["model"] == channel.model for r in llm.requests)
    # Every exchange stored and charged: 1 text, 2 follow-up, 2 + 2 tool steps, 1 streamed, 1 object.
    assert credits(channel) == 100 - 9
    tool_turns = Message.objects.filter(session__channel=channel, content__startswith="[tool call get_weather")
    assert tool_turns.count() == 2 and all(m.cost > 0 for m in tool_turns), path
