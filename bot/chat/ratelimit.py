"""Sliding-window rate limits (lookups per user, feeds added per user, chat and day)."""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from bot.ports import Clock


class RateLimiter:
    """At most `limit` actions per `window` for each key (e.g. a platform user id)."""

    def __init__(self, limit: int, window: timedelta, clock: Clock) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[datetime]] = {}

    def wait_time(self, key: str) -> timedelta:
        """Zero and the action is counted, or how long until the key may act again."""
        wait = self.blocked_for(key)
        if not wait:
            self.count(key)
        return wait

    def blocked_for(self, key: str) -> timedelta:
        """How long until the key may act again (zero: now); counts nothing."""
        now = self._clock()
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self._window:
            times.popleft()
        if len(times) >= self._limit:
            return self._window - (now - times[0])
        return timedelta(0)

    def count(self, key: str) -> None:
        """Count one action of the key now."""
        self._seen.setdefault(key, deque()).append(self._clock())
        if len(self._seen) > 10_000:  # forget idle users so memory stays bounded
            self._seen = {k: v for k, v in self._seen.items() if v}
