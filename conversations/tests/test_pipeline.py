"""The chat pipeline's contract (conversations/engine/pipeline.py) at service level, on every store and counters implementation.

prepare → complete → settle against a real OpenAI-compatible server on
loopback; each test runs on the ORM and the PostgreSQL store, with the
in-process or the Redis counters, whichever can run here (CI runs both setups).
What reaches the database and the counters is read back after each step.
"""

import pytest
from django.core.cache import cache

from channels_app import credentials
from channels_app.credentials import PresentedKey
from channels_app.models import Channel
from conversations.edge import streaming
from conversations.engine import limits, pipeline
from conversations.models import IdempotencyKey, Message
from gateway.infra.errors import CreditsExhausted, ProviderError
from gateway.testing.cache_keys import clear_own_keys
from gateway.testing.implementations import COUNTERS, SETTING, STORES, run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=STORES)
def store(request, settings):
    settings.CHAT_STORE = SETTING[request.param]
    return request.param


@pytest.fixture(params=COUNTERS)
def counting(request, settings):
    settings.CHAT_COUNTERS = SETTING[request.param]
    clear_own_keys()
    return request.param


@pytest.fixture
def verified(store, counting, channel, key, llm):
    return run(credentials.resolve(PresentedKey(key)))


def ask(message="Hello", session_id="s-1") -> pipeline.ChatRequest:
    return pipeline.ChatRequest(session_id=session_id, message=message, metadata={})


def state(channel) -> tuple[int, int, list[tuple[str, str]]]:
    """(credits, today's daily slots taken, stored messages)."""
    credits = Channel.objects.values_list("credits", flat=True).get(pk=channel.pk)
    stored = list(Message.objects.filter(session__channel=channel).order_by("id").values_list("role", "content"))
    return credits, limits.daily_used(channel), stored


def test_a_chat_is_prepared_completed_and_settled_once(verified, channel):
    prepared = run(pipeline.start(verified, ask()))
    assert isinstance(prepared, pipeline.PreparedChat)
    assert state(channel) == (99, 1, [])  # held before the provider is called
    reply = run(pipeline.finish(prepared))
    assert reply == pipeline.ChatReply(reply="Echo: Hello", session_id="s-1")
    assert state(channel) == (99, 1, [("user", "Hello"), ("assistant", "Echo: Hello")])


def test_the_provider_failing_gives_back_the_credit_the_slot_and_the_idempotency_key(verified, channel, llm):
    llm.mode, llm.status = "status", 500
    with pytest.raises(ProviderError):
        run(_chat(verified, idempotency_key="k-1"))
    assert state(channel) == (100, 0, [])
    assert not IdempotencyKey.objects.filter(channel=channel).exists()


def test_no_credit_left_holds_nothing(verified, channel):
    Channel.objects.filter(pk=channel.pk).update(credits=0)
    with pytest.raises(CreditsExhausted):
        run(_chat(verified))
    assert state(channel) == (0, 0, [])


def test_an_idempotency_key_replays_the_stored_answer_without_spending(verified, channel):
    first = run(_chat(verified, idempotency_key="k-1"))
    again = run(_chat(verified, idempotency_key="k-1"))
    assert (again.reply, again.replayed, first.replayed) == (first.reply, True, False)
    assert state(channel)[:2] == (99, 1)


def test_the_fallback_answers_when_the_model_fails_before_any_delta(verified, channel, llm):
    Channel.objects.filter(pk=channel.pk).update(model="openai/gpt-oss-120b", fallback_model="openai/gpt-oss-20b")
    key = run(credentials.resolve(verified.presented, fresh=True))
    llm.failing_models, llm.status = {key.channel.model}, 503
    reply = run(_chat(key, stream=True))
    assert reply.reply == "Echo: Hello"
    assert [r["json"]["model"] for r in llm.requests][-1] == "openai/gpt-oss-20b"
    assert state(channel)[0] == 99


def test_a_stream_cut_off_stores_what_the_client_received_and_gives_the_key_back(verified, channel, llm):
    llm.reply, llm.token_delay = "one two three four five six", 0.2

    async def cut_off():
        started = await pipeline.start(verified, ask(), idempotency_key="k-cut")
        events = streaming.events(started)
        received = [await events.__anext__(), await events.__anext__()]  # two words, then the client leaves
        await events.aclose()
        return received

    received = run(cut_off())
    assert [e.count(b"event: token") for e in received] == [1, 1]
    credits, _, stored = state(channel)
    assert (credits, stored) == (99, [("user", "Hello"), ("assistant", "one two")])
    assert not IdempotencyKey.objects.filter(channel=channel).exists()  # a retry runs again


async def _chat(key, *, idempotency_key=None, stream=False) -> pipeline.ChatReply:
    started = await pipeline.start(key, ask(), idempotency_key=idempotency_key)
    if not stream or isinstance(started, pipeline.ChatReply):
        return await pipeline.finish(started)
    sink = streaming.EventSink()
    return await pipeline.finish(started, sink)
