"""Session namespaces, and the widget's server-issued session ids (docs/widget.md).

A secret key's sessions ("api") and a publishable key's ("widget") are apart:
the namespace comes from the verified key's kind, never from the request. A
widget page cannot choose its session id either: it asks `POST
/api/widget-session` for one, so nobody can guess another visitor's.

An issued id is `ws_` + 128 random bits + a 128-bit HMAC-SHA256 of them bound
to the channel's public id, all in hex: the server checks it was issued for
this channel without storing it. The MAC key is derived from SECRET_KEY (and
still accepts SECRET_KEY_FALLBACKS during a rotation); rotating SECRET_KEY past
its fallbacks makes widgets fetch new ids (their old conversations stay for the
owner and the backend to read).
"""

import hmac
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

from channels_app.credentials import VerifiedKey
from gateway.infra.errors import InvalidInput

PREFIX = "ws_"
_NONCE_BYTES = 16
_MAC_HEX = 32  # 128 bits of the HMAC-SHA256
_SALT = "ai-gateway.widget-session"
LENGTH = len(PREFIX) + 2 * _NONCE_BYTES + _MAC_HEX


class InvalidSessionId(InvalidInput):
    message = "Invalid session_id"


def issue(public_id) -> str:
    """A new, unguessable widget session id for the channel `public_id`."""
    return signed(public_id, secrets.token_bytes(_NONCE_BYTES))


def signed(public_id, nonce: bytes) -> str:
    """The session id made of `nonce` for the channel `public_id` (issue() draws the nonce)."""
    return PREFIX + nonce.hex() + _mac(public_id, nonce.hex(), settings.SECRET_KEY)


def is_issued(public_id, session_id: str) -> bool:
    """Whether `session_id` is one issue() made for the channel `public_id` (under a current or retired SECRET_KEY)."""
    if len(session_id) != LENGTH or not session_id.startswith(PREFIX):
        return False
    nonce, mac = session_id[len(PREFIX) : len(PREFIX) + 2 * _NONCE_BYTES], session_id[-_MAC_HEX:]
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        if hmac.compare_digest(mac, _mac(public_id, nonce, secret)):
            return True
    return False


def check(key: VerifiedKey, session_id: str) -> None:
    """Refuse a publishable key's session_id that was not issued for its channel. Call once the key is verified."""
    if key.publishable and not is_issued(key.channel.public_id, session_id):
        raise InvalidSessionId()


def _mac(public_id, nonce_hex: str, secret: str) -> str:
    return salted_hmac(_SALT, f"{public_id}:{nonce_hex}", secret=secret, algorithm="sha256").hexdigest()[:_MAC_HEX]
