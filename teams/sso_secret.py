"""The one home of an SSO client secret's ciphertext: sealed like every stored secret (gateway/infra/sealing.py),
bound to its organisation's public id so a ciphertext copied to another row does not open."""

import uuid

from gateway.infra import sealing


def _aad(org_public_id: uuid.UUID) -> bytes:
    return b"sso-client-secret:" + org_public_id.bytes


def encrypt(secret: str, org_public_id: uuid.UUID) -> bytes:
    return sealing.seal(secret, _aad(org_public_id))


def decrypt(ciphertext: bytes, org_public_id: uuid.UUID) -> str:
    """The plaintext, with the current encryption key or, during a key rotation, a retired one."""
    try:
        return sealing.unseal(ciphertext, _aad(org_public_id))
    except sealing.UndecryptableKey:
        raise ValueError("the SSO client secret does not open with any configured key") from None


def reseal(ciphertext: bytes, org_public_id: uuid.UUID) -> bytes:
    """Sealed afresh under the current encryption key (rotate_encryption_key); raises sealing.UndecryptableKey."""
    return sealing.reseal(ciphertext, _aad(org_public_id))
