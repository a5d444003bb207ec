"""How many feeds chat may try to add: per user, per chat, and per day from private chats."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from bot.chat.request import Caller, UserError
from bot.ports import Clock
from bot.ratelimit import RateLimiter

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PRIVATE = "private chats"  # the one key of the shared daily budget


@dataclass(frozen=True, slots=True)
class AddLimits:
    """Feeds that /feed add and /feed import may try (each costs the bot outbound requests)."""

    per_user: int = 50  # per user, per hour
    per_chat: int = 50  # per chat, per hour
    private_per_day: int = 200  # all private chats together, per day


class FeedAddLimits:
    """Counts each feed URL chat makes the bot fetch; refuses, saying when to come back."""

    def __init__(self, limits: AddLimits, clock: Clock) -> None:
        self._limits = limits
        self._users = RateLimiter(limits.per_user, HOUR, clock)
        self._chats = RateLimiter(limits.per_chat, HOUR, clock)
        self._private = RateLimiter(limits.private_per_day, DAY, clock)

    def charge(self, caller: Caller) -> None:
        """Count one feed tried by this caller, or UserError if any limit is reached."""
        waits = [
            (self._users, caller.user_id,
             f"you may try {self._limits.per_user} feeds an hour"),
            (self._chats, caller.channel_id,
             f"this chat may try {self._limits.per_chat} feeds an hour"),
        ]
        if caller.is_private:
            waits.append((self._private, PRIVATE,
                          f"private chats together may try {self._limits.private_per_day} "
                          "feeds a day"))
        for limiter, key, reason in waits:
            wait = limiter.blocked_for(key)
            if wait:
                raise UserError(f"Slow down: {reason}; try again in {_minutes(wait)}.")
        for limiter, key, _ in waits:
            limiter.count(key)


def _minutes(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"{minutes} min" if minutes < 120 else f"{math.ceil(minutes / 60)} h"
