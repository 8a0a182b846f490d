"""The seal of every secret stored encrypted: AES-256-GCM under KEY_ENCRYPTION_KEY, bound to its row by a context.

A context of its own per kind and row (b"provider:" + a provider's public id, b"sso-client-secret:" + an
organisation's, b"webhook-secret:" + a channel's) is the associated data, so a ciphertext copied to another row
or another kind's column does not open. Reads also accept the retired keys in KEY_ENCRYPTION_KEY_OLD until
`manage.py rotate_encryption_key` has re-sealed everything. API keys are encrypted by channels_app/keys.py with
the same nonce length and the same UndecryptableKey.

It sits in gateway.infra, below every app, because the apps that seal (channels_app, teams, alerts) share it
and none may import another's module for it; it imports nothing of the project.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_LEN = 12


class UndecryptableKey(Exception):
    """The ciphertext does not open with any configured encryption key in this context."""


def seal(secret: str, context: bytes) -> bytes:
    """AES-256-GCM under KEY_ENCRYPTION_KEY with `context` (e.g. b"provider:" + its public id) as associated data,
    so a ciphertext copied to another row does not open."""
    nonce = os.urandom(NONCE_LEN)
    return nonce + AESGCM(settings.KEY_ENCRYPTION_KEY).encrypt(nonce, secret.encode("utf-8"), context)


def _open_sealed(key: bytes, data: bytes, context: bytes) -> str | None:
    try:
        return AESGCM(key).decrypt(data[:NONCE_LEN], data[NONCE_LEN:], context).decode("utf-8")
    except InvalidTag:
        return None


def unseal(ciphertext: bytes, context: bytes) -> str:
    """The plaintext, opened with the current encryption key or, during a rotation, a retired one."""
    data = bytes(ciphertext)
    for key in (settings.KEY_ENCRYPTION_KEY, *settings.KEY_ENCRYPTION_KEYS_OLD):
        plain = _open_sealed(key, data, context)
        if plain is not None:
            return plain
    raise UndecryptableKey()


def reseal(ciphertext: bytes, context: bytes) -> bytes:
    """The same secret sealed afresh under the current encryption key (for `rotate_encryption_key`).

    Raises UndecryptableKey when no configured key opens `ciphertext`, and checks that the new ciphertext
    opens with the current key to the same plaintext, so a rotation never stores something unreadable.
    """
    plain = unseal(ciphertext, context)
    sealed = seal(plain, context)
    if _open_sealed(settings.KEY_ENCRYPTION_KEY, sealed, context) != plain:
        raise UndecryptableKey()
    return sealed
