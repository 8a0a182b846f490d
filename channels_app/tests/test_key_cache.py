"""The in-process key cache (channels_app/key_cache.py): used with Redis, never stale past the next request.

Every change made through the application (revoke, rotate, deactivate, edit)
takes effect on the very next request; a change behind its back (raw SQL) within
KEY_CACHE_SECONDS; a refusal is always confirmed from the database. Two processes
sharing Redis: gateway/tests/test_scale_out.py.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app import credentials, key_cache, keys
from channels_app.credentials import PresentedKey
from channels_app.models import ApiKey, Channel
from channels_app.services import api_key_revoke, api_key_rotate, channel_update
from conversations.engine import admission, counters, limits
from gateway.infra.errors import InvalidApiKey
from gateway.testing.api import chat, history
from gateway.testing.implementations import run

pytestmark = pytest.mark.redis


@pytest.mark.django_db(transaction=True)
def test_a_key_seen_before_is_verified_without_a_query(quiet_process, channel, key):
    run(credentials.resolve(PresentedKey(key)))
    with CaptureQueriesContext(connection) as queries:
        verified = run(credentials.resolve(PresentedKey(key)))  # a database phase would run on another thread
    assert (verified.channel.pk, verified.kind, verified.source) == (channel.pk, credentials.SECRET, "api")
    assert verified.generation == key_cache.current_generation()
    assert [q["sql"] for q in queries] == []


@pytest.mark.django_db(transaction=True)
def test_an_unknown_key_is_never_cached(channel, key):
    unknown = PresentedKey(keys.generate())  # well formed, so it is looked up, but no channel has it
    for _ in range(3):
        with pytest.raises(InvalidApiKey):
            run(credentials.resolve(unknown))
    assert key_cache.peek(unknown.cache_id) == (None, None)


def test_a_revoked_key_stops_at_the_next_request(api, llm, channel, key):
    assert chat(api, key).status_code == 200  # now cached in the server's process
    api_key_revoke(api_key=ApiKey.objects.get(channel=channel))
    r = chat(api, key)
    assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"})
    assert history(api, key).status_code == 401


def test_a_rotation_without_grace_stops_the_old_key_at_the_next_request(api, llm, channel, key):
    assert chat(api, key).status_code == 200
    new = api_key_rotate(channel=channel, grace=timedelta(0)).plaintext
    assert chat(api, key).status_code == 401
    assert chat(api, new).status_code == 200


def test_a_deactivated_channel_is_refused_at_the_next_request_and_served_again_once_reactivated(api, llm, channel, key):
    assert chat(api, key).status_code == 200
    channel_update(channel=channel, is_active=False)
    r = chat(api, key)
    assert (r.status_code, r.json()) == (403, {"error": "Site is inactive"})
    channel_update(channel=channel, is_active=True)
    assert chat(api, key).status_code == 200


def test_a_refusal_from_the_cache_is_confirmed_from_the_database(api, llm, channel, key):
    channel_update(channel=channel, is_active=False)
    assert chat(api, key).status_code == 403  # the inactive channel is now cached
    Channel.objects.filter(pk=channel.pk).update(is_active=True)  # behind the application's back: no invalidation
    assert chat(api, key).status_code == 200


def test_a_new_limit_applies_from_the_next_request(api, llm, channel, key):
    assert chat(api, key).status_code == 200
    channel_update(channel=channel, rate_limit_per_minute=1)
    assert chat(api, key).status_code == 200  # a new rate is a new django-ratelimit window: it starts at 0
    r = chat(api, key)
    assert (r.status_code, r.json()["error"]) == (429, "Rate limit exceeded")


def test_a_change_behind_the_applications_back_is_seen_within_key_cache_seconds(api, llm, channel, key, settings):
    settings.KEY_CACHE_SECONDS = 1
    assert chat(api, key).status_code == 200
    ApiKey.objects.filter(channel=channel).update(revoked_at=channel.created_at)  # raw: no invalidation
    time.sleep(1.1)
    assert chat(api, key).status_code == 401


def test_counting_under_a_stale_generation_counts_nothing(channel):
    counter = limits.minute_counter(channel, "chat")
    run(counters.backend().take([counter]))
    with pytest.raises(counters.Stale):
        run(counters.backend().take([counter], guard=key_cache.guard(key_cache.current_generation() + 1)))
    from django.core.cache import cache

    assert cache.get(counter.key) == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_read_under_a_generation_that_changed_is_read_again(channel, key):
    run(credentials.resolve(PresentedKey(key)))
    cached = run(credentials.resolve(PresentedKey(key)))
    Channel.objects.filter(pk=channel.pk).update(rate_limit_per_minute=1)
    key_cache.invalidate()  # what any save does
    admitted = run(admission.admit(cached, "history", "s-1"))  # counted under the new settings, read again
    assert admitted.key is not cached and admitted.key.generation != cached.generation
    assert (cached.channel.rate_limit_per_minute, admitted.key.channel.rate_limit_per_minute) == (60, 1)


def test_the_widget_config_of_a_channel_deactivated_since_it_was_cached_is_refused(api, llm, channel, widget_key):
    from gateway.testing.api import WIDGET_ORIGIN

    def config():
        return api.get("/api/widget-config", params={"key": widget_key}, headers={"Origin": WIDGET_ORIGIN})

    assert config().status_code == 200
    channel_update(channel=channel, is_active=False)
    r = config()
    assert (r.status_code, r.json()) == (403, {"error": "Site is inactive"})
