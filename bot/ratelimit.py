"""Sliding-window rate limits: chat lookups per user, feeds added per user, chat and day, and
web searches per client address."""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from bot.ports import Clock


class RateLimiter:
    """At most `limit` actions per `window` for each key (a platform user id, a chat, a client
    address). Keys idle for a whole window are forgotten once more than `max_keys` are held,
    so memory stays bounded however many keys come and go."""

    def __init__(self, limit: int, window: timedelta, clock: Clock,
                 max_keys: int = 10_000) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._max_keys = max_keys
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
        times = self._seen.get(key)
        if times is None:
            return timedelta(0)
        while times and now - times[0] >= self._window:
            times.popleft()
        if len(times) >= self._limit:
            return self._window - (now - times[0])
        return timedelta(0)

    def count(self, key: str) -> None:
        """Count one action of the key now."""
        now = self._clock()
        self._seen.setdefault(key, deque()).append(now)
        if len(self._seen) > self._max_keys:
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < self._window}
