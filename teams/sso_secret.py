"""The one home of an SSO client secret's ciphertext: AES-256-GCM under KEY_ENCRYPTION_KEY (like channel keys,
channels_app/keys.py), bound to its organisation's public id so a ciphertext copied to another row does not open."""

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_LEN = 12


def _aad(org_public_id: uuid.UUID) -> bytes:
    return b"sso-client-secret:" + org_public_id.bytes


def encrypt(secret: str, org_public_id: uuid.UUID) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return nonce + AESGCM(settings.KEY_ENCRYPTION_KEY).encrypt(nonce, secret.encode("utf-8"), _aad(org_public_id))


def decrypt(ciphertext: bytes, org_public_id: uuid.UUID) -> str:
    """The plaintext, with the current encryption key or, during a key rotation, a retired one."""
    data = bytes(ciphertext)
    for key in (settings.KEY_ENCRYPTION_KEY, *settings.KEY_ENCRYPTION_KEYS_OLD):
        try:
            return AESGCM(key).decrypt(data[:NONCE_LEN], data[NONCE_LEN:], _aad(org_public_id)).decode("utf-8")
        except InvalidTag:
            continue
    raise ValueError("the SSO client secret does not open with any configured key")
