"""The key-redacting log filter (gateway/infra/log_redaction.py) on its own: what it rewrites and what it keeps."""

import io
import logging

import pytest

from gateway.infra.log_redaction import RedactKeysFilter, redact

PK = "amgpk_" + "A1b2C3d4" * 6
SK = "amgai_" + "Z9y8X7w6" * 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/api/chat?key={PK}&x=1", "/api/chat?key=[redacted]&x=1"),
        (f"/api/history?session_id=s&k%65y=%61mgpk_{PK[6:]}", "/api/history?session_id=s&k%65y=[redacted]"),
        (f"/api/history?KEY={SK}", "/api/history?KEY=[redacted]"),
        (f"/api/history?other=%61mgai_{SK[6:]}", "/api/history?other=[redacted]"),
        (f"Not Found: /dashboard/{SK}/", "Not Found: /dashboard/amgai_[redacted]/"),
        ("/api/history?session_id=key&keys=1&monkey=2", "/api/history?session_id=key&keys=1&monkey=2"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_the_filter_keeps_the_arguments_shape_and_redacts_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactKeysFilter())
    logger = logging.getLogger("gateway.tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", f"/api/widget-config?key={PK}", "1.1", 200)
        try:
            raise ValueError(f"bad key {SK}")
        except ValueError:
            logger.exception("failed for %s", {"key": SK})
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert '"GET /api/widget-config?key=[redacted] HTTP/1.1" 200' in out
    assert "ValueError: bad key amgai_[redacted]" in out
    assert PK[6:] not in out and SK[6:] not in out
