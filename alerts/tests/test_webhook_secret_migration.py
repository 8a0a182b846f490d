"""Migration 0002 moves stored webhook secrets from the channel's API-key context to their own, and back.

It runs on a populated database: rows sealed the old way (keys.encrypt, the API keys' context), forward, back,
forward again; a row no configured key opens stops it with nothing changed.
"""

import secrets

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from alerts import signing, webhook_secret
from alerts.models import AlertSettings
from channels_app import keys
from conftest import make_channel
from gateway.infra import sealing

BEFORE = [("alerts", "0001_alerts_webhooks_failed_jobs")]
AFTER = [("alerts", "0002_webhook_secret_own_context")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _old_rows(owner) -> dict:
    """Two channels with a webhook secret sealed as before 0002, one without a webhook: {channel: secret}."""
    made = {}
    for name in ("A", "B"):
        channel, _ = make_channel(owner, name=name)
        secret = signing.generate_secret()
        AlertSettings.objects.create(channel=channel, webhook_url="https://hooks.example.com/x",
                                     webhook_secret_ciphertext=keys.encrypt(secret, channel.public_id))
        made[channel] = secret
    AlertSettings.objects.create(channel=make_channel(owner, name="C")[0])  # no webhook, nothing to move
    return made


def _stored(channel) -> bytes:
    return bytes(AlertSettings.objects.get(channel=channel).webhook_secret_ciphertext)


@pytest.mark.django_db(transaction=True)
def test_it_reseals_every_webhook_secret_in_its_own_context_and_back(owner):
    try:
        _migrate(BEFORE)
        made = _old_rows(owner)
        _migrate(AFTER)
        for channel, secret in made.items():
            assert webhook_secret.decrypt(_stored(channel), channel.public_id) == secret
            with pytest.raises(sealing.UndecryptableKey):  # no longer in the API keys' context
                keys.decrypt(_stored(channel), channel.public_id)
        assert AlertSettings.objects.filter(webhook_secret_ciphertext__isnull=True).count() == 1

        _migrate(BEFORE)  # reversible: back in the old context
        for channel, secret in made.items():
            assert keys.decrypt(_stored(channel), channel.public_id) == secret
        _migrate(AFTER)
        for channel, secret in made.items():
            assert webhook_secret.decrypt(_stored(channel), channel.public_id) == secret
    finally:
        AlertSettings.objects.all().delete()  # so a failed test cannot leave a row that stops the way back
        _migrate(_latest())


@pytest.mark.django_db(transaction=True)
def test_it_stops_with_nothing_changed_on_a_row_no_key_opens_and_reads_a_retired_key(owner, settings):
    try:
        _migrate(BEFORE)
        made = _old_rows(owner)
        first = next(iter(made))
        old_key = settings.KEY_ENCRYPTION_KEY
        settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = secrets.token_bytes(32), []  # forgot the old
        before = {channel: _stored(channel) for channel in made}
        with pytest.raises(RuntimeError, match=f"webhook secret of channel {first.public_id} opens with no configured"):
            _migrate(AFTER)
        assert {channel: _stored(channel) for channel in made} == before

        settings.KEY_ENCRYPTION_KEYS_OLD = [old_key]
        _migrate(AFTER)
        settings.KEY_ENCRYPTION_KEYS_OLD = []  # re-sealed under the current key as it moved
        for channel, secret in made.items():
            assert webhook_secret.decrypt(_stored(channel), channel.public_id) == secret
    finally:
        AlertSettings.objects.all().delete()  # so a failed test cannot leave a row that stops the way back
        _migrate(_latest())
