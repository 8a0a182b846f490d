"""POST /dashboard/channels/<id>/keys/<key>/reveal/: recent password, audit record, owner only."""

from channels_app.models import KeyReveal
from channels_app.services import api_key_revoke, api_key_issue

JSON = {"Accept": "application/json"}


def _url(channel, api_key):
    return f"/dashboard/channels/{channel.public_id}/keys/{api_key.public_id}/reveal/"


def test_it_reveals_the_key_and_records_who_when_and_which(owner_web, owner, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.submit(_url(channel, issued.api_key), headers=JSON)
    assert r.status_code == 200
    assert r.json() == {"key": issued.plaintext, "masked": issued.api_key.masked}
    assert "no-cache" in r.headers["cache-control"] and "no-store" in r.headers["cache-control"]
    reveal = KeyReveal.objects.get()
    assert (reveal.api_key_id, reveal.user_id, reveal.action) == (issued.api_key.pk, owner.pk, "reveal")
    assert reveal.ip_address == "127.0.0.1"


def test_it_shows_the_key_on_a_page_without_javascript(owner_web, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.submit(_url(channel, issued.api_key), follow_redirects=True)
    assert [h.status_code for h in r.history] == [302]  # post/redirect/get
    assert r.status_code == 200
    assert issued.plaintext in r.text


def test_it_asks_for_the_password_when_the_last_entry_is_old(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.age_password_entry(16 * 60)
    r = owner_web.submit(_url(channel, issued.api_key), headers=JSON)
    assert r.status_code == 403
    assert r.json()["reauth_url"] == f"/accounts/confirm-password/?next=%2Fdashboard%2Fchannels%2F{channel.public_id}%2F"
    assert issued.plaintext not in r.text
    assert not KeyReveal.objects.exists()


def test_it_redirects_to_the_password_page_without_javascript(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.age_password_entry(16 * 60)
    r = owner_web.submit(_url(channel, issued.api_key))
    assert r.status_code == 302
    assert r.headers["location"].startswith("/accounts/confirm-password/?next=")


def test_it_reveals_again_after_the_password_is_confirmed(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.age_password_entry(16 * 60)
    owner_web.submit("/accounts/confirm-password/", {"password": "pw-owner-123!"})
    assert owner_web.submit(_url(channel, issued.api_key), headers=JSON).json()["key"] == issued.plaintext


def test_it_is_a_404_for_another_owner(outsider_web, channel_and_key):
    channel, issued = channel_and_key
    r = outsider_web.submit(_url(channel, issued.api_key), headers=JSON)
    assert r.status_code == 404
    assert issued.plaintext not in r.text
    assert not KeyReveal.objects.exists()


def test_it_is_a_404_for_another_channels_key_under_my_channel(owner_web, channel, other_channel_and_key):
    other_key = other_channel_and_key[1].api_key
    assert owner_web.submit(_url(channel, other_key), headers=JSON).status_code == 404


def test_it_refuses_a_revoked_key(owner_web, channel_and_key):
    channel, issued = channel_and_key
    api_key_revoke(api_key=issued.api_key)
    assert owner_web.submit(_url(channel, issued.api_key), headers=JSON).status_code == 410


def test_it_rejects_get(owner_web, channel_and_key):
    channel, issued = channel_and_key
    assert owner_web.get(_url(channel, issued.api_key)).status_code == 405


def test_it_rejects_a_post_without_csrf_token(owner_web, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.post(_url(channel, issued.api_key), headers=JSON)
    assert r.status_code == 403
    assert issued.plaintext not in r.text


def test_it_reveals_a_second_key_of_the_same_channel(owner_web, channel):
    second = api_key_issue(channel=channel)
    assert owner_web.submit(_url(channel, second.api_key), headers=JSON).json()["key"] == second.plaintext
