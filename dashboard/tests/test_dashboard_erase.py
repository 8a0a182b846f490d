"""Erasing a session from its transcript page: every copy goes, the data log says so, other owners cannot."""

import pytest

from conversations.models import AuditEvent, Session
from gateway.testing.api import chat
from gateway.testing.tables import tables_containing

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

SECRET = "violet-harbour-2290"


def _erase_url(channel):
    return f"/dashboard/channels/{channel.public_id}/conversations/erase/"


def test_the_owner_erases_a_session_from_its_transcript(api, llm, owner_web, owner, channel, key):
    chat(api, key, f"my address is {SECRET}", session_id="visitor-7")
    api.post("/api/chat", json={"message": f"again {SECRET}", "session_id": "visitor-7"},
             headers={"X-API-Key": key, "Idempotency-Key": "k-9"})
    transcript = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/1/visitor-7")
    assert "Erase session" in transcript.text and f'action="{_erase_url(channel)}"' in transcript.text

    r = owner_web.submit(_erase_url(channel), {"session_id": "visitor-7", "source": "api"}, follow_redirects=False)

    assert r.status_code == 302
    assert r.headers["location"] == f"/dashboard/channels/{channel.public_id}/conversations/"
    page = owner_web.get(r.headers["location"]).text
    assert "Session erased: 1 thread and 4 messages deleted" in page
    assert "Data log" in page and "Session erased" in page
    assert tables_containing(SECRET) == {}
    event = AuditEvent.objects.get()
    assert (event.via, event.actor, event.counts["idempotency_answers"]) == ("dashboard", owner, 1)


def test_another_owner_cannot_erase_it(api, llm, outsider_web, channel, key):
    chat(api, key, SECRET, session_id="s-1")
    r = outsider_web.submit(_erase_url(channel), {"session_id": "s-1", "source": "api"})
    assert r.status_code == 404
    assert Session.objects.count() == 1 and not AuditEvent.objects.exists()


def test_it_needs_a_post_with_a_csrf_token(api, llm, owner_web, channel, key):
    chat(api, key, SECRET, session_id="s-1")
    assert owner_web.get(_erase_url(channel)).status_code == 405
    assert owner_web.post(_erase_url(channel), data={"session_id": "s-1", "source": "api"}).status_code == 403
    assert Session.objects.count() == 1


def test_it_refuses_an_unknown_source(api, llm, owner_web, channel, key):
    chat(api, key, SECRET, session_id="s-1")
    assert owner_web.submit(_erase_url(channel), {"session_id": "s-1", "source": "other"}).status_code == 404
    assert Session.objects.count() == 1
