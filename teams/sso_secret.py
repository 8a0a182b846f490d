"""The one home of an SSO client secret's ciphertext: sealed like every stored secret (channels_app/keys.py seal),
bound to its organisation's public id so a ciphertext copied to another row does not open."""

import uuid

from channels_app import keys


def _aad(org_public_id: uuid.UUID) -> bytes:
    return b"sso-client-secret:" + org_public_id.bytes


def encrypt(secret: str, org_public_id: uuid.UUID) -> bytes:
    return keys.seal(secret, _aad(org_public_id))


def decrypt(ciphertext: bytes, org_public_id: uuid.UUID) -> str:
    """The plaintext, with the current encryption key or, during a key rotation, a retired one."""
    try:
        return keys.unseal(ciphertext, _aad(org_public_id))
    except keys.UndecryptableKey:
        raise ValueError("the SSO client secret does not open with any configured key") from None


def reseal(ciphertext: bytes, org_public_id: uuid.UUID) -> bytes:
    """Sealed afresh under the current encryption key (rotate_encryption_key); raises keys.UndecryptableKey."""
    return keys.reseal(ciphertext, _aad(org_public_id))
