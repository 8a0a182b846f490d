"""The one home of a webhook signing secret's ciphertext: sealed like every stored secret (gateway/infra/sealing.py)
under a context of its own, bound to its channel, so it opens neither in an API key's column (whose context is
the same channel's) nor in another channel's settings (migration 0002 moved the old rows to this context)."""

import uuid

from gateway.infra import sealing


def _context(channel_public_id: uuid.UUID) -> bytes:
    return b"webhook-secret:" + channel_public_id.bytes


def encrypt(secret: str, channel_public_id: uuid.UUID) -> bytes:
    return sealing.seal(secret, _context(channel_public_id))


def decrypt(ciphertext: bytes, channel_public_id: uuid.UUID) -> str:
    """The plaintext, with the current encryption key or, during a key rotation, a retired one.
    Raises sealing.UndecryptableKey when none opens it."""
    return sealing.unseal(ciphertext, _context(channel_public_id))


def reseal(ciphertext: bytes, channel_public_id: uuid.UUID) -> bytes:
    """Sealed afresh under the current encryption key (rotate_encryption_key)."""
    return sealing.reseal(ciphertext, _context(channel_public_id))
