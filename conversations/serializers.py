"""Input shapes of the public API. The first problem becomes one readable message."""

import copy

from django.core.validators import RegexValidator
from rest_framework import serializers

MESSAGE_MAX = 2000
SESSION_ID_MAX = 255
URL_MAX = 2048
TITLE_MAX = 500


_ANY_TEXT = RegexValidator(r"^[^\x00]*$")
_SOME_TEXT = RegexValidator(r"^[^\x00]*[^\x00\s][^\x00]*$")


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


class Flag(serializers.BooleanField):
    """true or false, and nothing else ("yes", 1 and "true" are errors)."""

    def __init__(self, *, name: str, **kwargs):
        super().__init__(error_messages={"invalid": f"{name} must be true or false"}, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class LightSerializer(serializers.Serializer):
    """A serializer whose fields are shallow copies of its declarations.

    DRF deep-copies every declared field for each serializer, re-running each
    field's __init__: profiled at a tenth of a chat's CPU. These serializers never
    change their fields' settings, so a shallow copy of each (unbound) declaration
    is as independent: binding sets attributes on the copy only.
    """

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


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
    """Optional context about the page the user is on."""

    default_error_messages = {"invalid": "metadata must be a JSON object"}
    label_prefix = "metadata."

    url = Text(name="metadata.url", max_length=URL_MAX, required=False, allow_blank=True)
    title = Text(name="metadata.title", max_length=TITLE_MAX, required=False, allow_blank=True)


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
