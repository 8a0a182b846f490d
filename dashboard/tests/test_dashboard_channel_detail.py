"""/dashboard/channels/<public_id>/: overview, keys, reveal log; other owners get 404."""

import uuid

from channels_app.services import api_key_reveal


def test_it_shows_the_masked_key_never_the_plaintext(owner_web, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/")
    assert r.status_code == 200
    assert issued.api_key.masked in r.text
    assert issued.plaintext not in r.text
    assert bytes(issued.api_key.ciphertext).hex() not in r.text
    assert issued.api_key.digest not in r.text
    assert "Nobody has revealed this channel" in r.text


def test_it_lists_reveals_with_who_when_and_which_key(owner_web, owner, channel_and_key):
    channel, issued = channel_and_key
    api_key_reveal(api_key=issued.api_key, user=owner, ip_address="203.0.113.9")
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/")
    assert "owner@example.com" in r.text
    assert "203.0.113.9" in r.text
    assert "Revealed" in r.text
    assert r.text.count(issued.api_key.masked) >= 2


def test_it_is_a_404_for_another_owners_channel(outsider_web, channel):
    assert outsider_web.get(f"/dashboard/channels/{channel.public_id}/").status_code == 404


def test_it_is_a_404_for_an_unknown_channel(owner_web, channel):
    assert owner_web.get(f"/dashboard/channels/{uuid.uuid4()}/").status_code == 404


def test_it_is_a_404_for_a_database_id_in_the_url(owner_web, channel):
    assert owner_web.get(f"/dashboard/channels/{channel.pk}/").status_code == 404


def test_it_requires_login(web, channel):
    r = web.get(f"/dashboard/channels/{channel.public_id}/")
    assert r.status_code == 302 and r.headers["location"].startswith("/accounts/login/")
