"""/dashboard/channels/<id>/conversations/<thread>/<session_id>: a thread's transcript, safely rendered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Message, Session

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

HOSTILE = (
    "Here you go: <img src=x onerror=alert(1)> and [click me](javascript:alert(1)) "
    "and ![](https://evil.example/t.png) <script>alert(2)</script>"
)


def _thread(channel, session_id="s-1", *, reply="**Hello**", expired=False, thread=1, source="api"):
    now = timezone.now()
    session = Session.objects.create(
        channel=channel,
        source=source,
        session_id=session_id,
        thread=thread,
        started_at=now - timedelta(hours=30 if expired else 0),
        expires_at=now - timedelta(hours=6) if expired else now + timedelta(hours=24),
    )
    Message.objects.create(session=session, role="user", content="Hi *there* <b>you</b>", created_at=now)
    Message.objects.create(
        session=session,
        role="assistant",
        content=reply,
        created_at=now,
        model="llama-3.3-70b-versatile",
        prompt_tokens=11,
        completion_tokens=7,
        latency_ms=321,
    )
    return session


def _url(channel, session):
    return f"/dashboard/channels/{channel.public_id}/conversations/{session.thread}/{session.session_id}"


def test_it_renders_replies_as_markdown_and_user_messages_as_text(owner_web, channel):
    session = _thread(channel, reply="**Hello** and `code`\n\n- one\n- two")
    page = owner_web.get(_url(channel, session)).text
    assert "<strong>Hello</strong>" in page and "<code>code</code>" in page and "<li>one</li>" in page
    assert "Hi *there* &lt;b&gt;you&lt;/b&gt;" in page
    assert "11 + 7 tokens" in page and "321 ms" in page and "Live" in page
    assert page.count("Hi *there*") == 1 and "flash-item" not in page  # no clash with flash messages


def test_it_renders_hostile_replies_inert(owner_web, channel):
    session = _thread(channel, reply=HOSTILE)
    page = owner_web.get(_url(channel, session)).text
    body = page.split('<section class="transcript">')[1]
    assert "<img" not in body
    assert "onerror=alert" not in body.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "javascript:" not in body
    assert "<script" not in body
    assert 'src="https://evil.example' not in page
    assert "[image: https://evil.example/t.png]" in body  # shown as text, never fetched
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_it_marks_an_expired_thread(owner_web, channel):
    session = _thread(channel, expired=True)
    page = owner_web.get(_url(channel, session)).text
    assert "Expired" in page and "This thread has expired" in page


def test_it_finds_session_ids_with_slashes_and_spaces(owner_web, channel):
    session = _thread(channel, session_id="user/42 tab?x=1#y")
    listing = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/").text
    assert "/conversations/1/user%2F42%20tab%3Fx%3D1%23y" in listing  # one encoded segment (dashboard/links.py)
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/1/user/42%20tab%3Fx%3D1%23y")
    assert r.status_code == 200 and "<strong>Hello</strong>" in r.text
    assert session.session_id in r.text


def test_it_is_a_404_for_another_owner(outsider_web, channel):
    session = _thread(channel)
    r = outsider_web.get(_url(channel, session))
    assert r.status_code == 404 and "Hello" not in r.text


def test_it_is_a_404_for_another_channels_session_under_my_channel(owner_web, channel, other_channel_and_key):
    theirs = _thread(other_channel_and_key[0], session_id="theirs")
    assert owner_web.get(_url(channel, theirs)).status_code == 404


def test_it_is_a_404_for_an_unknown_thread(owner_web, channel):
    session = _thread(channel)
    assert owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/2/{session.session_id}").status_code == 404


def test_the_same_session_id_in_both_namespaces_is_two_transcripts(owner_web, channel):
    backend = _thread(channel, "same-id", reply="backend reply")
    widget = _thread(channel, "same-id", reply="widget reply", source="widget")
    listing = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/").text
    assert f'href="{_url(channel, backend)}"' in listing and f'href="{_url(channel, widget)}?source=widget"' in listing
    assert ">Widget<" in listing and ">API<" in listing
    api_page = owner_web.get(_url(channel, backend)).text
    assert "backend reply" in api_page and "widget reply" not in api_page and "API (secret key)" in api_page
    widget_page = owner_web.get(_url(channel, widget) + "?source=widget").text
    assert "widget reply" in widget_page and "backend reply" not in widget_page and "Widget (publishable key)" in widget_page
    assert owner_web.get(_url(channel, widget) + "?source=other").status_code == 404
