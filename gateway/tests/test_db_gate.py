"""API database phases are gated: a burst queues on the event loop instead of piling onto the pool."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from gateway.testing.api import chat

# Bursts of concurrent clients against the gate: a server on a socket serves them at once.
pytestmark = pytest.mark.live


def test_a_burst_larger_than_the_gate_is_served_in_full(api, llm, channel, key, settings):
    settings.DB_PHASE_CONCURRENCY = 2
    channel.rate_limit_per_minute = 1000
    channel.save()
    with ThreadPoolExecutor(max_workers=30) as pool:
        responses = list(pool.map(lambda i: chat(api, key, f"m{i}", session_id=f"s{i}"), range(30)))
    assert [r.status_code for r in responses] == [200] * 30


@pytest.mark.postgres
def test_no_more_connections_are_out_than_the_gate_allows(api, llm, channel, key, settings):
    settings.DB_PHASE_CONCURRENCY = 2
    channel.rate_limit_per_minute = 1000
    channel.save()
    peak, done = [0], threading.Event()

    def checked_out():
        stats = connection.pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    before = checked_out()  # other threads of the test process may hold some already

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], checked_out() - before)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=30) as pool:
            responses = list(pool.map(lambda i: chat(api, key, f"m{i}", session_id=f"s{i}"), range(30)))
    finally:
        done.set()
        watcher.join()
    assert [r.status_code for r in responses] == [200] * 30
    assert peak[0] <= 2 + 1  # the gate's two, plus one being handed back to the pool
