"""channels_app.services.api_key_rotate and api_key_reveal."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import ApiKey, KeyReveal
from channels_app.selectors import api_key_authenticate
from channels_app.services import api_key_reveal, api_key_rotate


def test_it_issues_a_working_key_and_ends_the_old_one_after_the_grace(channel_and_key):
    channel, old = channel_and_key
    issued = api_key_rotate(channel=channel, grace=timedelta(hours=1))
    assert api_key_authenticate(issued.plaintext).pk == issued.api_key.pk
    assert api_key_authenticate(old.plaintext) is not None
    ApiKey.objects.filter(pk=old.api_key.pk).update(revoked_at=timezone.now() - timedelta(seconds=1))
    assert api_key_authenticate(old.plaintext) is None


def test_it_keeps_an_earlier_grace_end(channel_and_key):
    channel, old = channel_and_key
    api_key_rotate(channel=channel, grace=timedelta(hours=1))
    first_end = ApiKey.objects.get(pk=old.api_key.pk).revoked_at
    api_key_rotate(channel=channel, grace=timedelta(hours=24))
    assert ApiKey.objects.get(pk=old.api_key.pk).revoked_at == first_end


def test_it_records_a_reveal_only_when_the_key_is_shown_to_someone(owner, channel_and_key):
    channel, _ = channel_and_key
    api_key_rotate(channel=channel, grace=timedelta(0))
    assert not KeyReveal.objects.exists()
    issued = api_key_rotate(channel=channel, grace=timedelta(0), revealed_to=owner, ip_address="198.51.100.1")
    reveal = KeyReveal.objects.get()
    assert (reveal.api_key_id, reveal.user_id, reveal.action, reveal.ip_address) == (
        issued.api_key.pk,
        owner.pk,
        "rotate",
        "198.51.100.1",
    )


def test_it_rejects_a_negative_grace(channel_and_key):
    with pytest.raises(ValueError):
        api_key_rotate(channel=channel_and_key[0], grace=timedelta(hours=-1))


def test_reveal_returns_the_plaintext_and_records_it(owner, channel_and_key):
    channel, issued = channel_and_key
    assert api_key_reveal(api_key=issued.api_key, user=owner) == issued.plaintext
    assert KeyReveal.objects.filter(api_key=issued.api_key, user=owner, action="reveal").count() == 1
