"""On PostgreSQL, the owner pages' queries are served by indexes, never by scanning a channel's history.

The planner is asked with sequential scans discouraged (enable_seqscan off), as a table of millions of rows
would make it choose anyway: the test shows that an index serves each query and which one, not the cost
on a small table. docs/performance.md has the timings at 1 M and more messages.
"""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from conversations import seeding
from conversations.models import Message, Session, UsageDay, UsageLatency
from dashboard import transcripts

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
]


@pytest.fixture
def seeded(channel, other_channel_and_key):
    seeding.seed(channel=channel, sessions=400, days=5)
    seeding.seed(channel=other_channel_and_key[0], sessions=20000, days=5)  # the channel is a small part of the table
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SET enable_seqscan = off")
    return channel


def plan(queryset) -> str:
    return queryset.explain()


def assert_no_seq_scan(text: str) -> None:
    assert "Seq Scan" not in text, text


def test_the_conversations_list_walks_the_keyset_index(seeded):
    found = transcripts.sessions_for_channel(channel=seeded)
    text = plan(found[: transcripts.SESSIONS_PER_PAGE + 1])
    assert "session_channel_recent_id" in text and "Sort" not in text.split("SubPlan")[0], text
    assert_no_seq_scan(text)
    older = transcripts.sessions_page(channel=seeded).older
    micros, pk = (int(x) for x in older.split("_"))
    at = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)
    next_page = found.filter(started_at__lte=at).exclude(started_at=at, id__gte=pk)
    text = plan(next_page[: transcripts.SESSIONS_PER_PAGE + 1])
    assert "session_channel_recent_id" in text and "OFFSET" not in text.upper()
    assert_no_seq_scan(text)


def test_the_source_filter_has_its_own_index(seeded):
    text = plan(transcripts.sessions_for_channel(channel=seeded, source="widget")[:26])
    assert "session_channel_source_recent" in text
    assert_no_seq_scan(text)


@pytest.mark.parametrize(("field", "index"), [("first_message", "session_first_message_trgm")])
def test_search_uses_the_trigram_indexes(seeded, other_channel_and_key, field, index):
    """The first message's search has its trigram index. At this size the planner still prefers the channel's
    keyset index for session_id and for the OR of both (its trigram estimate for short ids is high); at a
    million threads it takes the trigram indexes (docs/performance.md shows the plans)."""
    busy = other_channel_and_key[0]
    one = Session.objects.filter(channel=busy).order_by("id")[12345]
    term = getattr(one, field) if field == "first_message" else one.session_id.rsplit("-", 1)[1]  # "12345"
    text = plan(Session.objects.filter(channel=busy, **{f"{field}__icontains": term}))
    assert index in text
    assert_no_seq_scan(text)
    assert transcripts.sessions_page(channel=busy, search=term).object_list == [one]


@pytest.mark.parametrize(("field", "index"), [("session_id", "session_channel_id_recent"),
                                               ("first_message", "session_first_message_exact")])
def test_an_exact_search_walks_its_index_in_the_lists_order(seeded, other_channel_and_key, field, index):
    """A pasted id or first message reads a page of index entries in keyset order: no trigram bitmap, no sort."""
    busy = other_channel_and_key[0]
    one = Session.objects.filter(channel=busy).order_by("id")[12345]
    found = transcripts.sessions_for_channel(channel=busy, search=getattr(one, field))
    text = plan(found[: transcripts.SESSIONS_PER_PAGE + 1])
    assert index in text and "trgm" not in text and "Sort" not in text.split("SubPlan")[0], text
    assert_no_seq_scan(text)
    assert transcripts.sessions_page(channel=busy, search=getattr(one, field)).object_list == [one]


def _admin_list(model, **params):
    """The query of an admin change list, as Django's ChangeList builds it for these parameters."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/", params)
    request.user = get_user_model()(username="plans", is_staff=True, is_superuser=True, is_active=True)
    return admin.site.get_model_admin(model).get_changelist_instance(request).queryset


def test_the_admin_messages_of_a_channel_are_found_through_indexes(seeded, other_channel_and_key):
    for channel in (seeded, other_channel_and_key[0]):  # a small and a large part of the table
        found = _admin_list(Message, session__channel__id__exact=str(channel.pk))
        text = plan(found[:51])  # NextPagePaginator: a page and one row, no count
        # The channel's threads newest first through an index on their start (the channel's own, or the table's
        # when the channel is most of it), each one's messages by its session: a page of threads, sorted within.
        assert "session_channel_recent_id" in text or "session_started" in text, text
        assert "conversations_message_session_id" in text and "Presorted Key: conversations_session.started_at" in text, text
        assert_no_seq_scan(text)
        assert {m.session.channel_id for m in found[:51]} == {channel.pk}


def test_the_admin_live_sessions_walk_the_expiry_index(seeded):
    found = _admin_list(Session, state="live")
    text = plan(found[:51])
    assert "session_expires_recent" in text and "Sort" not in text.split("SubPlan")[0], text
    assert_no_seq_scan(text)
    now = timezone.now()
    rows = list(found[:51])
    assert rows and all(s.expires_at > now for s in rows)
    assert [s.expires_at for s in rows] == sorted((s.expires_at for s in rows), reverse=True)


def test_the_usage_page_and_cards_read_the_roll_up_index(seeded):
    today = timezone.now().date()
    text = plan(UsageDay.objects.filter(channel=seeded, day__gte=today - dt.timedelta(days=30), day__lte=today))
    assert "usageday_channel_day_shard" in text
    assert_no_seq_scan(text)
    text = plan(UsageLatency.objects.filter(channel=seeded, day__gte=today - dt.timedelta(days=30)))
    assert "usagelatency_channel_day_bucket_shard" in text
    assert_no_seq_scan(text)


def test_the_channel_card_sums_todays_shards_and_finds_the_last_chat_through_the_roll_up_index(seeded):
    """The card's two subqueries (today's answered chats, the latest chat) read a channel's few shard rows of
    one day through the unique index, never all its days."""
    from django.test.utils import CaptureQueriesContext

    from dashboard import selectors as dashboard_selectors

    for shard in range(1, 8):  # a busy day: every shard has a row
        UsageDay.objects.create(channel=seeded, day=timezone.now().date(), shard=shard, answered=1,
                                last_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_usageday")
    with CaptureQueriesContext(connection) as queries:
        dashboard_selectors.channel_card(seeded)
    [sql] = [q["sql"] for q in queries.captured_queries if "conversations_usageday" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        text = "\n".join(row[0] for row in cursor.fetchall())
    assert text.count("usageday_channel_day_shard") == 2, text
    assert "Presorted Key" in text, text  # the latest chat: the index gives the latest day, its shards are sorted
    assert_no_seq_scan(text)


def test_the_admin_model_filter_uses_its_partial_index(seeded):
    session = Session.objects.filter(channel=seeded).first()
    Message.objects.create(session=session, role="assistant", content="a", created_at=timezone.now(), model="gemma2-9b-it")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")
    text = plan(Message.objects.filter(role="assistant", model="gemma2-9b-it").order_by("-pk")[:100])
    assert "message_model" in text
    assert_no_seq_scan(text)


def test_a_phrase_asks_the_trigram_index_for_its_rarest_looking_word_only(seeded, other_channel_and_key):
    # At this size the planner walks the channel's index for the OR of both fields (see above); at 50 M messages
    # it takes the trigram indexes, with the word alone in their Index Cond (docs/performance.md: 720 → 6.6 ms).
    # Here: what the query asks those indexes for, and that it finds the thread.
    busy = other_channel_and_key[0]
    one = Session.objects.filter(channel=busy).order_by("id")[12345]
    number = one.first_message.split(" ")[1]
    phrase = f"{number} about my"  # a number shorter than "about" is still the word asked for
    found = transcripts.containing(Session.objects.filter(channel=busy), phrase)
    sql, params = found.query.sql_with_params()
    likes = [p for p in params if isinstance(p, str) and p.startswith("%")]
    assert likes == [f"%{number}%", f"%{number}%"], (sql, params)  # session_id and first_message: the word only
    assert sql.count("STRPOS") == 2 and params.count(phrase) == 2  # the whole phrase, checked on the rows found
    assert list(found) == [one]
