"""GET /dashboard/channels/<id>/keys/<key_id>/: the page after a reveal or a rotation (post/redirect/get),
and sudo mode: after the password, the rotation the owner started completes."""

import re
import uuid
from datetime import timedelta

from django.utils import timezone

from channels_app.models import ApiKey, KeyReveal


def _rotate(channel):
    return f"/dashboard/channels/{channel.public_id}/keys/rotate/"


def _shown(channel, key):
    return f"/dashboard/channels/{channel.public_id}/keys/{key.public_id}/"


def test_reloading_the_new_key_page_neither_rotates_again_nor_shows_the_key_again(owner_web, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.submit(_rotate(channel), {"grace": "1h"})
    assert r.status_code == 302
    new = ApiKey.objects.filter(channel=channel).exclude(pk=issued.api_key.pk).get()
    assert r.headers["location"] == _shown(channel, new)
    first = owner_web.get(r.headers["location"])
    assert new.reveal() in first.text and "Your new API key" in first.text
    again = owner_web.get(r.headers["location"])  # the reload
    assert again.status_code == 200
    assert new.reveal() not in again.text and new.masked in again.text
    assert "Reveal" in again.text
    assert ApiKey.objects.filter(channel=channel).count() == 2
    assert KeyReveal.objects.count() == 1


def test_the_page_never_shows_a_key_that_was_not_just_revealed(owner_web, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.get(_shown(channel, issued.api_key))
    assert r.status_code == 200
    assert issued.plaintext not in r.text
    assert "no-store" in r.headers["cache-control"]


def test_a_rotation_started_with_an_old_password_completes_after_the_password(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.age_password_entry(60 * 60)
    r = owner_web.submit(_rotate(channel), {"grace": "24h"})
    assert r.status_code == 302 and r.headers["location"].startswith("/accounts/confirm-password/")
    assert ApiKey.objects.filter(channel=channel).count() == 1

    r = owner_web.submit("/accounts/confirm-password/", {"password": "pw-owner-123!", "next": f"/dashboard/channels/{channel.public_id}/"})
    assert r.status_code == 200
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*data-autosubmit>(.*?)</form>', r.text, re.S)
    assert form and form.group(1) == _rotate(channel)
    assert '<input type="hidden" name="grace" value="24h">' in form.group(2)

    r = owner_web.submit(form.group(1), {"grace": "24h"}, follow_redirects=True)
    new = ApiKey.objects.filter(channel=channel).exclude(pk=issued.api_key.pk).get()
    assert new.reveal() in r.text
    old = ApiKey.objects.get(pk=issued.api_key.pk)
    assert abs((old.revoked_at - (timezone.now() + timedelta(hours=24))).total_seconds()) < 30


def test_the_password_page_replays_nothing_when_nothing_was_started(owner_web, channel):
    owner_web.age_password_entry(60 * 60)
    r = owner_web.submit("/accounts/confirm-password/", {"password": "pw-owner-123!", "next": "/dashboard/"})
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"


def test_it_is_a_404_for_another_owners_key(outsider_web, channel_and_key):
    channel, issued = channel_and_key
    assert outsider_web.get(_shown(channel, issued.api_key)).status_code == 404


def test_it_is_a_404_for_an_unknown_key(owner_web, channel):
    assert owner_web.get(f"/dashboard/channels/{channel.public_id}/keys/{uuid.uuid4()}/").status_code == 404
