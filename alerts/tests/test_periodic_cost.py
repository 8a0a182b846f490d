"""The periodic work stays small: each round runs in one process, and a threshold check's queries do not grow
with the number of channels (it ran in every server process, channel by channel, on the requests' GIL)."""

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import thresholds
from alerts.models import AlertState
from channels_app.models import Channel
from conftest import make_channel
from gateway.infra.jobs.in_process import InProcessRunner


def test_each_round_of_a_periodic_job_runs_in_one_process(transactional_db, monkeypatch):
    # Two runners share the cache as two server processes share Redis (here the in-process cache, shared by
    # both runners of this one process).
    ran = []
    monkeypatch.setattr("gateway.infra.jobs.run_attempt", lambda name, kwargs, attempt: ran.append(name))
    processes = [InProcessRunner(), InProcessRunner()]
    try:
        started = time.monotonic()
        for runner in processes:
            runner.push(time.monotonic(), "alerts.check_thresholds", {}, 0, 0.5)
        time.sleep(2.2)
        slots = (time.monotonic() - started) / 0.5
    finally:
        for runner in processes:
            runner.stop()
    # Rounds every 0.5 s in each of two runners: about 4.4 slots, so about 5 runs, never the 10 of both.
    assert 3 <= len(ran) <= slots + 2, (len(ran), slots)


def test_a_claimed_round_is_not_claimed_again_by_another_process(transactional_db):
    assert InProcessRunner.claim("alerts.check_thresholds", 3600) is True
    assert InProcessRunner.claim("alerts.check_thresholds", 3600) is False  # another process, same round
    assert InProcessRunner.claim("retention.purge", 3600) is True  # another job


def queries_of_a_check() -> int:
    with CaptureQueriesContext(connection) as queries:
        thresholds.check_all()
    return len(queries)


def test_a_threshold_check_costs_the_same_queries_for_3_or_30_channels(owner, transactional_db):
    channels = [make_channel(owner, name=f"Shop {i}", credits=10**6, ignore_cap=True)[0] for i in range(3)]
    thresholds.check_all()  # first round: each channel's settings and state rows are made
    few = queries_of_a_check()
    channels += [make_channel(owner, name=f"Shop {i}", credits=10**6, ignore_cap=True)[0] for i in range(3, 30)]
    thresholds.check_all()
    many = queries_of_a_check()
    assert few == many <= 6, (few, many)
    # And a change is still claimed and alerted once: one channel runs low on credits.
    Channel.objects.filter(pk=channels[7].pk).update(credits=0)
    thresholds.check_all()
    assert AlertState.objects.get(channel=channels[7], kind=AlertState.Kind.CREDITS_LOW).crossed is True
    assert AlertState.objects.filter(crossed=True).count() == 1
    assert queries_of_a_check() == many  # crossed and recorded: nothing left to claim
