"""Retrieval through the configured backend (FTS5 on SQLite, tsvector on PostgreSQL): what matches, in what order."""

import pytest

from conftest import make_channel
from gateway.testing.implementations import run
from knowledge import retrieval
from knowledge.models import Chunk, Page, Source

# The search runs on a database phase of its own event loop's thread, on a connection of its own: committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def add(channel, url, title, heading, text):
    source = Source.objects.create(channel=channel, kind="text", title=title, status="ready", chunks=1)
    page = Page.objects.create(source=source, url=url, title=title, text=text)
    return Chunk.objects.create(channel=channel, source=source, page=page, url=url, title=title, heading=heading, text=text)


def search(channel, question, page_url=""):
    return run(retrieval.backend().search(channel_id=channel.pk, question=question, page_url=page_url, limit=4))


@pytest.fixture
def channels(owner, outsider):
    return make_channel(owner, credits=1)[0], make_channel(outsider, name="Other", credits=1)[0]


def test_the_best_passages_of_the_channel_alone_come_back(channels):
    mine, theirs = channels
    refunds = add(mine, "https://shop.example/returns", "Returns", "Refunds", "Refunds are paid within 14 days of the return.")
    add(mine, "https://shop.example/tea", "Tea", "Green tea", "Sencha is a steamed green tea from Japan.")
    add(theirs, "https://other.example/returns", "Returns", "Refunds", "Refunds are paid never, sorry.")

    hits = search(mine, "How long do refunds take?")

    assert [hit.chunk_id for hit in hits] == [refunds.pk]
    assert search(mine, "What about the weather on Mars?") == []
    assert search(mine, "what is the") == []  # only stop words: no search at all


def test_the_visitors_page_comes_first_and_stemming_matches_forms(channels):
    mine, _ = channels
    general = add(mine, "https://shop.example/faq", "FAQ", "Delivery", "Delivery delivery delivery takes two days everywhere.")
    local = add(mine, "https://shop.example/scotland", "Scotland", "Shipping", "Delivering to the Highlands takes four days.")

    assert search(mine, "delivery days")[0].chunk_id == general.pk
    ranked = search(mine, "delivery days", page_url="https://shop.example/scotland")
    assert [hit.chunk_id for hit in ranked] == [local.pk, general.pk]


def test_words_that_look_like_query_syntax_are_only_words(channels):
    mine, _ = channels
    chunk = add(mine, "", "Notes", "", 'The "premium" plan costs NEAR nothing - OR so they say.')
    for question in ['"premium" OR -plan', "premium* NEAR(plan)", "plan AND NOT premium", "col:premium ^plan"]:
        assert [hit.chunk_id for hit in search(mine, question)] == [chunk.pk], question


def test_a_rare_word_outranks_common_ones_and_common_words_still_find_passages(channels, settings):
    from django.db import connection

    from knowledge import services
    from knowledge.models import CommonWord

    settings.KNOWLEDGE_CANDIDATES_PER_WORD = 5  # so 40 chunks make "kettle" a common word of the channel
    mine, theirs = channels
    for i in range(40):
        add(mine, f"https://shop.example/{i}", f"Kettle {i}", "Kettle", "Our kettle boils water. The kettle kettle is steel.")
        add(theirs, f"https://other.example/{i}", "Descaling", "Descale", "Descale the kettle, descale it again.")
    descale = add(mine, "https://shop.example/care", "Care", "Care", "Descale the kettle monthly with citric acid.")
    for channel in channels:
        retrieval.backend().chunks_changed(channel.pk)
    if connection.vendor == "postgresql":  # the only backend that keeps them
        assert set(CommonWord.objects.filter(channel=mine).values_list("lexeme", flat=True)) >= {"kettl"}

    hits = search(mine, "How do I descale my kettle?")
    assert hits[0].chunk_id == descale.pk
    assert {hit.url.split("/")[2] for hit in hits} == {"shop.example"}
    common = search(mine, "kettle water steel")
    assert len(common) == 4 and descale.pk not in [hit.chunk_id for hit in common]
    assert search(mine, "kettle", page_url="https://shop.example/7")[0].url == "https://shop.example/7"

    for source in Source.objects.filter(channel=mine, title__startswith="Kettle"):
        services.source_remove(source=source)
    assert not CommonWord.objects.filter(channel=mine).exists()
    assert [hit.chunk_id for hit in search(mine, "kettle")] == [descale.pk]
