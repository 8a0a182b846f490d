"""X-API-Key on both endpoints: missing, malformed, unknown, revoked, inactive, grace period."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app import keys
from channels_app.models import ApiKey
from conversations.models import Message
from gateway.testing.api import chat, history

ENDPOINTS = ["chat", "history"]


def call(api, endpoint, headers):
    if endpoint == "chat":
        return api.post("/api/chat", json={"message": "Hi", "session_id": "s"}, headers=headers)
    return api.get("/api/history", params={"session_id": "s"}, headers=headers)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_it_handles_missing_api_key(api, llm, endpoint):
    r = call(api, endpoint, {})
    assert r.status_code == 401
    assert r.json() == {"error": "Missing API key"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_it_treats_an_empty_header_as_missing(api, llm, endpoint):
    assert call(api, endpoint, {"X-API-Key": ""}).json() == {"error": "Missing API key"}


def _typo(raw: str) -> str:
    i = 10
    return raw[:i] + ("A" if raw[i] != "A" else "B") + raw[i + 1 :]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_it_gives_the_same_answer_for_malformed_unknown_and_revoked_keys(api, llm, channel, key, endpoint):
    from channels_app.services import api_key_issue, api_key_revoke

    revoked = api_key_issue(channel=channel)
    api_key_revoke(api_key=revoked.api_key)
    unknown = keys.generate()  # well formed, never issued
    for bad in ["not-a-key", "amgai_short", _typo(key), unknown, revoked.plaintext, key + "x"]:
        r = call(api, endpoint, {"X-API-Key": bad})
        assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"}), bad
    assert not Message.objects.exists()


def test_it_rejects_a_mistyped_key_without_a_query(db, channel, key, django_assert_num_queries):
    from channels_app.selectors import api_key_authenticate

    with django_assert_num_queries(0):
        assert api_key_authenticate(_typo(key)) is None
        assert api_key_authenticate("amgai_" + "x" * 49) is None


def test_it_refuses_an_inactive_channel(api, llm, channel, key):
    channel.is_active = False
    channel.save()
    for endpoint in ENDPOINTS:
        r = call(api, endpoint, {"X-API-Key": key})
        assert (r.status_code, r.json()) == (403, {"error": "Site is inactive"})
    assert llm.requests == []


def test_it_checks_the_key_before_the_channel_state(api, llm, channel):
    channel.is_active = False
    channel.save()
    assert call(api, "chat", {"X-API-Key": keys.generate()}).json() == {"error": "Invalid API key"}


def test_a_rotated_key_works_until_its_grace_period_ends(api, llm, channel, key):
    old = ApiKey.objects.get(channel=channel)
    old.revoked_at = timezone.now() + timedelta(hours=1)
    old.save()
    assert chat(api, key).status_code == 200
    old.revoked_at = timezone.now() - timedelta(seconds=1)
    old.save()
    assert chat(api, key).status_code == 401


def test_it_records_when_a_key_was_last_used(api, llm, channel, key):
    assert ApiKey.objects.get(channel=channel).last_used_at is None
    history(api, key)
    assert ApiKey.objects.get(channel=channel).last_used_at is not None
