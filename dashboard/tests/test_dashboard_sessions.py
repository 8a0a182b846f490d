"""/dashboard/channels/<id>/conversations/: sessions newest first, search, pages, expired marks."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Message, Session
from dashboard.transcripts import SESSIONS_PER_PAGE

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def _session(channel, session_id, *, started_minutes_ago=0, thread=1, expired=False):
    started = timezone.now() - timedelta(minutes=started_minutes_ago)
    expires = timezone.now() - timedelta(minutes=1) if expired else started + timedelta(hours=24)
    session = Session.objects.create(
        channel=channel, session_id=session_id, thread=thread, started_at=started, expires_at=expires
    )
    Message.objects.create(session=session, role="user", content="hi", created_at=started)
    return session


def _url(channel):
    return f"/dashboard/channels/{channel.public_id}/conversations/"


def test_it_lists_sessions_newest_first(owner_web, channel):
    _session(channel, "sess-early", started_minutes_ago=30)
    _session(channel, "sess-late", started_minutes_ago=1)
    page = owner_web.get(_url(channel)).text
    assert page.index("sess-late") < page.index("sess-early")
    assert f"/dashboard/channels/{channel.public_id}/conversations/1/sess-late" in page


def test_it_marks_expired_threads(owner_web, channel):
    _session(channel, "gone", expired=True)
    _session(channel, "gone", thread=2)
    page = owner_web.get(_url(channel)).text
    assert "Expired" in page and "Live" in page
    assert "#1" in page and "#2" in page


def test_it_searches_by_session_id(owner_web, channel):
    _session(channel, "user-abc-123")
    _session(channel, "user-xyz-789")
    page = owner_web.get(_url(channel), params={"q": "ABC"}).text
    assert "user-abc-123" in page and "user-xyz-789" not in page


def test_it_says_when_a_search_finds_nothing(owner_web, channel):
    _session(channel, "one")
    assert "No session matches" in owner_web.get(_url(channel), params={"q": "nothing"}).text


def test_it_paginates_by_keyset_without_page_numbers(owner_web, channel):
    """"Older →" carries a cursor (no OFFSET, no COUNT), so the list costs the same on any page."""
    for i in range(SESSIONS_PER_PAGE + 3):
        _session(channel, f"sess-{i:03d}", started_minutes_ago=i)
    first = owner_web.get(_url(channel)).text
    older = re.search(r'href="\?before=([0-9_]+)" data-older', first)
    assert older and "data-newest" not in first
    second = owner_web.get(_url(channel), params={"before": older.group(1)}).text
    assert "sess-000" in first and f"sess-{SESSIONS_PER_PAGE - 1:03d}" in first
    assert f"sess-{SESSIONS_PER_PAGE:03d}" not in first
    assert f"sess-{SESSIONS_PER_PAGE:03d}" in second and f"sess-{SESSIONS_PER_PAGE + 2:03d}" in second
    assert f"sess-{SESSIONS_PER_PAGE - 1:03d}" not in second and "sess-000" not in second
    assert "data-newest" in second and "data-older" not in second
    assert "sess-000" in owner_web.get(_url(channel), params={"before": "junk"}).text  # a bad cursor: the first page


def test_threads_started_at_the_same_instant_are_each_listed_once_across_pages(owner_web, channel):
    at = timezone.now()
    for i in range(SESSIONS_PER_PAGE + 2):
        Session.objects.create(channel=channel, session_id=f"tie-{i:03d}", started_at=at, expires_at=at)
    first = owner_web.get(_url(channel)).text
    second = owner_web.get(_url(channel), params={"before": re.search(r"before=([0-9_]+)", first).group(1)}).text
    seen = re.findall(r">(tie-\d+)</a>", first) + re.findall(r">(tie-\d+)</a>", second)
    assert sorted(seen) == [f"tie-{i:03d}" for i in range(SESSIONS_PER_PAGE + 2)]


def test_it_searches_the_first_message_and_filters_by_source(owner_web, channel):
    at = timezone.now()
    Session.objects.create(channel=channel, session_id="a", started_at=at, expires_at=at, first_message="Where is my parcel?")
    Session.objects.create(channel=channel, session_id="b", started_at=at, expires_at=at, first_message="Opening hours")
    Session.objects.create(channel=channel, session_id="w", source="widget", started_at=at, expires_at=at,
                           first_message="Parcel lost")
    page = owner_web.get(_url(channel), params={"q": "PARCEL"}).text
    visitor = re.compile(r">Visitor [0-9a-f]{4}</a>")
    assert ">a</a>" in page and ">b</a>" not in page and visitor.search(page)
    page = owner_web.get(_url(channel), params={"q": "parcel", "source": "api"}).text
    assert ">a</a>" in page and not visitor.search(page)


def _thread(channel, session_id, first_message, *, minutes_ago=0):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Session.objects.create(channel=channel, session_id=session_id, started_at=at, expires_at=at,
                                  first_message=first_message)


def _listed(page) -> list[str]:
    return re.findall(r'data-label="Visitor"><a href="[^"]+">([^<]+)</a>', page)


def test_an_exact_session_id_shows_its_threads_and_a_part_of_one_still_finds_it(owner_web, channel):
    """A pasted id is an index lookup; only when no id or first message equals the search are substrings searched."""
    _thread(channel, "seed-1", "Where is my parcel?")
    Session.objects.create(channel=channel, session_id="seed-1", thread=2, started_at=timezone.now(),
                           expires_at=timezone.now())
    _thread(channel, "seed-10", "Opening hours", minutes_ago=1)
    _thread(channel, "other", "Hello", minutes_ago=2)
    exact = owner_web.get(_url(channel), params={"q": "seed-1"}).text
    assert _listed(exact) == ["seed-1", "seed-1"] and "#2" in exact
    assert _listed(owner_web.get(_url(channel), params={"q": "ED-1"}).text) == ["seed-1", "seed-1", "seed-10"]
    assert "No session matches" in owner_web.get(_url(channel), params={"q": "seed-2"}).text


def test_an_exact_first_message_shows_its_threads_and_a_part_of_one_still_finds_it(owner_web, channel):
    long_question = ("Where is my parcel? " + "I ordered it a while ago and it has not arrived yet. " * 4).strip()
    _thread(channel, "asked", long_question)
    _thread(channel, "same-start", long_question + " Also, can I change the address?", minutes_ago=1)
    _thread(channel, "short", "Where is my parcel?", minutes_ago=2)
    _thread(channel, "other", "Opening hours", minutes_ago=3)
    assert len(long_question) > 150  # longer than the indexed head: the whole message must still equal the search
    assert _listed(owner_web.get(_url(channel), params={"q": long_question.upper()}).text) == ["asked"]
    assert _listed(owner_web.get(_url(channel), params={"q": "where is my parcel?"}).text) == ["short"]
    assert _listed(owner_web.get(_url(channel), params={"q": "my parcel"}).text) == ["asked", "same-start", "short"]
    assert _listed(owner_web.get(_url(channel), params={"q": "arrived yet. Also"}).text) == ["same-start"]


def test_an_exact_match_in_another_channel_or_namespace_is_not_one(owner_web, channel, other_channel_and_key):
    _thread(other_channel_and_key[0], "shared", "Hello")
    Session.objects.create(channel=channel, source="widget", session_id="shared", started_at=timezone.now(),
                           expires_at=timezone.now(), first_message="Hello")
    _thread(channel, "shared-2", "Hello there", minutes_ago=1)
    page = owner_web.get(_url(channel), params={"q": "shared", "source": "api"}).text
    assert _listed(page) == ["shared-2"]
    page = owner_web.get(_url(channel), params={"q": "hello", "source": "api"}).text
    assert _listed(page) == ["shared-2"]


def test_it_shows_an_empty_state(owner_web, channel):
    assert "No conversations yet" in owner_web.get(_url(channel)).text


def test_it_never_lists_another_channels_sessions(owner_web, channel, other_channel_and_key):
    _session(other_channel_and_key[0], "their-session")
    assert "their-session" not in owner_web.get(_url(channel)).text


def test_it_is_a_404_for_another_owner(outsider_web, channel):
    _session(channel, "private")
    r = outsider_web.get(_url(channel))
    assert r.status_code == 404 and "private" not in r.text


def test_a_phrase_is_found_by_its_longest_word_then_checked_whole(owner_web, channel):
    # The trigram indexes look the longest word up; the whole phrase is then checked (transcripts.containing).
    _thread(channel, "a", "Question 250123 about my refund")
    _thread(channel, "b", "Question 250123 about your refund", minutes_ago=1)  # the word, not the phrase
    _thread(channel, "c", "About my refund for order 250123", minutes_ago=2)  # every word, in another order
    _thread(channel, "d", "question 1250123 ABOUT MY parcel", minutes_ago=3)
    assert _listed(owner_web.get(_url(channel), params={"q": "250123 about my"}).text) == ["a", "d"]
    assert _listed(owner_web.get(_url(channel), params={"q": "about  my"}).text) == []  # two spaces: not in any
    assert _listed(owner_web.get(_url(channel), params={"q": "my refund"}).text) == ["a", "c"]
    _thread(channel, "e", "Question 1000 about my warranty", minutes_ago=4)  # the number, shorter than "about"
    assert _listed(owner_web.get(_url(channel), params={"q": "1000 about my"}).text) == ["e"]
    assert _listed(owner_web.get(_url(channel), params={"q": "3 about my"}).text) == ["a", "d"]  # "3": too short
