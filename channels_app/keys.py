"""Everything about API key material: generation, checksum, encryption, digest, masking.

No other module touches plaintext keys or ciphertext.

A publishable key (`amgpk_`, for the embeddable widget) has the same shape and
checksum but is public by design: it is stored and shown as-is, and only works
from its channel's allowed origins (docs/widget.md).

A key is `amgai_` + 43 base62 characters (exactly 32 random bytes) + a 6-character
base62 CRC-32 of those 43, so a mistyped key is refused without a database query.
At rest it is AES-256-GCM ciphertext (fresh 96-bit nonce, the channel's public id
as associated data, so a ciphertext moved to another channel fails to decrypt)
plus an HMAC-SHA256 digest under its own secret, which is what lookups index.

Both secrets rotate (docs/security.md): new ciphertexts and digests always use
the current secret; reads also accept the retired ones listed in
KEY_ENCRYPTION_KEY_OLD / KEY_DIGEST_SECRET_OLD until `manage.py
rotate_encryption_key` has rewritten every stored key.
"""

import hashlib
import hmac
import os
import secrets
import string
import uuid
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from gateway.infra.sealing import NONCE_LEN, UndecryptableKey, reseal, seal, unseal

PREFIX = "amgai_"
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
BODY_LEN = 43  # 62**43 > 2**256, so 32 random bytes always fit
CHECKSUM_LEN = 6  # 62**6 > 2**32
KEY_LEN = len(PREFIX) + BODY_LEN + CHECKSUM_LEN
_ALPHABET_SET = frozenset(ALPHABET)


def _base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 62)
        chars.append(ALPHABET[rem])
    return "".join(reversed(chars)).rjust(width, ALPHABET[0])


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LEN)


def generate() -> str:
    """A new plaintext key. Show it once; store only `encrypt()` and `digest()` of it."""
    return _generate(PREFIX)


def _generate(prefix: str) -> str:
    body = _base62(int.from_bytes(secrets.token_bytes(32), "big"), BODY_LEN)
    return prefix + body + _checksum(body)


def is_well_formed(raw: str) -> bool:
    """Prefix, length, alphabet and checksum: everything that needs no query."""
    return _is_well_formed(raw, PREFIX)


def _is_well_formed(raw: str, prefix: str) -> bool:
    if len(raw) != len(prefix) + BODY_LEN + CHECKSUM_LEN or not raw.startswith(prefix):
        return False
    rest = raw[len(prefix) :]
    if not _ALPHABET_SET.issuperset(rest):
        return False
    body, check = rest[:BODY_LEN], rest[BODY_LEN:]
    return hmac.compare_digest(_checksum(body), check)


def _digest_under(secret: bytes, raw: str) -> str:
    return hmac.new(secret, raw.encode("ascii"), hashlib.sha256).hexdigest()


def digest(raw: str) -> str:
    """The lookup digest under the current secret: what is stored for a new key."""
    return _digest_under(settings.KEY_DIGEST_SECRET, raw)


def lookup_digests(raw: str) -> list[str]:
    """Every digest `raw` may be stored under: the current secret's first, then retired ones."""
    return [digest(raw), *(_digest_under(secret, raw) for secret in settings.KEY_DIGEST_SECRETS_OLD)]


def _aad(channel_public_id: uuid.UUID) -> bytes:
    return b"channel:" + channel_public_id.bytes


def encrypt(raw: str, channel_public_id: uuid.UUID) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    sealed = AESGCM(settings.KEY_ENCRYPTION_KEY).encrypt(nonce, raw.encode("ascii"), _aad(channel_public_id))
    return nonce + sealed


def _open(key: bytes, data: bytes, channel_public_id: uuid.UUID) -> str | None:
    try:
        plain = AESGCM(key).decrypt(data[:NONCE_LEN], data[NONCE_LEN:], _aad(channel_public_id))
    except InvalidTag:
        return None
    return plain.decode("ascii")


def decrypt(ciphertext: bytes, channel_public_id: uuid.UUID) -> str:
    """The plaintext, opened with the current encryption key or, during a rotation, a retired one."""
    data = bytes(ciphertext)
    for key in (settings.KEY_ENCRYPTION_KEY, *settings.KEY_ENCRYPTION_KEYS_OLD):
        plain = _open(key, data, channel_public_id)
        if plain is not None:
            return plain
    raise UndecryptableKey()


def is_current(ciphertext: bytes, channel_public_id: uuid.UUID) -> bool:
    """Whether the ciphertext opens with the current encryption key (needs no re-encryption)."""
    return _open(settings.KEY_ENCRYPTION_KEY, bytes(ciphertext), channel_public_id) is not None


def reencrypt(ciphertext: bytes, channel_public_id: uuid.UUID) -> tuple[bytes, str]:
    """Re-seal a stored key under the current encryption key; returns (new ciphertext, plaintext).

    Raises UndecryptableKey when no configured key opens it, and checks that the
    new ciphertext opens with the current key to the same plaintext before
    returning it, so a rotation can never store something unreadable.
    """
    plain = decrypt(ciphertext, channel_public_id)
    sealed = encrypt(plain, channel_public_id)
    if _open(settings.KEY_ENCRYPTION_KEY, sealed, channel_public_id) != plain:
        raise UndecryptableKey()
    return sealed, plain


def hint(raw: str) -> str:
    """The last four characters. They lie in the checksum, so they reveal nothing of the secret body."""
    return raw[-4:]


def mask(key_hint: str) -> str:
    return f"{PREFIX}{'•' * 8}{key_hint}"


# --- Publishable keys: public by design, so no encryption, digest or masking. ---

PUBLISHABLE_PREFIX = "amgpk_"


def generate_publishable() -> str:
    """A new publishable key: same shape and checksum as a secret key, under its own prefix."""
    return _generate(PUBLISHABLE_PREFIX)


def is_well_formed_publishable(raw: str) -> bool:
    return _is_well_formed(raw, PUBLISHABLE_PREFIX)


# --- Upstream providers' keys: sealed (gateway/infra/sealing.py) to their provider. ---


def _provider_aad(provider_public_id: uuid.UUID) -> bytes:
    return b"provider:" + provider_public_id.bytes


def encrypt_provider_key(raw: str, provider_public_id: uuid.UUID) -> bytes:
    """An upstream provider's key (channels_app/providers/catalog_models.py Provider), sealed to its provider."""
    return seal(raw, _provider_aad(provider_public_id))


def decrypt_provider_key(ciphertext: bytes, provider_public_id: uuid.UUID) -> str:
    return unseal(ciphertext, _provider_aad(provider_public_id))


def reseal_provider_key(ciphertext: bytes, provider_public_id: uuid.UUID) -> bytes:
    return reseal(ciphertext, _provider_aad(provider_public_id))


def provider_key_hint(raw: str) -> str:
    """The last four characters of an upstream key, for staff to recognise it (never more)."""
    return raw[-4:] if len(raw) >= 12 else ""
