"""Optional embeddings through the fake provider's POST /v1/embeddings on loopback: stored per chunk at ingestion,
the question embedded per chat, the full-text and cosine orders fused by reciprocal rank fusion (k = 60), and the
question's tokens counted and priced with the chat."""

import json
import math
from decimal import Decimal

import pytest

from conftest import UPSTREAM_KEY
from conversations.models import Message
from gateway.testing.api import chat
from gateway.testing.implementations import run
from gateway.testing.rollups import usage_totals
from gateway.testing.waiting import wait_until
from knowledge import embeddings, readiness, retrieval, services
from knowledge.grounding import KNOWLEDGE_HEADER
from knowledge.models import Chunk, Source

# Ingestion and the search run on threads and connections of their own, which see only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "fake-embedding-1"
SNIPPETS = {
    "Prices": "The kettle costs 30 pounds; the big kettle 45 pounds; a kettle lid 5 pounds; kettle feet 2 pounds.",
    "Care": "Remove limescale from the kettle with citric acid once a month.",
    "Colours": "Each kettle comes in red, blue or cream, enamelled by hand.",
    "Warranty": "Two years of warranty on every kettle and kettle lid.",
}
QUESTION = "How do I clean calcium off the kettle?"


@pytest.fixture
def embedding(settings, llm):
    settings.KNOWLEDGE_EMBEDDING_MODEL = MODEL
    settings.KNOWLEDGE_EMBEDDINGS = "knowledge.embeddings.OpenAICompatible"
    settings.KNOWLEDGE_EMBEDDING_PRICE = 20.0  # dollars per million tokens
    llm.embedding_aliases = {"clean": "remove", "calcium": "limescale"}  # alike for the vectors, not for the words
    readiness.forget()
    return llm


def ingest_snippets(channel) -> None:
    for title, text in SNIPPETS.items():
        services.source_add_text(channel=channel, title=title, text=text)
    assert wait_until(
        lambda: not Source.objects.filter(channel=channel, status__in=["pending", "processing"]).exists(), 30
    )


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def test_ingestion_stores_each_chunks_embedding_and_counts_its_tokens(embedding, channel):
    ingest_snippets(channel)

    calls = [r for r in embedding.requests if r["path"] == "/v1/embeddings"]
    assert calls and all(r["json"]["model"] == MODEL for r in calls)
    assert all(r["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}" for r in calls)
    for chunk in Chunk.objects.filter(channel=channel):
        stored = list(embeddings.unpack(chunk.embedding))
        expected = unit(embedding.embedding(f"{chunk.title}\n{chunk.heading}\n{chunk.text}"))
        assert stored == pytest.approx(expected, abs=1e-6)
    for source in Source.objects.filter(channel=channel):
        words = sum(len(t.split()) for t in [source.title, source.text])  # the fake counts words as tokens
        assert source.status == "ready" and source.error == ""
        assert source.embedding_tokens >= words - 2 and source.embedding_tokens > 0


def test_a_chat_fuses_the_full_text_and_cosine_orders_and_pays_for_its_question(
    embedding, api, key, channel, other_channel_and_key
):
    ingest_snippets(channel)
    chunks = {chunk.pk: chunk for chunk in Chunk.objects.filter(channel=channel)}
    by_words = [hit.chunk_id for hit in run(retrieval.backend().search(
        channel_id=channel.pk, question=QUESTION, page_url="", limit=50))]
    question = unit(embedding.embedding(QUESTION))
    by_cosine = sorted(by_words, key=lambda pk: -sum(a * b for a, b in zip(question, embeddings.unpack(chunks[pk].embedding))))
    rrf = {pk: 1 / (60 + by_words.index(pk) + 1) + 1 / (60 + by_cosine.index(pk) + 1) for pk in by_words}
    expected = [chunks[pk].title for pk in sorted(by_words, key=lambda pk: -rrf[pk])]
    assert expected != [chunks[pk].title for pk in by_words]  # the fusion moves something
    assert expected.index("Care") < [chunks[pk].title for pk in by_words].index("Care")

    answer = chat(api, key, QUESTION)

    assert answer.status_code == 200
    given = [m for m in embedding.requests[-1]["json"]["messages"] if m["content"].startswith(KNOWLEDGE_HEADER)]
    passages = json.loads(given[0]["content"].split("\n", 1)[1])["passages"]
    assert [p["title"] for p in passages] == expected
    assert answer.json()["sources"] == [{"title": title, "url": ""} for title in expected]
    asked = [r for r in embedding.requests if r["path"] == "/v1/embeddings"][-1]
    assert asked["json"]["input"] == [QUESTION]

    # The question's 8 tokens are the chat's: with its prompt tokens (11 from the fake), priced at $20 per million.
    chat(api, other_channel_and_key[1].plaintext, "Hi")  # the same model, no knowledge: the plain cost
    plain = Message.objects.get(session__channel=other_channel_and_key[0], role="assistant")
    reply = Message.objects.get(session__channel=channel, role="assistant")
    assert (plain.prompt_tokens, reply.prompt_tokens, reply.completion_tokens) == (11, 19, plain.completion_tokens)
    assert reply.cost == plain.cost + Decimal(8 * 20) / 1_000_000
    assert usage_totals(channel)["prompt_tokens"] == 19


def test_without_an_embedding_model_nothing_is_embedded_and_the_full_text_order_stands(llm, api, key, channel):
    readiness.forget()
    ingest_snippets(channel)
    assert not Chunk.objects.filter(channel=channel, embedding__isnull=False).exists()
    chat(api, key, QUESTION)
    assert not [r for r in llm.requests if r["path"] == "/v1/embeddings"]
    assert Message.objects.get(session__channel=channel, role="assistant").prompt_tokens == 11


def test_a_provider_failing_to_embed_costs_the_embeddings_not_the_knowledge(embedding, api, key, channel):
    embedding.embedding_status = 500
    ingest_snippets(channel)
    for source in Source.objects.filter(channel=channel):
        assert source.status == "ready" and source.error.startswith("Embeddings failed (the provider answered 500)")
    assert not Chunk.objects.filter(channel=channel, embedding__isnull=False).exists()
    answer = chat(api, key, QUESTION)  # searched by words alone, and no embedding call paid for
    assert answer.status_code == 200 and len(answer.json()["sources"]) == 4
    assert Message.objects.get(session__channel=channel, role="assistant").prompt_tokens == 11

    embedding.embedding_status = 200
    services.refresh_all(channel)
    assert wait_until(lambda: not Chunk.objects.filter(channel=channel, embedding__isnull=True).exists()
                      and not Source.objects.filter(channel=channel).exclude(error="").exists(), 30)

    embedding.embedding_status = 503  # now the question cannot be embedded: the full-text order stands
    answer = chat(api, key, QUESTION, session_id="s-2")
    assert answer.status_code == 200 and len(answer.json()["sources"]) == 4
    assert Message.objects.filter(session__channel=channel, role="assistant").order_by("-id")[0].prompt_tokens == 11
