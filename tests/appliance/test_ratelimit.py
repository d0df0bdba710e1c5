"""The status lookup's rate limiter, on a hand-turned clock."""

from __future__ import annotations

import threading

import pytest

from appliance.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_n_attempts_per_window_then_refused_until_the_oldest_ages_out() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 600, clock=clock)
    for _ in range(3):
        assert limiter.allow("10.42.0.23")
        clock.now += 100
    assert not limiter.allow("10.42.0.23")  # at 1300: three since 1000
    assert limiter.retry_after("10.42.0.23") == 300
    clock.now = 1599
    assert not limiter.allow("10.42.0.23")
    clock.now = 1600  # the attempt at 1000 leaves the window
    assert limiter.retry_after("10.42.0.23") == 0
    assert limiter.allow("10.42.0.23")
    assert not limiter.allow("10.42.0.23")
    assert limiter.retry_after("10.42.0.23") == 100


def test_refused_attempts_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 60, clock=clock)
    limiter.allow("a")
    limiter.allow("a")
    for _ in range(50):
        clock.now += 1
        assert not limiter.allow("a")
    clock.now += 10
    assert limiter.allow("a")


def test_keys_are_counted_apart() -> None:
    limiter = RateLimiter(1, 60, clock=Clock())
    assert limiter.allow("10.42.0.23")
    assert limiter.allow("10.42.0.24")
    assert not limiter.allow("10.42.0.23")


def test_memory_is_bounded_dropping_the_least_recently_seen() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 60, clock=clock, max_keys=3)
    for key in ("a", "b", "c", "d"):
        limiter.allow(key)
    assert len(limiter) == 3
    assert limiter.allow("a")  # forgotten, so allowed again
    assert not limiter.allow("d")


def test_keys_with_nothing_left_in_the_window_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 60, clock=clock)
    limiter.allow("a")
    clock.now += 61
    assert limiter.retry_after("a") == 0
    assert len(limiter) == 0


def test_threads_never_get_more_than_the_limit() -> None:
    limiter = RateLimiter(10, 600, clock=Clock())
    results: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(20):
            allowed = limiter.allow("same")
            with lock:
                results.append(allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 10


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (1, 0)])
def test_nonsense_limits_are_refused(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit, window)
