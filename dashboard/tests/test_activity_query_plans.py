"""The activity log's pages on PostgreSQL: each filter is served by an index walked in the page's order, never by a
scan or a sort of the channel's (or the organisation's) whole log. Timings at 10 M rows: docs/performance.md."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from conversations.models import Activity
from dashboard.activity_selectors import PER_PAGE, Filters, activity_rows, older_than

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's"),
]


@pytest.fixture
def seeded(channel, other_channel_and_key):
    now = timezone.now()
    # One statement per channel (the ORM's objects took most of a minute for these rows); every 50th failed.
    seed = f"""
        INSERT INTO {Activity._meta.db_table}
            (channel_id, organisation_id, created_at, api_key_id, key_name, source, endpoint, session_id, model,
             status, outcome, error)
        SELECT %(channel)s, %(organisation)s, %(now)s - i * interval '1 second', %(key)s, '', 'api', 'chat', '', 'm',
               CASE WHEN i %% 50 = 0 THEN 500 ELSE 200 END, CASE WHEN i %% 50 = 0 THEN 'failed' ELSE 'answered' END, ''
        FROM generate_series(0, %(n)s - 1) AS i
    """
    with connection.cursor() as cursor:
        for target, n in ((channel, 500), (other_channel_and_key[0], 20000)):  # the channel: a small part of the table
            cursor.execute(seed, {"channel": target.pk, "organisation": target.organisation_id, "now": now,
                                  "key": target.api_keys.first().pk, "n": n})
        cursor.execute("ANALYZE conversations_activity")
        cursor.execute("SET enable_seqscan = off")
    return channel


def _plan(rows) -> str:
    text = rows[: PER_PAGE + 1].explain()
    assert "Seq Scan" not in text and "Sort" not in text, text
    return text


@pytest.mark.parametrize(("filters", "index"), [
    (Filters(), "activity_channel_recent"),
    (Filters(outcome="failed"), "activity_channel_outcome"),
    (Filters(status=418), "activity_channel_status"),
    (Filters(model="nothing-used-it"), "activity_channel_model"),
    (Filters(since=timezone.now() - dt.timedelta(hours=1)), "activity_channel_recent"),
    (Filters(outcome="answered"), "activity_channel_recent"),
])
def test_a_channels_page_walks_its_index(seeded, filters, index):
    assert index in _plan(activity_rows(channel=seeded, filters=filters))


def test_a_code_of_another_outcome_than_the_one_asked_is_nothing(seeded):
    assert not activity_rows(channel=seeded, filters=Filters(outcome="failed", status=200)).exists()
    assert activity_rows(channel=seeded, filters=Filters(outcome="failed", status=500)).count() == 10


def test_a_keys_page_walks_the_key_index(seeded):
    key = seeded.api_keys.first()
    filters = Filters(key_id=key.pk, key_channel_id=seeded.pk)
    assert "activity_channel_key" in _plan(activity_rows(channel=seeded, filters=filters))
    assert "activity_channel_key" in _plan(activity_rows(organisation=seeded.organisation, filters=filters))


def test_an_older_page_walks_the_same_index_without_offset(seeded):
    rows = activity_rows(channel=seeded)
    last = list(rows[:PER_PAGE])[-1]
    text = _plan(older_than(rows, (last.created_at, last.pk)))
    assert "activity_channel_recent" in text and "OFFSET" not in text.upper()


@pytest.mark.parametrize(("filters", "index"), [(Filters(), "activity_org_recent"),
                                                (Filters(outcome="failed"), "activity_org_outcome"),
                                                (Filters(status=429), "activity_org_status"),
                                                (Filters(model="nothing-used-it"), "activity_org_model")])
def test_the_organisations_page_walks_its_index(seeded, filters, index):
    assert index in _plan(activity_rows(organisation=seeded.organisation, filters=filters))
