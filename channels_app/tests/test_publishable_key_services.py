"""Publishable keys, allowed origins and widget settings: the services the dashboard will call."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from channels_app import keys, origins
from channels_app.selectors import publishable_key_authenticate, publishable_key_current
from channels_app.services import (
    PublishableKeyExists,
    channel_set_allowed_origins,
    channel_update,
    publishable_key_issue,
    publishable_key_revoke,
    publishable_key_rotate,
)
from conftest import make_channel


@pytest.fixture
def channel(db, django_user_model):
    owner = django_user_model.objects.create_user("o@example.com", "o@example.com", "pw")
    return make_channel(owner)[0]


def test_it_issues_a_well_formed_publishable_key(channel):
    pk = publishable_key_issue(channel=channel)
    assert pk.key.startswith("amgpk_") and len(pk.key) == 55
    assert keys.is_well_formed_publishable(pk.key)
    assert not keys.is_well_formed(pk.key)  # never mistaken for a secret key, nor the other way round
    assert publishable_key_current(channel=channel) == pk
    assert publishable_key_authenticate(pk.key) == pk


def test_a_typo_fails_the_checksum(channel):
    raw = publishable_key_issue(channel=channel).key
    assert not keys.is_well_formed_publishable(raw[:-1] + ("a" if raw[-1] != "a" else "b"))


def test_it_refuses_a_second_open_key(channel):
    publishable_key_issue(channel=channel)
    with pytest.raises(PublishableKeyExists):
        publishable_key_issue(channel=channel)


def test_rotation_keeps_the_old_key_for_its_grace_period(channel):
    old = publishable_key_issue(channel=channel)
    new = publishable_key_rotate(channel=channel, grace=timedelta(hours=1))
    old.refresh_from_db()
    assert abs(old.revoked_at - (timezone.now() + timedelta(hours=1))) < timedelta(seconds=5)
    assert old.is_usable() and new.is_usable()
    assert publishable_key_current(channel=channel) == new


def test_rotation_without_grace_stops_the_old_key_now(channel):
    old = publishable_key_issue(channel=channel)
    publishable_key_rotate(channel=channel, grace=timedelta(0))
    assert publishable_key_authenticate(old.key) is None


def test_rotation_works_for_a_channel_without_a_key(channel):
    assert publishable_key_rotate(channel=channel, grace=timedelta(0)).is_usable()


def test_revoke_stops_the_key_and_never_extends_an_earlier_end(channel):
    pk = publishable_key_issue(channel=channel)
    publishable_key_revoke(publishable_key=pk)
    assert publishable_key_authenticate(pk.key) is None
    ended = pk.revoked_at
    publishable_key_revoke(publishable_key=pk, at=timezone.now() + timedelta(days=1))
    pk.refresh_from_db()
    assert pk.revoked_at == ended
    assert publishable_key_issue(channel=channel).is_usable()  # a revoked key leaves room for a new one


@pytest.mark.parametrize("given, stored", [
    ("https://shop.example", "https://shop.example"),
    ("HTTPS://Shop.Example:443/", "https://shop.example"),
    ("http://a.example:80", "http://a.example"),
    ("http://localhost:8000", "http://localhost:8000"),
    ("https://a.example:80", "https://a.example:80"),
    ("  https://a.example  ", "https://a.example"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
    ("http://[::1]:8080", "http://[::1]:8080"),
    ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
])
def test_it_normalises_origins(given, stored):
    assert origins.normalise(given) == stored


@pytest.mark.parametrize("given", [
    "", "shop.example", "ftp://shop.example", "https://", "https://shop.example/path", "https://shop.example?x=1",
    "https://shop.example#x", "https://user:pw@shop.example", "https://*.example.com", "*", "https://a.example:99999",
    "null", "javascript:alert(1)",
])
def test_it_refuses_what_is_not_an_exact_origin(given):
    with pytest.raises(ValidationError):
        origins.normalise(given)


def test_it_stores_allowed_origins_normalised_and_deduplicated(channel):
    channel_set_allowed_origins(channel=channel, allowed_origins=["https://A.example/", "https://a.example", "http://b.example:8080"])
    channel.refresh_from_db()
    assert channel.allowed_origins == ["https://a.example", "http://b.example:8080"]


def test_it_refuses_more_than_twenty_origins(channel):
    with pytest.raises(ValidationError):
        channel_set_allowed_origins(channel=channel, allowed_origins=[f"https://s{i}.example" for i in range(21)])


def test_widget_settings_are_validated_through_channel_update(channel):
    channel_update(channel=channel, widget_color="#A1B2C3", widget_title="Help", visitor_daily_limit=5,
                   allowed_origins=["HTTPS://X.example"])
    channel.refresh_from_db()
    assert channel.widget_settings() == {"title": "Help", "greeting": "Hi! How can I help?", "color": "#a1b2c3"}
    assert channel.allowed_origins == ["https://x.example"]
    for bad in ({"widget_color": "red"}, {"widget_color": "#12345"}, {"visitor_rate_limit_per_minute": 0},
                {"allowed_origins": ["https://x.example/path"]}, {"widget_title": ""}):
        with pytest.raises(ValidationError):
            channel_update(channel=channel, **bad)
