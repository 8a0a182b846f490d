"""Rotating KEY_ENCRYPTION_KEY and KEY_DIGEST_SECRET: old and new accepted meanwhile, a command rewrites every key."""

import io
import secrets

import pytest
from django.core.management import CommandError, call_command

from alerts import webhook_secret
from alerts.models import AlertSettings
from alerts.services import webhook_set
from channels_app import keys
from channels_app.models import ApiKey
from conftest import make_channel
from gateway.infra import sealing
from gateway.testing.api import chat
from teams import sso_secret
from teams.models import SsoConfig
from teams.sso_services import sso_save


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def two_channels(owner, outsider):
    return [make_channel(owner, name="A"), make_channel(outsider, name="B")]


def stored(issued) -> ApiKey:
    return ApiKey.objects.select_related("channel").get(pk=issued.api_key.pk)


def test_it_reads_old_keys_and_writes_new_ones_during_a_rotation(settings, two_channels):
    old = settings.KEY_ENCRYPTION_KEY
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [old]
    (_, issued_a), _ = two_channels
    assert stored(issued_a).reveal() == issued_a.plaintext  # sealed under the old key, still readable
    assert not keys.is_current(stored(issued_a).ciphertext, issued_a.api_key.channel.public_id)

    channel, issued = make_channel(issued_a.api_key.channel.owner, name="New")
    assert keys.is_current(stored(issued).ciphertext, channel.public_id)  # new keys use the new key


def test_the_command_reencrypts_every_key_under_the_current_key(settings, two_channels):
    old = settings.KEY_ENCRYPTION_KEY
    before = {i.api_key.pk: bytes(stored(i).ciphertext) for _, i in two_channels}
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [old]

    assert rotate() == "2 keys: 2 re-encrypted, 0 already under the current key.\n"

    settings.KEY_ENCRYPTION_KEYS_OLD = []  # the old key is gone: everything must open without it
    for _, issued in two_channels:
        api_key = stored(issued)
        assert bytes(api_key.ciphertext) != before[api_key.pk]
        assert api_key.reveal() == issued.plaintext
        assert api_key.digest == keys.digest(issued.plaintext)  # untouched


def test_running_it_again_changes_nothing(settings, two_channels):
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [settings.KEY_ENCRYPTION_KEY]
    rotate()
    after_first = {k.pk: bytes(k.ciphertext) for k in ApiKey.objects.all()}
    assert rotate() == "2 keys: 0 re-encrypted, 2 already under the current key.\n"
    assert {k.pk: bytes(k.ciphertext) for k in ApiKey.objects.all()} == after_first


def test_it_accepts_several_old_keys(settings, owner):
    first, second, third = settings.KEY_ENCRYPTION_KEY, new_secret(), new_secret()
    _, a = make_channel(owner, name="A")
    settings.KEY_ENCRYPTION_KEY = second
    _, b = make_channel(owner, name="B")
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = third, [second, first]
    assert rotate().startswith("2 keys: 2 re-encrypted")
    settings.KEY_ENCRYPTION_KEYS_OLD = []
    assert stored(a).reveal() == a.plaintext and stored(b).reveal() == b.plaintext


def test_it_changes_nothing_when_a_key_cannot_be_opened(settings, two_channels):
    before = {k.pk: bytes(k.ciphertext) for k in ApiKey.objects.all()}
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), []  # forgot the old key
    with pytest.raises(CommandError, match="2 of 2 keys could not be rotated; nothing was changed"):
        rotate()
    assert {k.pk: bytes(k.ciphertext) for k in ApiKey.objects.all()} == before


def test_a_dry_run_counts_but_writes_nothing(settings, two_channels):
    before = {k.pk: bytes(k.ciphertext) for k in ApiKey.objects.all()}
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [settings.KEY_ENCRYPTION_KEY]
    assert "2 re-encrypted" in rotate("--dry-run") and "dry run" in rotate("--dry-run")
    assert {k.pk: bytes(k.ciphertext) for k in ApiKey.objects.all()} == before


def test_it_never_prints_a_key(settings, two_channels):
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [settings.KEY_ENCRYPTION_KEY]
    out = rotate("--digest")
    for _, issued in two_channels:
        assert issued.plaintext not in out and issued.plaintext[6:-6] not in out


def test_a_changed_digest_secret_is_refused_without_the_digest_flag(settings, two_channels):
    settings.KEY_DIGEST_SECRET = new_secret()
    with pytest.raises(CommandError, match="digest matches no configured KEY_DIGEST_SECRET"):
        rotate()


def test_the_digest_flag_recomputes_digests_under_the_current_secret(settings, two_channels):
    settings.KEY_DIGEST_SECRET, settings.KEY_DIGEST_SECRETS_OLD = new_secret(), [settings.KEY_DIGEST_SECRET]
    assert rotate("--digest") == "2 keys: 0 re-encrypted, 2 already under the current key, 2 digests recomputed.\n"
    settings.KEY_DIGEST_SECRETS_OLD = []
    for _, issued in two_channels:
        assert stored(issued).digest == keys.digest(issued.plaintext)
    assert rotate("--digest").endswith("0 digests recomputed.\n")


def test_api_keys_keep_working_through_a_digest_secret_rotation(api, llm, settings, channel, key):
    old = settings.KEY_DIGEST_SECRET
    settings.KEY_DIGEST_SECRET = new_secret()
    assert chat(api, key).json() == {"error": "Invalid API key"}  # the new secret alone does not find it

    settings.KEY_DIGEST_SECRETS_OLD = [old]  # step 1: deploy the new secret with the old one beside it
    assert chat(api, key).status_code == 200
    rotate("--digest")  # step 2: rewrite the digests
    settings.KEY_DIGEST_SECRETS_OLD = []  # step 3: drop the old secret
    assert chat(api, key).status_code == 200



def test_provider_keys_are_reencrypted_too(settings, db):
    from channels_app.providers import catalog_services
    from channels_app.providers.catalog_models import Provider

    provider = catalog_services.provider_create(name="OpenAI", base_url="https://api.openai.com/v1", api_key="sk-abc-0123456789")
    old, before = settings.KEY_ENCRYPTION_KEY, bytes(provider.key_ciphertext)
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [old]
    assert "1 provider key(s) re-encrypted." in rotate()
    settings.KEY_ENCRYPTION_KEYS_OLD = []  # the old key is gone: it must open without it
    stored_provider = Provider.objects.get(pk=provider.pk)
    assert bytes(stored_provider.key_ciphertext) != before and stored_provider.api_key() == "sk-abc-0123456789"


def _webhook_and_sso(channel, owner) -> str:
    """A webhook signing secret and an SSO client secret on the channel's organisation; returns the webhook's."""
    sso_save(organisation=channel.organisation, actor=owner, client_secret="sso-client-secret-123",
             issuer="https://idp.example.com/", client_id="gateway")
    return webhook_set(channel=channel, url="https://hooks.example.com/x")


def test_webhook_and_sso_secrets_are_reencrypted_too(settings, channel, owner):
    secret = _webhook_and_sso(channel, owner)
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [settings.KEY_ENCRYPTION_KEY]
    out = rotate()
    assert "1 webhook secret(s) re-encrypted.\n1 SSO client secret(s) re-encrypted." in out
    assert secret not in out and "sso-client-secret-123" not in out
    settings.KEY_ENCRYPTION_KEYS_OLD = []  # the old key is gone: both must open without it
    prefs = AlertSettings.objects.get(channel=channel)
    assert webhook_secret.decrypt(prefs.webhook_secret_ciphertext, channel.public_id) == secret
    config = SsoConfig.objects.get(organisation=channel.organisation)
    assert sso_secret.decrypt(config.client_secret_ciphertext, channel.organisation.public_id) == "sso-client-secret-123"


def test_a_secret_that_cannot_be_opened_leaves_every_key_and_secret_as_it_was(settings, channel, owner):
    _webhook_and_sso(channel, owner)
    SsoConfig.objects.update(client_secret_ciphertext=sealing.seal("x", b"sealed-under-a-lost-key"))
    org = channel.organisation.public_id

    def everything():
        return ([bytes(k.ciphertext) for k in ApiKey.objects.order_by("pk")],
                bytes(AlertSettings.objects.get().webhook_secret_ciphertext),
                bytes(SsoConfig.objects.get().client_secret_ciphertext))

    before = everything()
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = new_secret(), [settings.KEY_ENCRYPTION_KEY]
    with pytest.raises(CommandError, match=(
        f"0 of 1 keys and 1 other secret\\(s\\) could not be rotated; nothing was changed.\n"
        f"SSO client secret of organisation {org}: no configured encryption key opens it"
    )):
        rotate()
    assert everything() == before
