"""The chat body's fast path (serializers.plainly_valid_chat) never accepts what ChatInput refuses, and never
validates to anything else: for any input it accepts, the serializer accepts it too, with equal data.

The serializer stays the contract (its errors, the schema); the fast path only skips its field machinery for
plainly valid bodies, and everything else falls through to it.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.edge.serializers import (
    MESSAGE_MAX,
    SESSION_ID_MAX,
    TITLE_MAX,
    URL_MAX,
    ChatInput,
    plainly_valid_chat,
)
from gateway.testing.api import chat

# Text near every rule: whitespace of all kinds, NUL, controls, separators, surrogates, non-ASCII, and lengths
# around each limit.
TRICKY = ["", " ", "\t", "\n", "\u2028", "\u00a0", "\u3000", "\x00", "a\x00", "\x7f", "\x85", "\ud800", "a\udfff",
          "\u00ad", "\u200b", "é", "漢字", "😀", "ok", " ok ", "ok\n", "x" * TITLE_MAX, "x" * (TITLE_MAX + 1),
          "x" * MESSAGE_MAX, "x" * (MESSAGE_MAX + 1), "x" * SESSION_ID_MAX, "x" * (SESSION_ID_MAX + 1),
          "https://shop.example/p/1", "HTTPS://[::1]:8080/a?b#c", "http://shop.example/\n", "ftp://x", "https://",
          "https://a b", "https://shop.example/" + "p" * (URL_MAX - 21), "https://shop.example/" + "p" * URL_MAX,
          "javascript:alert(1)", "https://user@shop.example"]
texts = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40), st.text(alphabet=st.characters(), max_size=300))
scalars = st.one_of(texts, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.just([]),
                    st.just({}))
metadata = st.one_of(
    scalars,
    st.dictionaries(st.sampled_from(["url", "title", "other", "URL"]), st.one_of(texts, st.none(), st.integers()), max_size=3),
)
plain = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Zs", "Zl", "Zp"]), min_size=1, max_size=30)
urls = st.one_of(st.sampled_from(TRICKY), st.builds(lambda scheme, rest: scheme + rest,
                  st.sampled_from(["https://", "http://", "HTTP://", "ftp://", ""]), st.text(max_size=30)))
bodies = st.one_of(
    # Valid message and session, a metadata object: its fields' rules decide.
    st.fixed_dictionaries(
        {"message": plain, "session_id": plain,
         "metadata": st.fixed_dictionaries({}, optional={"url": st.one_of(urls, st.none()), "title": st.one_of(texts, st.none())})},
    ),
    # Valid message and session: the metadata and stream rules decide.
    st.fixed_dictionaries(
        {"message": plain, "session_id": plain},
        optional={"metadata": metadata, "stream": st.one_of(st.booleans(), st.none(), texts)},
    ),
    st.fixed_dictionaries(
        {"message": texts, "session_id": texts},
        optional={"metadata": metadata, "stream": st.one_of(st.booleans(), st.none(), st.integers(0, 1), texts)},
    ),
    st.dictionaries(st.sampled_from(["message", "session_id", "metadata", "stream", "model", "Message"]), scalars, max_size=5),
    scalars,
)


def serializer_answer(body):
    serializer = ChatInput(data=body)
    return serializer.validated_data if serializer.is_valid() else None


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_the_fast_path_accepts_only_what_the_serializer_accepts_with_the_same_data(body):
    fast = plainly_valid_chat(body)
    if fast is not None:
        assert serializer_answer(body) == fast
    # And whatever the path, `validated` answers as the serializer does.
    expected = serializer_answer(body)
    if expected is None:
        with pytest.raises(Exception) as refused:
            ChatInput.validated(body)
        assert type(refused.value).__name__ == "ValidationError"
    else:
        assert ChatInput.validated(body) == expected


@pytest.mark.parametrize("body", [
    {"message": "Hello!", "session_id": "s-1"},
    {"message": "Hello!", "session_id": "s-1", "stream": True},
    {"message": "Hallo, wie geht's? 😀", "session_id": "visitor-7", "metadata": None},
    {"message": "x" * MESSAGE_MAX, "session_id": "s" * SESSION_ID_MAX, "metadata": {}},
    {"message": "Which kettle?", "session_id": "s", "metadata": {"url": "https://shop.example/p/1", "title": "Blue mug — 1 l"}},
    {"message": "Which kettle?", "session_id": "s", "metadata": {"url": ""}},
    {"message": "line one\nline two", "session_id": "s", "metadata": {"title": ""}},
])
def test_every_common_body_takes_the_fast_path(body):
    # Else the path would exist and cost without saving anything.
    assert plainly_valid_chat(body) == serializer_answer(body) != None  # noqa: E711


@pytest.mark.parametrize("body", [
    {"message": "hi", "session_id": "s", "metadata": {"url": None}},  # present but null: refused
    {"message": "hi", "session_id": "s", "metadata": {"title": "a\u00adb"}},  # printable? no; allowed? the serializer decides
    {"message": "hi", "session_id": "s", "stream": None},
    {"message": " ", "session_id": "s"},
    {"message": "hi", "session_id": "s", "extra": 1},
])
def test_anything_needing_judgement_goes_to_the_serializer(body):
    assert plainly_valid_chat(body) is None


def test_the_contracts_errors_still_come_from_the_serializer_over_http(api, llm, key):
    # One per rule the fast path checks, through real HTTP: each is refused with the contract's words.
    cases = [
        ({"message": "", "session_id": "s"}, "message must not be empty"),
        ({"message": "hi", "session_id": "s" * (SESSION_ID_MAX + 1)}, f"session_id must be at most {SESSION_ID_MAX} characters"),
        ({"message": "hi", "session_id": "s", "metadata": {"url": "ftp://x"}}, "metadata.url must be an absolute http or https URL"),
        ({"message": "hi", "session_id": "s", "metadata": {"title": "a\nb"}},
         "metadata.title must be one line of text, without line breaks or control characters"),
        ({"message": "hi", "session_id": "s", "stream": "yes"}, "stream must be true or false"),
        ({"message": "hi", "session_id": "s", "metadata": {"url": None}}, "metadata.url must be a string"),
    ]
    for body, error in cases:
        r = api.post("/api/chat", json=body, headers={"X-API-Key": key})
        assert (r.status_code, r.json()) == (400, {"error": error}), body
    assert chat(api, key, "Hello!").status_code == 200
