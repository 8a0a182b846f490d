"""The official `openai` npm package, run by the machine's Node.js, against /v1 on loopback.

Its version is pinned in openai_node/package.json (package-lock.json); `make install-dev` runs `npm ci` there.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from channels_app.models import Channel
from channels_app.services import channel_update
from gateway.testing.api import history

HERE = Path(__file__).parent / "openai_node"
NODE = shutil.which("node")

pytestmark = pytest.mark.node


def run(gateway_server, key, model, which="all") -> dict:
    assert (HERE / "node_modules" / "openai").is_dir(), "the openai npm package is missing: run `make install-dev`"
    done = subprocess.run(
        [NODE, "run.mjs", f"{gateway_server.url}/v1", key, model, which],
        cwd=HERE, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_answers_streams_lists_models_and_raises_the_sdks_errors(api, gateway_server, llm, key, channel):
    seen = run(gateway_server, key, channel.model)
    assert seen["plain"] == {"object": "chat.completion", "content": "Echo: Hello",
                             "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}
    assert seen["streamed"] == "Echo: Hello" and seen["usage"]["completion_tokens"] == 2
    assert seen["models"] == [channel.model]
    errors = seen["errors"]
    assert (errors["auth"]["class"], errors["auth"]["status"]) == ("AuthenticationError", 401)
    assert (errors["notFound"]["class"], errors["notFound"]["code"]) == ("NotFoundError", "model_not_found")
    assert (errors["badRequest"]["class"], errors["badRequest"]["message"]) == (
        "BadRequestError", "n must be 1: one choice per request")
    assert len(history(api, key, "node-1").json()["messages"]) == 4
    channel.refresh_from_db()
    assert channel.credits == 98


def test_limits_credits_and_failures_reach_it_as_the_sdks_errors(gateway_server, llm, key, channel, settings):
    channel_update(channel=channel, rate_limit_per_minute=1)
    assert run(gateway_server, key, channel.model, "chat") == {"content": "Echo: Hello"}
    limited = run(gateway_server, key, channel.model, "chat")["error"]
    assert (limited["class"], limited["status"]) == ("RateLimitError", 429) and int(limited["retryAfter"]) >= 1
    channel_update(channel=channel, rate_limit_per_minute=60)
    Channel.objects.filter(pk=channel.pk).update(credits=0)
    refused = run(gateway_server, key, channel.model, "chat")["error"]
    assert (refused["class"], refused["code"]) == ("PermissionDeniedError", "insufficient_quota")
    Channel.objects.filter(pk=channel.pk).update(credits=5)
    settings.LLM_MAX_RETRIES = 0
    llm.mode, llm.status = "status", 500
    failed = run(gateway_server, key, channel.model, "chat")["error"]
    assert (failed["class"], failed["status"]) == ("InternalServerError", 500)
    llm.mode, llm.reply = "stream_break", "one two three four"
    broken = run(gateway_server, key, channel.model, "stream")
    assert broken["text"] == "one two" and broken["error"]["message"] == "AI service error. Please try again."
    channel.refresh_from_db()
    assert channel.credits == 5


def test_the_responses_api_answers_a_function_round_trip_and_streams(api, gateway_server, llm, key, channel):
    from conversations.tests.test_openai_tools import able

    able(channel.model, tools=True)
    llm.tool_calls = [("get_weather", '{"city":"Paris"}')]
    seen = run(gateway_server, key, channel.model, "responses")
    assert seen["call"] == ["function_call", "get_weather", '{"city":"Paris"}']
    assert (seen["final"], seen["usage"], seen["streamed"]) == ("Result: 22 degrees", 18, "Echo: Hello")
    assert seen["kinds"][0] == "response.created" and seen["kinds"][-1] == "response.completed"
    assert [m["content"] for m in history(api, key, "node-r").json()["messages"]][-1] == "Result: 22 degrees"
    channel.refresh_from_db()
    assert channel.credits == 97
