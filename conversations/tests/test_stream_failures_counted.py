"""A streamed chat that fails after the stream opened is counted as a failed chat.

The stream's HTTP status is already 200 when the provider fails, so the view
cannot see the failure; the stream itself writes the FailedRequest row, with
the status and error the same failure gets without streaming. A stream the
client cut off after part of the reply counts as answered (it is stored and
charged), not as failed.
"""

import time

import pytest

from conversations.models import FailedRequest, Message
from dashboard.usage import channel_usage
from gateway.testing import loopback
from gateway.testing.api import chat_stream
from gateway.testing.waiting import wait_until

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

AI_ERROR = "AI service error. Please try again."


def _kpis(owner_web, channel) -> str:
    return owner_web.get(f"/dashboard/channels/{channel.public_id}/usage/").text


def test_a_provider_failure_mid_stream_is_counted_as_a_failed_chat(owner_web, api, llm, channel, key):
    llm.mode = "stream_break"
    r, events = chat_stream(api, key, "one two three four")
    assert [kind for kind, _ in events] == ["token", "token", "error"]
    assert list(FailedRequest.objects.values_list("channel", "endpoint", "status", "error")) == [
        (channel.pk, "chat", 500, AI_ERROR)
    ]
    page = _kpis(owner_web, channel)
    assert '<div class="value" data-kpi="requests">1</div>' in page
    assert '<div class="value" data-kpi="answered">0</div>' in page
    assert '<div class="value" data-kpi="failed">1</div>' in page
    assert channel_usage(channel=channel).days[-1].errors == 1


def test_a_provider_failure_before_the_first_token_is_counted_too(api, llm, channel, key, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.mode, llm.status = "status", 503
    r, events = chat_stream(api, key)
    assert (r.status_code, events) == (200, [("error", {"error": AI_ERROR})])
    assert list(FailedRequest.objects.values_list("endpoint", "status", "error")) == [("chat", 500, AI_ERROR)]
    today = channel_usage(channel=channel).days[-1]
    assert (today.answered, today.errors) == (0, 1)


def test_a_stream_the_client_cut_off_counts_as_answered_not_failed(gateway_server, owner_web, api, llm, channel, key):
    llm.token_delay = 0.3
    with loopback.Client(base_url=gateway_server.url, timeout=10) as client:
        body = {"message": "w1 w2 w3 w4 w5 w6 w7 w8", "session_id": "left", "stream": True}
        with client.stream("POST", "/api/chat", json=body, headers={"X-API-Key": key}) as response:
            tokens = 0
            for line in response.iter_lines():
                tokens += line.startswith("event: token")
                if tokens == 2:
                    break
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not Message.objects.filter(role="assistant").exists():
        time.sleep(0.05)
    assert wait_until(lambda: llm.finished == 1)  # the gateway closed the provider's stream: it wrote all it would
    assert not FailedRequest.objects.exists()
    page = _kpis(owner_web, channel)
    assert '<div class="value" data-kpi="answered">1</div>' in page
    assert '<div class="value" data-kpi="failed">0</div>' in page
