import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from gateway.infra.endpoints import API, family_of, max_body_bytes
from gateway.infra.errors import InvalidInput, PayloadTooLarge


class BoundedJSONParser(BaseParser):
    """Strict JSON with a byte cap, its path's family's (gateway/infra/endpoints.py): an oversized body is a 413,
    never parsed."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        family = family_of(request.path_info) if request is not None else None
        limit = max_body_bytes(family or API)
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
