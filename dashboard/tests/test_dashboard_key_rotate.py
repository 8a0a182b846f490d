"""POST /dashboard/channels/<id>/keys/rotate/: a new key shown, the old one kept for the chosen grace."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import ApiKey, KeyReveal
from gateway.testing.api import history


def _url(channel):
    return f"/dashboard/channels/{channel.public_id}/keys/rotate/"


def _new_key(channel, old):
    return ApiKey.objects.filter(channel=channel).exclude(pk=old.pk).get()


@pytest.mark.parametrize(("grace", "hours"), [("1h", 1), ("24h", 24)])
def test_it_shows_the_new_key_and_keeps_the_old_one_for_the_grace_period(owner_web, api, channel_and_key, grace, hours):
    channel, issued = channel_and_key
    r = owner_web.submit(_url(channel), {"grace": grace}, follow_redirects=True)
    assert [h.status_code for h in r.history] == [302]  # post/redirect/get
    assert r.status_code == 200
    new = _new_key(channel, issued.api_key)
    assert new.reveal() in r.text
    assert "Your new API key" in r.text
    assert "keeps working until" in r.text
    assert "no-store" in r.headers["cache-control"]
    old = ApiKey.objects.get(pk=issued.api_key.pk)
    expected = timezone.now() + timedelta(hours=hours)
    assert abs((old.revoked_at - expected).total_seconds()) < 30
    assert history(api, issued.plaintext).status_code == 200
    assert history(api, new.reveal()).status_code == 200
    assert KeyReveal.objects.get().action == "rotate"


def test_it_stops_the_old_key_at_once_without_grace(owner_web, api, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.submit(_url(channel), {"grace": "none"}, follow_redirects=True)
    assert "is revoked: requests with it now get 401" in r.text
    assert history(api, issued.plaintext).status_code == 401
    assert history(api, _new_key(channel, issued.api_key).reveal()).status_code == 200


def test_it_rejects_an_unknown_grace_period(owner_web, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.submit(_url(channel), {"grace": "forever"}, follow_redirects=True)
    assert "Choose how long the current key keeps working" in r.text
    assert ApiKey.objects.filter(channel=channel).count() == 1


def test_it_asks_for_the_password_when_the_last_entry_is_old(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.age_password_entry(60 * 60)
    r = owner_web.submit(_url(channel), {"grace": "1h"})
    assert r.status_code == 302 and r.headers["location"].startswith("/accounts/confirm-password/")
    assert ApiKey.objects.filter(channel=channel).count() == 1


def test_it_is_a_404_for_another_owner(outsider_web, channel_and_key):
    channel, issued = channel_and_key
    assert outsider_web.submit(_url(channel), {"grace": "none"}).status_code == 404
    assert ApiKey.objects.get(channel=channel).revoked_at is None


def test_it_shows_the_keys_states_on_the_channel_page(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.submit(_url(channel), {"grace": "1h"})
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/").text
    assert "Works until" in page and "Issued by rotation" in page
