"""The webhook signing secret at rest: sealed in its own context, so its ciphertext and an API key's or a provider
key's cannot stand in for each other; and a KEY_ENCRYPTION_KEY rotation keeps deliveries signed with the secret the
owner was shown. Deliveries go through the job runner to a real receiver on loopback."""

import io
import secrets

import pytest
from django.core.management import call_command

from alerts import signing
from alerts.models import AlertSettings, FailedJob, WebhookDelivery
from alerts.services import webhook_set
from channels_app import events
from channels_app.models import ApiKey
from channels_app.providers import catalog_services
from channels_app.providers.catalog_models import Provider
from gateway.infra import sealing
from gateway.testing.waiting import wait_until


def delivered_request(receiver) -> dict:
    [request] = receiver.wait_for(1)
    assert wait_until(lambda: WebhookDelivery.objects.get().status == "delivered")
    return request


def assert_signed_with(secret: str, request: dict) -> None:
    headers = request["headers"]
    assert signing.verify(secret, headers["x-gateway-timestamp"], request["body"], headers["x-gateway-signature"])


def stored_secret(channel) -> bytes:
    return bytes(AlertSettings.objects.get(channel=channel).webhook_secret_ciphertext)


def test_a_delivery_is_signed_with_the_secret_shown_when_the_webhook_was_set(runner, receiver, channel):
    secret = webhook_set(channel=channel, url=receiver.url)
    events.emit(channel, "channel.deactivated", {})
    request = delivered_request(receiver)
    assert_signed_with(secret, request)
    assert not signing.verify(signing.generate_secret(), request["headers"]["x-gateway-timestamp"], request["body"],
                              request["headers"]["x-gateway-signature"])  # the check can fail


def test_after_a_key_rotation_a_delivery_is_signed_with_the_same_secret_under_the_new_key_alone(
    runner, receiver, channel, settings
):
    secret = webhook_set(channel=channel, url=receiver.url)
    before = stored_secret(channel)
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = secrets.token_bytes(32), [settings.KEY_ENCRYPTION_KEY]
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "1 webhook secret(s) re-encrypted." in out.getvalue() and secret not in out.getvalue()

    settings.KEY_ENCRYPTION_KEYS_OLD = []  # the old key is gone
    assert stored_secret(channel) != before
    events.emit(channel, "channel.deactivated", {})
    assert_signed_with(secret, delivered_request(receiver))


def test_without_the_rotation_the_new_key_alone_cannot_sign(runner, receiver, channel, settings):
    """The test above proves something: skip the command and the delivery cannot open its secret."""
    settings.WEBHOOK_MAX_RETRIES = 0
    webhook_set(channel=channel, url=receiver.url)
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = secrets.token_bytes(32), []
    events.emit(channel, "channel.deactivated", {})
    assert wait_until(lambda: WebhookDelivery.objects.get().status == "dead")
    assert receiver.received == []


@pytest.fixture
def provider(transactional_db):
    return catalog_services.provider_create(name="OpenAI", base_url="https://api.openai.com/v1", api_key="sk-abc-0123456789")


def api_key_ciphertext(channel, provider) -> bytes:
    return bytes(ApiKey.objects.get(channel=channel).ciphertext)


def provider_ciphertext(channel, provider) -> bytes:
    return bytes(Provider.objects.get(pk=provider.pk).key_ciphertext)


@pytest.mark.parametrize("copied", [api_key_ciphertext, provider_ciphertext])
def test_another_secrets_ciphertext_copied_into_the_webhook_column_does_not_sign_anything(
    runner, receiver, channel, provider, settings, copied
):
    settings.WEBHOOK_MAX_RETRIES = 0
    webhook_set(channel=channel, url=receiver.url)
    AlertSettings.objects.filter(channel=channel).update(webhook_secret_ciphertext=copied(channel, provider))

    events.emit(channel, "channel.deactivated", {})
    assert wait_until(lambda: WebhookDelivery.objects.get().status == "dead")
    assert receiver.received == []
    assert FailedJob.objects.get().error == "UndecryptableKey()"


def test_a_webhook_secrets_ciphertext_copied_into_an_api_keys_column_does_not_reveal(channel, key):
    webhook_set(channel=channel, url="https://hooks.example.com/x")
    api_key = ApiKey.objects.select_related("channel").get(channel=channel)
    assert api_key.reveal() == key  # the column is read through the real path
    ApiKey.objects.filter(pk=api_key.pk).update(ciphertext=stored_secret(channel))  # same channel: its old context
    with pytest.raises(sealing.UndecryptableKey):
        ApiKey.objects.select_related("channel").get(pk=api_key.pk).reveal()


def test_a_webhook_secrets_ciphertext_copied_into_a_providers_column_does_not_open(channel, provider):
    webhook_set(channel=channel, url="https://hooks.example.com/x")
    assert Provider.objects.get(pk=provider.pk).api_key() == "sk-abc-0123456789"
    Provider.objects.filter(pk=provider.pk).update(key_ciphertext=stored_secret(channel))
    with pytest.raises(sealing.UndecryptableKey):
        Provider.objects.get(pk=provider.pk).api_key()
