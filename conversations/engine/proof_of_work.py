"""The widget's proof of work: ALTCHA challenges (the `altcha` library, self-hosted, no third-party calls).

A channel with `widget_pow_required` accepts a widget chat only with a solved
challenge in the `X-Altcha` header: the base64 JSON payload of ALTCHA's
protocol v1 (find the number n ≤ maxNumber with SHA-256(salt + n) = challenge).
A challenge is signed with an HMAC key derived from SECRET_KEY, names its
channel, expires after WIDGET_POW_EXPIRES_SECONDS, and is good for one chat:
its use is remembered by the limit counters (an atomic add) until it expires.
The check comes before every counter, so a refused chat counts and spends nothing.
"""

import datetime as dt
import hashlib
import hmac
import logging
import urllib.parse

import altcha
from django.conf import settings

from channels_app.models import Channel
from conversations.engine import counters
from gateway.infra.errors import ProofOfWorkInvalid, ProofOfWorkRequired, ProofOfWorkReused

logger = logging.getLogger(__name__)
_ALGORITHM = "SHA-256"
_PAYLOAD_MAX_LENGTH = 2000  # a real payload is ~300 characters; a longer header is not worth decoding


def _hmac_key() -> bytes:
    # Its own key, derived: a leaked challenge signature says nothing about SECRET_KEY's other uses.
    return hmac.new(settings.SECRET_KEY.encode(), b"widget proof of work (ALTCHA)", hashlib.sha256).digest()


def challenge_create(channel: Channel) -> dict:
    """A fresh challenge for `channel`, in ALTCHA's JSON form (algorithm, challenge, maxNumber, salt, signature)."""
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=settings.WIDGET_POW_EXPIRES_SECONDS)
    challenge = altcha.create_challenge_v1(
        algorithm=_ALGORITHM, max_number=settings.WIDGET_POW_MAX_NUMBER, hmac_key=_hmac_key(),
        expires=expires, params={"channel": str(channel.public_id)},
    )
    return challenge.to_dict()


async def solution_redeem(channel: Channel, payload: str) -> None:
    """Accept `payload` (the X-Altcha header) once, for `channel`; raise the API's 403 otherwise.

    Its use is remembered by the limit counters (conversations/engine/counters), so
    with those unavailable it fails closed as they do: 503.
    """
    if not payload:
        raise ProofOfWorkRequired()
    salt = _verified_salt(payload)
    params = dict(urllib.parse.parse_qsl(salt.split("?", 1)[1] if "?" in salt else ""))
    if params.get("channel") != str(channel.public_id):
        raise ProofOfWorkInvalid()
    expires = int(params["expires"])  # every challenge we sign has one
    remaining = max(1, expires - int(dt.datetime.now(dt.timezone.utc).timestamp()) + 5)
    if not await counters.backend().add_once(f"pow:used:{hashlib.sha256(salt.encode()).hexdigest()}", remaining):
        raise ProofOfWorkReused()


def _verified_salt(payload: str) -> str:
    """The salt of a correctly solved, unexpired challenge we signed; ProofOfWorkInvalid for anything else."""
    if len(payload) > _PAYLOAD_MAX_LENGTH:
        raise ProofOfWorkInvalid()
    try:
        decoded = altcha.PayloadV1.from_base64(payload)
        if decoded.algorithm != _ALGORITHM:
            raise ValueError("algorithm")
        ok, _ = altcha.verify_solution_v1(decoded, _hmac_key(), check_expires=True)
    except Exception:  # not base64, not JSON, not an object, missing fields: all one answer
        ok = False
    if not ok:
        raise ProofOfWorkInvalid()
    return decoded.salt
