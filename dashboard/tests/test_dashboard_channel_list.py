"""GET /dashboard/: one card per channel of the signed-in owner."""

from conftest import make_channel
from conversations.models import Message, Session
from gateway.testing.rollups import rebuild_all_usage


def test_it_sends_anonymous_visitors_to_the_login_page(web):
    r = web.get("/dashboard/")
    assert r.status_code == 302
    assert r.headers["location"].startswith("/accounts/login/?next=/dashboard/")


def test_it_shows_an_empty_state_that_leads_to_create_channel(owner_web):
    r = owner_web.get("/dashboard/")
    assert r.status_code == 200
    assert "Create your first channel" in r.text
    assert 'href="/dashboard/channels/new/"' in r.text


def test_it_shows_a_card_per_channel_with_masked_key_and_limits(owner_web, owner, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.get("/dashboard/")
    assert r.status_code == 200
    assert channel.name in r.text
    assert "Active" in r.text
    assert "GPT-OSS 120B" in r.text  # the default model's name
    assert issued.api_key.masked in r.text
    assert issued.plaintext not in r.text
    assert f"/dashboard/channels/{channel.public_id}/keys/{issued.api_key.public_id}/reveal/" in r.text
    assert "Reveal" in r.text and "Copy" in r.text
    assert "0 / 1000 chats" in r.text
    assert "60 requests" in r.text
    assert "100" in r.text  # credits
    assert "never" in r.text  # no activity yet


def test_it_counts_todays_answered_chats_and_shows_last_activity(owner_web, channel):
    from django.utils import timezone

    now = timezone.now()
    session = Session.objects.create(channel=channel, session_id="s", started_at=now, expires_at=now)
    for _ in range(3):
        Message.objects.create(session=session, role="user", content="hi", created_at=now)
        Message.objects.create(session=session, role="assistant", content="hello", created_at=now, latency_ms=5)
    rebuild_all_usage()  # stored straight through the ORM, not the chat store
    r = owner_web.get("/dashboard/")
    assert "3 / 1000 chats" in r.text
    assert "just now" in r.text and "0\xa0minutes ago" not in r.text  # "just now", not "0 minutes ago"


def test_it_shows_an_inactive_badge(owner_web, owner):
    make_channel(owner, name="Paused site", is_active=False)
    assert "Inactive" in owner_web.get("/dashboard/").text


def test_it_never_shows_another_owners_channels(owner_web, channel, other_channel_and_key):
    r = owner_web.get("/dashboard/")
    assert "Test site" in r.text
    assert "Other site" not in r.text
    assert str(other_channel_and_key[0].public_id) not in r.text
