"""Telegram's flood limits kept on our side: per chat, per group and overall message rates."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

GROUP_WINDOW_S = 60.0
OVERALL_WINDOW_S = 1.0


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """How fast the bot posts: Telegram's documented limits by default."""

    chat_interval_s: float = 1.0  # at most one message a second in one chat
    group_per_minute: int = 20  # at most 20 messages a minute in one group or channel
    overall_per_second: int = 30  # at most 30 messages a second in all


TELEGRAM_FLOOD_LIMITS = FloodLimits()


def _forget_before(times: deque[float], moment: float) -> None:
    while times and times[0] <= moment:
        times.popleft()


class FloodGate:
    """Makes each send wait for its turn; sends to one chat keep their order."""

    def __init__(self, limits: FloodLimits = TELEGRAM_FLOOD_LIMITS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._chats: dict[int, deque[float]] = defaultdict(deque)
        self._overall: deque[float] = deque()
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def wait_turn(self, chat_id: int) -> None:
        """Wait until one more message to chat_id stays within every limit, and count it."""
        async with self._locks[chat_id]:
            delay = self.delay(chat_id, self._clock())
            while delay > 0:  # another chat may take the overall slot meanwhile: check again
                await asyncio.sleep(delay)
                delay = self.delay(chat_id, self._clock())
            self.record(chat_id)

    def record(self, chat_id: int) -> None:
        """Count a message to chat_id as sent now."""
        now = self._clock()
        self._chats[chat_id].append(now)
        self._overall.append(now)

    def delay(self, chat_id: int, now: float) -> float:
        """Seconds until a message to chat_id may go (0 when it may go now)."""
        limits = self._limits
        sent = self._chats[chat_id]
        _forget_before(sent, now - GROUP_WINDOW_S)
        _forget_before(self._overall, now - OVERALL_WINDOW_S)
        waits = [0.0]
        if sent:
            waits.append(sent[-1] + limits.chat_interval_s - now)
        if chat_id < 0 and len(sent) >= limits.group_per_minute:  # groups and channels
            waits.append(sent[-limits.group_per_minute] + GROUP_WINDOW_S - now)
        if len(self._overall) >= limits.overall_per_second:
            waits.append(self._overall[-limits.overall_per_second] + OVERALL_WINDOW_S - now)
        return max(waits)
