"""Every key the limits write to Redis expires: none is left to grow the cache forever.

Against the real Redis (REDIS_URL); the in-process cache has no TTLs to inspect.
"""

import pytest
import redis
from django.conf import settings

from gateway.testing.api import chat, chat_stream, history

pytestmark = pytest.mark.redis


def test_every_limit_key_has_a_ttl(api, llm, channel, key, other_channel_and_key):
    channel.daily_limit = 4
    channel.save()
    assert chat(api, key).status_code == 200
    assert chat_stream(api, key)[0].status_code == 200
    llm.mode, llm.status = "status", 400  # a provider failure gives its daily slot back (a DECR)
    assert chat(api, key).status_code == 500
    llm.mode = "ok"
    assert [chat(api, key).status_code for _ in range(3)] == [200, 200, 429]  # a refusal by the daily limit
    assert history(api, key).status_code == 200
    assert chat(api, other_channel_and_key[1].plaintext).status_code == 200
    assert api.get("/healthz").status_code == 200

    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    ttls = {k.decode(): client.ttl(k) for k in client.scan_iter(match=f"{prefix}:*", count=1000)}
    for part in [str(channel.public_id), str(other_channel_and_key[0].public_id), "daily:", "rl:"]:
        assert any(part in k for k in ttls), (part, ttls)
    # -1 is a key that never expires (0 is one expiring within the second, -2 one already gone)
    assert {k: t for k, t in ttls.items() if t == -1} == {}
    assert max(ttls.values()) <= 25 * 3600  # the longest lives until an hour past UTC midnight
