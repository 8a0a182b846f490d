"""Threads: SESSION_TTL_HOURS from the first message, then a new thread; expiry deletes nothing."""

from datetime import timedelta

from django.utils import timezone

from conversations.models import Message, Session
from gateway.testing.api import chat, history


def test_a_thread_lives_ttl_hours_from_its_first_message(api, llm, key, settings):
    settings.SESSION_TTL_HOURS = 24
    chat(api, key, "first")
    chat(api, key, "second")
    session = Session.objects.get()
    assert session.expires_at - session.started_at == timedelta(hours=24)
    assert session.started_at == Message.objects.filter(role="user").order_by("id").first().created_at


def test_the_next_chat_after_expiry_starts_a_new_thread(api, llm, key):
    chat(api, key, "before")
    Session.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    chat(api, key, "after")
    # the expired thread's messages are not sent as context
    assert [m["content"] for m in llm.requests[-1]["json"]["messages"]] == ["after"]
    assert [m["content"] for m in history(api, key).json()["messages"]] == ["after", "Echo: after"]
    old, new = Session.objects.order_by("thread")
    assert (old.thread, new.thread) == (1, 2)
    # expiry deletes nothing: the owner still has the old thread
    assert list(old.messages.values_list("content", flat=True)) == ["before", "Echo: before"]


def test_the_ttl_follows_the_setting(api, llm, key, settings):
    settings.SESSION_TTL_HOURS = 2
    chat(api, key)
    session = Session.objects.get()
    assert session.expires_at - session.started_at == timedelta(hours=2)
