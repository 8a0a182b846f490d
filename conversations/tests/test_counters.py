"""The limit counters' contract (conversations/engine/counters), run against every implementation: in-process and Redis.

The API tests (test_limits, test_visitor_limits, test_widget_budget, test_scale_out)
exercise the chosen implementation through HTTP; these pin each one directly.
"""

import pytest
from django.core.cache import cache

from conversations.engine.counters import Stale
from conversations.engine.limits import Counter, day_counter
from gateway.infra.errors import RateLimited
from gateway.testing.cache_keys import clear_own_keys
from gateway.testing.implementations import COUNTERS, run


@pytest.fixture(params=COUNTERS)
def counters(request):
    clear_own_keys()
    yield request.param()
    clear_own_keys()


def counter(key, limit, *, held=False, share_percent=0) -> Counter:
    return Counter(key, limit, 60, lambda: RateLimited(retry_after=7), share_percent, held)


def take(counters, taken, guard=None):
    return run(counters.take(taken, guard=guard))


def test_each_counter_counts_up_to_its_limit_then_refuses_with_its_error(counters):
    c = counter("t:a", 2)
    take(counters, [c])
    take(counters, [c])
    with pytest.raises(RateLimited) as refused:
        take(counters, [c])
    assert refused.value.headers["Retry-After"] == "7"
    assert cache.get("t:a") == 3  # refused requests count too


def test_counters_after_a_refusing_one_are_not_counted_and_held_ones_before_it_are_given_back(counters):
    held, refusing, after = counter("t:held", 10, held=True), counter("t:full", 0), counter("t:after", 10)
    with pytest.raises(RateLimited):
        take(counters, [held, refusing, after])
    assert (cache.get("t:held"), cache.get("t:full"), cache.get("t:after")) == (0, 1, None)


def test_a_share_counter_allows_its_percentage_of_the_highest_base_it_was_given(counters):
    # 20 % of 10: two; a later, lower base (spent credits) never lowers it.
    assert [_takes(counters, counter("t:share", base, share_percent=20)) for base in (10, 5)] == [True, True]
    assert not _takes(counters, counter("t:share", 5, share_percent=20))
    assert _takes(counters, counter("t:share", 20, share_percent=20))  # a top-up: 20 % of 20 = four


def _takes(counters, c) -> bool:
    try:
        take(counters, [c])
    except RateLimited:
        return False
    return True


def test_give_back_frees_a_held_slot_and_never_raises_for_a_missing_one(counters):
    c = day_counter("t:day", 1, held=True)
    take(counters, [c])
    run(counters.give_back((c.key, "t:never-taken")))
    take(counters, [c])  # the slot was free again
    assert cache.get("t:never-taken") is None


def test_add_once_is_true_only_the_first_time(counters):
    assert run(counters.add_once("t:once", 30)) is True
    assert run(counters.add_once("t:once", 30)) is False


def test_a_guard_that_changed_counts_nothing(counters):
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("guards come from the key cache, which runs with Redis only")
    cache.set("t:guard", 5)
    take(counters, [counter("t:g", 10)], guard=("t:guard", 5))
    with pytest.raises(Stale):
        take(counters, [counter("t:g", 10)], guard=("t:guard", 6))
    assert cache.get("t:g") == 1


def test_counters_unavailable_is_a_503_never_unlimited(counters, monkeypatch):
    from gateway.infra.errors import ServiceUnavailable

    async def broken(*args):
        raise ConnectionError("down")

    monkeypatch.setattr(counters, "_count_all", broken)
    monkeypatch.setattr(counters, "_add", broken)
    with pytest.raises(ServiceUnavailable):
        take(counters, [counter("t:x", 1)])
    with pytest.raises(ServiceUnavailable):
        run(counters.add_once("t:y", 5))
