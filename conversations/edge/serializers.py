"""Input shapes of the public API. The first problem becomes one readable message."""

import re
import unicodedata

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from gateway.overrides.light_serializer import (
    LightSerializer,  # shallow field copies instead of DRF's deep ones, for speed
)

MESSAGE_MAX = 2000
SESSION_ID_MAX = 255
URL_MAX = 2048
TITLE_MAX = 200


# Whitespace as str.strip and str.isspace read it, spelled out: `\s` differs between Python's and ECMAScript's
# regular expressions (\x1c-\x1f and \x85 are whitespace only in Python, \ufeff only in ECMAScript), and the
# schema's pattern must refuse exactly what Text refuses in both.
WHITESPACE = r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SOME_TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"  # not blank, no NUL
_ANY_TEXT = RegexValidator(r"^[^\x00]*$")
_SOME_TEXT = RegexValidator(SOME_TEXT_PATTERN)
# For the schema only, like the two above: no C0/C1 control characters, no line or paragraph separators.
_ONE_LINE = RegexValidator(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$")


class Text(serializers.CharField):
    """A string and nothing else: no numbers coerced, no NUL, nothing the database can't store."""

    def __init__(self, *, name: str, max_length: int, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        messages = {
            "required": f"{name} is required",
            "null": f"{name} must be a string",
            "invalid": f"{name} must be a string",
            "blank": f"{name} must not be empty",
            "max_length": f"{name} must be at most {max_length} characters",
            "nul": f"{name} must not contain NUL characters",
            "encoding": f"{name} must be valid Unicode text",
        }
        # Never fails (to_internal_value already refused such text with a clearer
        # message); it puts the same rule into the OpenAPI schema as a pattern.
        # Built once: DRF re-runs __init__ for every field of every request's serializer.
        kwargs["validators"] = [_ANY_TEXT if kwargs.get("allow_blank") else _SOME_TEXT]
        super().__init__(max_length=max_length, error_messages=messages, **kwargs)
        # CharField adds a validator looping over every character in Python for surrogates, which
        # to_internal_value has already refused ("encoding"): it could never fail, and it cost a chat
        # ~5 % of its validation (docs/performance.md).
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitSurrogateCharactersValidator)]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            self.fail("nul")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates from "\ud800"-style escapes
            self.fail("encoding")
        if not self.allow_blank and not data.strip():
            self.fail("blank")
        return super().to_internal_value(data)


class OneLine(Text):
    """Text on one line: no line breaks, tabs or other control characters (C0, DEL, C1, U+2028, U+2029).

    Refused rather than collapsed: text bound for a model's context should arrive
    as sent or not at all, and the widget already sends document.title, which
    browsers collapse to one line.
    """

    def __init__(self, *, name: str, max_length: int, **kwargs):
        super().__init__(name=name, max_length=max_length, **kwargs)
        self.error_messages["one_line"] = f"{name} must be one line of text, without line breaks or control characters"
        self.validators = [_ONE_LINE if v in (_ANY_TEXT, _SOME_TEXT) else v for v in self.validators]

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        # Cc, Zl and Zp are all non-printable to str.isprintable: printable text skips the per-character loop.
        if not value.isprintable() and any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
            self.fail("one_line")
        return value


# An absolute http(s) URL in printable ASCII, as a browser's location.href is (percent-encoded): a
# host (a name, an address, or an [IPv6] literal), an optional port, then anything without spaces.
# One pattern, so the schema's `pattern` (ECMA) and the check here (Python) accept exactly the same
# strings; "" is the same as no URL.
HTTP_URL_PATTERN = (
    r"^(?:|[Hh][Tt][Tt][Pp][Ss]?://(?:[!-~]*@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::[0-9]{1,5})?(?:[/?#][!-~]*)?)$"
)
_HTTP_URL = RegexValidator(HTTP_URL_PATTERN, message="metadata.url must be an absolute http or https URL")
_HTTP_URL_RE = re.compile(HTTP_URL_PATTERN)


def is_http_url(value: str) -> bool:
    return _HTTP_URL_RE.fullmatch(value) is not None  # fullmatch: "$" alone would let a final "\n" through


class HttpUrl(Text):
    """An absolute http:// or https:// URL (or "", the same as absent)."""

    def __init__(self, *, name: str, max_length: int, **kwargs):
        super().__init__(name=name, max_length=max_length, **kwargs)
        self.error_messages["url"] = f"{name} must be an absolute http or https URL"
        # Last, so a URL too long is reported as too long.
        self.validators = [v for v in self.validators if v not in (_ANY_TEXT, _SOME_TEXT)] + [_HTTP_URL]

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        # Too long is reported as too long (the length validator runs after this).
        if value and len(value) <= self.max_length and not is_http_url(value):
            self.fail("url")
        return value


class Flag(serializers.BooleanField):
    """true or false, and nothing else ("yes", 1 and "true" are errors)."""

    def __init__(self, *, name: str, **kwargs):
        super().__init__(error_messages={"invalid": f"{name} must be true or false"}, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializer(LightSerializer):
    """Refuses fields it does not know, so a typo is an error rather than silently ignored."""

    label_prefix = ""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({"non_field_errors": [f"Unknown field: {self.label_prefix}{unknown[0]}"]})
        return super().to_internal_value(data)


class MetadataInput(StrictSerializer):
    """Optional context about the page the user is on: `url` an absolute http(s) URL, `title` one line.
    The model gets it as data, never as instructions."""

    # It reaches the model only as escaped JSON in a message of its own, never in the
    # system message (conversations/engine/prompt.py).

    default_error_messages = {"invalid": "metadata must be a JSON object"}
    label_prefix = "metadata."

    url = HttpUrl(name="metadata.url", max_length=URL_MAX, required=False, allow_blank=True)
    title = OneLine(name="metadata.title", max_length=TITLE_MAX, required=False, allow_blank=True)


class ChatInput(StrictSerializer):
    """A user message. Unknown fields are refused."""

    default_error_messages = {"invalid": "Request body must be a JSON object"}

    message = Text(name="message", max_length=MESSAGE_MAX)
    session_id = Text(name="session_id", max_length=SESSION_ID_MAX)
    metadata = MetadataInput(required=False, allow_null=True)
    stream = Flag(name="stream", required=False, default=False)

    def validate(self, attrs):
        attrs["metadata"] = attrs.get("metadata") or {}
        return attrs

    @classmethod
    def validated(cls, data) -> dict:
        """`data`'s validated fields, or DRF's ValidationError worded as the contract says.

        Nearly every chat is plainly valid, and `plainly_valid_chat` accepts those without DRF's
        field machinery (≈ 0.1 ms of CPU a chat, docs/performance.md, "the no-framework floor"). Whatever it is not
        sure of goes through this serializer, which alone words the errors and stays the contract
        and the schema. conversations/tests/test_chat_input_fast_path.py holds the two to the same
        answer for any input the fast path accepts.
        """
        fields = plainly_valid_chat(data)
        if fields is not None:
            return fields
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _plain_text(value, max_length: int, *, blank: bool) -> bool:
    """`value` is text that `Text` accepts as it is: a str, not too long, no NUL, valid Unicode, not blank
    (unless `blank`). Blank is what Text refuses: empty or whitespace only (str.strip and the patterns'
    whitespace class read whitespace alike, Py_UNICODE_ISSPACE)."""
    if type(value) is not str or len(value) > max_length or "\x00" in value:
        return False
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return False
    return blank or not (value == "" or value.isspace())


_CHAT, _METADATA = ChatInput().fields, MetadataInput().fields  # the serializers' own fields: one home for each limit
_CHAT_FIELDS, _METADATA_FIELDS = frozenset(_CHAT), frozenset(_METADATA)
_MESSAGE_MAX, _SESSION_ID_MAX = _CHAT["message"].max_length, _CHAT["session_id"].max_length
_URL_MAX, _TITLE_MAX = _METADATA["url"].max_length, _METADATA["title"].max_length


def plainly_valid_chat(data) -> dict | None:
    """ChatInput's validated data for a body it plainly accepts; None for anything else (the serializer decides).

    Accepts only what needs no judgement: known fields of the right JSON types within their limits, a URL
    that is empty or matches HTTP_URL_PATTERN, a title that is printable (so on one line). Builds what the
    serializer builds: the fields in its order, `stream` False when absent, `metadata` {} when absent or null.
    """
    if type(data) is not dict or not _CHAT_FIELDS.issuperset(data):
        return None
    message, session_id = data.get("message"), data.get("session_id")
    if not (_plain_text(message, _MESSAGE_MAX, blank=False) and _plain_text(session_id, _SESSION_ID_MAX, blank=False)):
        return None
    stream = data.get("stream", False)
    if type(stream) is not bool:
        return None
    metadata = data.get("metadata")
    if metadata is None:
        metadata = {}
    else:
        if type(metadata) is not dict or not _METADATA_FIELDS.issuperset(metadata):
            return None
        if "url" in metadata:  # present: a string (null is an error, as for the serializer)
            url = metadata["url"]
            if not (_plain_text(url, _URL_MAX, blank=True) and (url == "" or is_http_url(url))):
                return None
        if "title" in metadata:
            title = metadata["title"]
            if not (_plain_text(title, _TITLE_MAX, blank=True) and title.isprintable()):
                return None
        metadata = {name: metadata[name] for name in ("url", "title") if name in metadata}
    return {"message": message, "session_id": session_id, "stream": stream, "metadata": metadata}


_SOURCE_CHOICE = 'source must be "api" or "widget"'


class HistoryInput(LightSerializer):
    """The query of GET /api/history. `source` picks the session namespace; by default the key's own."""

    session_id = Text(name="session_id", max_length=SESSION_ID_MAX)
    source = serializers.ChoiceField(
        choices=["api", "widget"],
        required=False,
        help_text=(
            "The session namespace to read. Default: the key's own (a secret key's `api` sessions, a publishable "
            "key's `widget` sessions). A secret key may read a widget session with `widget` (read-only)."
        ),
        error_messages={"invalid_choice": _SOURCE_CHOICE, "blank": _SOURCE_CHOICE, "invalid": _SOURCE_CHOICE},
    )

    def validate(self, attrs):
        # DRF reads an empty query parameter as an absent one (`?source=` would mean the default): refuse it.
        if "source" in self.initial_data and not self.initial_data.get("source"):
            raise serializers.ValidationError({"source": _SOURCE_CHOICE})
        return attrs
