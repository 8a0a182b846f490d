import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from gateway.infra.errors import InvalidInput, PayloadTooLarge


class BoundedJSONParser(BaseParser):
    """Strict JSON with a byte cap: an oversized body is a 413, never parsed."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"Request body is too large (at most {limit} bytes)")
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except RecursionError:
            raise InvalidInput("Request body is nested too deeply") from None
        except (UnicodeDecodeError, ValueError):
            raise ParseError() from None


def _reject_constant(name: str):
    # NaN and Infinity are not JSON, though Python's parser accepts them.
    raise ValueError(name)
