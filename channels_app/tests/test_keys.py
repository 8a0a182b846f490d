"""Key material: format, checksum, encryption bound to the channel, digest, masking."""

import re
import uuid

import pytest

from channels_app import keys
from gateway.infra import sealing


def test_a_key_has_the_prefix_32_random_bytes_and_a_checksum():
    raw = keys.generate()
    assert re.fullmatch(r"amgai_[0-9A-Za-z]{49}", raw)
    assert len(raw) == keys.KEY_LEN == 55
    assert keys.is_well_formed(raw)


def test_keys_are_unique():
    assert len({keys.generate() for _ in range(500)}) == 500


def test_the_checksum_catches_any_single_character_typo():
    raw = keys.generate()
    for i in range(len(keys.PREFIX), len(raw)):
        for replacement in "0aZ":
            if raw[i] != replacement:
                assert not keys.is_well_formed(raw[:i] + replacement + raw[i + 1 :])


@pytest.mark.parametrize("bad", ["", "amgai_", "AMGAI_" + "a" * 49, "amgai_" + "-" * 49, "amgai_" + "a" * 48, "sk-" + "a" * 52])
def test_it_rejects_the_wrong_shape(bad):
    assert not keys.is_well_formed(bad)


def test_encryption_round_trips_with_a_fresh_nonce_each_time(settings):
    raw, channel = keys.generate(), uuid.uuid4()
    a, b = keys.encrypt(raw, channel), keys.encrypt(raw, channel)
    assert a != b
    assert raw.encode() not in a
    assert keys.decrypt(a, channel) == keys.decrypt(b, channel) == raw


def test_a_ciphertext_does_not_open_for_another_channel():
    raw = keys.generate()
    sealed = keys.encrypt(raw, uuid.uuid4())
    with pytest.raises(sealing.UndecryptableKey):
        keys.decrypt(sealed, uuid.uuid4())


def test_a_ciphertext_does_not_open_with_another_encryption_key(settings):
    raw, channel = keys.generate(), uuid.uuid4()
    sealed = keys.encrypt(raw, channel)
    settings.KEY_ENCRYPTION_KEY = b"k" * 32
    with pytest.raises(sealing.UndecryptableKey):
        keys.decrypt(sealed, channel)


def test_the_digest_depends_on_its_own_secret(settings):
    raw = keys.generate()
    first = keys.digest(raw)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    settings.KEY_DIGEST_SECRET = b"d" * 32
    assert keys.digest(raw) != first


def test_the_mask_shows_only_checksum_characters():
    raw = keys.generate()
    masked = keys.mask(keys.hint(raw))
    assert masked.startswith("amgai_") and masked.endswith(raw[-4:])
    assert raw[len(keys.PREFIX) : -keys.CHECKSUM_LEN] not in masked


def test_a_sealed_secret_opens_only_in_its_own_context():
    sealed = sealing.seal("whsec_abc", b"webhook-secret:" + uuid.UUID(int=1).bytes)
    assert sealing.unseal(sealed, b"webhook-secret:" + uuid.UUID(int=1).bytes) == "whsec_abc"
    for other in (b"channel:" + uuid.UUID(int=1).bytes, b"webhook-secret:" + uuid.UUID(int=2).bytes):
        with pytest.raises(sealing.UndecryptableKey):
            sealing.unseal(sealed, other)


def test_reseal_moves_a_secret_from_a_retired_key_to_the_current_one(settings):
    old = sealing.seal("sk-upstream", b"ctx")
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = b"n" * 32, [settings.KEY_ENCRYPTION_KEY]
    new = sealing.reseal(old, b"ctx")
    settings.KEY_ENCRYPTION_KEYS_OLD = []
    assert sealing.unseal(new, b"ctx") == "sk-upstream"
    with pytest.raises(sealing.UndecryptableKey):
        sealing.unseal(old, b"ctx")
    with pytest.raises(sealing.UndecryptableKey):  # nothing configured opens it: nothing to re-seal
        sealing.reseal(old, b"ctx")
