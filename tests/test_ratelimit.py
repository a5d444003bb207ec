"""The sliding window shared by chat lookups, feed adds and web searches."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_key_waits_until_its_oldest_action_leaves_the_window() -> None:
    """Three per minute: the fourth waits for the first to age out, other keys are free."""
    clock = Clock()
    limiter = RateLimiter(3, timedelta(minutes=1), clock)
    for second in (0, 10, 20):
        clock.now += timedelta(seconds=second and 10)
        assert limiter.wait_time("ann") == timedelta(0)
    assert limiter.wait_time("ann") == timedelta(seconds=40)
    assert limiter.wait_time("bob") == timedelta(0)
    clock.now += timedelta(seconds=40)
    assert limiter.blocked_for("ann") == timedelta(0)
    assert limiter.wait_time("ann") == timedelta(0)


def test_blocked_for_counts_nothing() -> None:
    """Asking how long to wait is not an action."""
    limiter = RateLimiter(1, timedelta(minutes=1), Clock())
    for _ in range(5):
        assert limiter.blocked_for("ann") == timedelta(0)
    assert limiter.wait_time("ann") == timedelta(0)
    assert limiter.wait_time("ann") > timedelta(0)


def test_a_flood_of_other_keys_does_not_free_a_limited_one() -> None:
    """Past max_keys, keys idle for a whole window are forgotten; one still inside its window
    stays limited (a client cannot escape its limit by flooding with other addresses)."""
    clock = Clock()
    limiter = RateLimiter(1, timedelta(minutes=1), clock, max_keys=100)
    for n in range(100):
        limiter.wait_time(f"old-{n}")
    clock.now += timedelta(seconds=30)
    assert limiter.wait_time("flooder") == timedelta(0)
    clock.now += timedelta(seconds=31)
    for n in range(300):
        assert limiter.wait_time(f"new-{n}") == timedelta(0)
    assert limiter.wait_time("flooder") == timedelta(seconds=29)
    assert limiter.wait_time("old-1") == timedelta(0)
