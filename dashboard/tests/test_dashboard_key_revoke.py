"""POST /dashboard/channels/<id>/keys/<key>/revoke/."""

from channels_app.models import ApiKey
from gateway.testing.api import history


def _url(channel, api_key):
    return f"/dashboard/channels/{channel.public_id}/keys/{api_key.public_id}/revoke/"


def test_it_revokes_the_key_at_once(owner_web, api, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.submit(_url(channel, issued.api_key), follow_redirects=True)
    assert "is revoked: requests with it now get 401" in r.text
    assert "No active API key" not in r.text  # the channel page offers a new key instead
    assert "Issue new key" in r.text
    assert history(api, issued.plaintext).status_code == 401


def test_it_ends_a_grace_period_early(owner_web, api, channel_and_key):
    channel, issued = channel_and_key
    owner_web.submit(f"/dashboard/channels/{channel.public_id}/keys/rotate/", {"grace": "24h"})
    owner_web.submit(_url(channel, issued.api_key))
    assert history(api, issued.plaintext).status_code == 401


def test_it_is_a_404_for_another_owner(outsider_web, api, channel_and_key):
    channel, issued = channel_and_key
    assert outsider_web.submit(_url(channel, issued.api_key)).status_code == 404
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None


def test_it_rejects_a_post_without_csrf_token(owner_web, channel_and_key):
    channel, issued = channel_and_key
    assert owner_web.post(_url(channel, issued.api_key)).status_code == 403
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None
