"""Per-user rate limits for lookups: a sliding window with a clear 'slow down' reply."""
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
        now = self._clock()
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self._window:
            times.popleft()
        if len(times) >= self._limit:
            return self._window - (now - times[0])
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle users so memory stays bounded
            self._seen = {k: v for k, v in self._seen.items() if v}
        return timedelta(0)
