"""While chats wait on the provider they hold no database connection."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from gateway.testing.api import chat


@pytest.mark.postgres
@pytest.mark.live  # eight clients at once, on the server's own pool
def test_chats_waiting_upstream_hold_no_pooled_connection(api, llm, channel, key):
    llm.latency = 1.5

    def checked_out():
        stats = connection.pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    # Compared with what is out before the chats start: other threads of the test
    # process (earlier tests, the test's own connection) may hold some already.
    before = checked_out()
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(chat, api, key, f"m{i}", f"s{i}") for i in range(8)]
        deadline = time.monotonic() + 10
        while len(llm.requests) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(llm.requests) == 8  # all eight are now waiting on the provider
        # Eight chats waiting upstream: had each kept its connection, eight more would be out.
        assert checked_out() - before <= 1, connection.pool.get_stats()
        assert [f.result().status_code for f in futures] == [200] * 8
