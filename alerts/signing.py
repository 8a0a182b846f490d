"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the channel's webhook secret.

A receiver recomputes it from the X-Gateway-Timestamp header and the raw body,
compares in constant time, and refuses timestamps older than a few minutes
(replays). docs/operations.md shows a receiver's check.
"""

import hashlib
import hmac
import secrets
import time

PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def generate_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Gateway-Signature header's value: "v1=<hex>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None) -> bool:
    """What a receiver does: a fresh timestamp and a matching signature."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((now or time.time()) - ts) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)
