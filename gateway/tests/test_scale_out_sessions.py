"""Session namespaces across two gateway processes (one PostgreSQL database, one Redis), through real HTTP.

A widget session id issued by one gateway is accepted by the other (it is
checked, not stored); a secret key's session and a widget's stay apart
whichever gateway serves each request, on both chat paths (a key's first
request is read on a thread, the next ones on the event loop).
"""

import json

import pytest
from django.conf import settings

from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY, WIDGET_ORIGIN
from gateway.testing.processes import create_channels, gateway_cluster, manage

pytestmark = [pytest.mark.processes, pytest.mark.postgres, pytest.mark.redis]

_WIDGET_KEYS = """
import json, sys
from channels_app.models import Channel
from channels_app.services import channel_set_allowed_origins, publishable_key_issue
out = []
for spec in json.load(sys.stdin):
    channel = Channel.objects.get(public_id=spec["public_id"])
    channel_set_allowed_origins(channel=channel, allowed_origins=[spec["origin"]])
    out.append(publishable_key_issue(channel=channel).key)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, fake_llm_server):
    def setup(env):
        channels = create_channels(env, {"name": "One", "credits": 1000}, {"name": "Two", "credits": 1000})
        specs = [{"public_id": c["public_id"], "origin": WIDGET_ORIGIN} for c in channels]
        stdout = manage(env, "shell", "-c", _WIDGET_KEYS, input=json.dumps(specs))
        for channel, pk in zip(channels, json.loads(stdout.strip().splitlines()[-1])):
            channel["pk"] = pk
        return channels

    with gateway_cluster(
        "sessions", tmp_path_factory.mktemp("scale-out-sessions"), database_settings=settings.DATABASES["default"],
        redis_url=settings.REDIS_URL, setup=setup, LLM_BASE_URL=f"{fake_llm_server.url}/v1", LLM_API_KEY=UPSTREAM_KEY,
    ) as cluster:
        cluster.llm = fake_llm_server.app
        yield cluster


def backend_chat(url, key, message, session_id):
    return loopback.post(url + "/api/chat", json={"message": message, "session_id": session_id}, headers={"X-API-Key": key}, timeout=30)


def backend_history(url, key, session_id, **params):
    r = loopback.get(url + "/api/history", params={"session_id": session_id, **params}, headers={"X-API-Key": key}, timeout=30)
    assert r.status_code == 200, r.text
    return [m["content"] for m in r.json()["messages"]]


def widget_chat(url, pk, message, session_id):
    return loopback.post(url + "/api/chat", params={"key": pk}, json={"message": message, "session_id": session_id},
                         headers={"Origin": WIDGET_ORIGIN}, timeout=30)


def widget_history(url, pk, session_id):
    return loopback.get(url + "/api/history", params={"key": pk, "session_id": session_id}, headers={"Origin": WIDGET_ORIGIN}, timeout=30)


def widget_session(url, pk):
    r = loopback.post(url + "/api/widget-session", params={"key": pk}, headers={"Origin": WIDGET_ORIGIN}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["session_id"]


def last_prompt(llm) -> str:
    return " ".join(m["content"] for m in llm.requests[-1]["json"]["messages"])


def test_key_kinds_never_share_a_session_whichever_gateway_serves_them(cluster):
    cluster.llm.reset()
    one, two = cluster.channels
    a, b = cluster.urls
    for turn in range(2):  # the second turn finds both keys cached in each gateway: the event-loop path
        assert backend_chat(a, one["key"], f"secret {turn}", "user-session-abc123").status_code == 200
        r = widget_history(b, one["pk"], "user-session-abc123")
        assert (r.status_code, r.json()) == (400, {"error": "Invalid session_id"})
        r = widget_chat(b, one["pk"], f"outsider {turn}", "user-session-abc123")
        assert (r.status_code, r.json()) == (400, {"error": "Invalid session_id"})
    assert backend_chat(b, one["key"], "secret 2", "user-session-abc123").status_code == 200
    assert "outsider" not in last_prompt(cluster.llm)
    assert backend_history(a, one["key"], "user-session-abc123") == [
        text for turn in range(3) for text in (f"secret {turn}", f"Echo: secret {turn}")
    ]

    visitor = widget_session(a, one["pk"])  # issued by one gateway, accepted by the other
    for turn in range(3):
        assert widget_chat((a, b)[turn % 2], one["pk"], f"visitor {turn}", visitor).status_code == 200
        assert backend_chat((b, a)[turn % 2], one["key"], f"backend {turn}", visitor).status_code == 200
        assert "visitor" not in last_prompt(cluster.llm)
    assert [m["content"] for m in widget_history(b, one["pk"], visitor).json()["messages"]] == [
        text for turn in range(3) for text in (f"visitor {turn}", f"Echo: visitor {turn}")
    ]
    assert backend_history(a, one["key"], visitor) == [text for turn in range(3) for text in (f"backend {turn}", f"Echo: backend {turn}")]
    assert backend_history(b, one["key"], visitor, source="widget") == [
        text for turn in range(3) for text in (f"visitor {turn}", f"Echo: visitor {turn}")
    ]
    assert cluster.database.query(
        "SELECT source, count(*) FROM conversations_session WHERE session_id = %s GROUP BY source ORDER BY source", (visitor,)
    ) == [("api", 1), ("widget", 1)]

    # Channel one's widget session means nothing to channel two, on either gateway.
    for url in (a, b):
        assert widget_history(url, two["pk"], visitor).json() == {"error": "Invalid session_id"}
        assert widget_chat(url, two["pk"], "hi", visitor).json() == {"error": "Invalid session_id"}
