"""Telegram's flood limits kept on our side: per chat, per group and overall message rates,
and how long one message may be held up by them before its send fails."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from telegram.error import TelegramError

GROUP_WINDOW_S = 60.0
OVERALL_WINDOW_S = 1.0
# How often one message waits for its turn at the gate (another chat may take the overall slot
# each time) before the send fails; waits after the first are a second at most.
MAX_TURN_WAITS = 20
# How often one message is sent while Telegram answers 429 "retry after", and the most seconds
# waited out for it in all; past either, the send fails and a digest stays in the outbox.
FLOOD_ATTEMPTS = 5
MAX_FLOOD_WAIT_S = 60.0


class FloodLimited(TelegramError):
    """Flood control held a message up past our bounds: it was not sent, try again later."""


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """How fast the bot posts: Telegram's documented limits by default."""

    chat_interval_s: float = 1.0  # at most one message a second in one chat
    group_per_minute: int = 20  # at most 20 messages a minute in one group or channel
    overall_per_second: int = 30  # at most 30 messages a second in all


TELEGRAM_FLOOD_LIMITS = FloodLimits()


@dataclass(frozen=True, slots=True)
class FloodRetries:
    """How long Telegram's 429 answers may hold up one message before its send fails."""

    attempts: int = FLOOD_ATTEMPTS  # sends of the message in all, the first one included
    max_wait_s: float = MAX_FLOOD_WAIT_S  # seconds of retry_after waited out in all

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.max_wait_s < 0:
            raise ValueError("FloodRetries needs at least one attempt and a wait cap >= 0")


TELEGRAM_FLOOD_RETRIES = FloodRetries()


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
        """Wait until one more message to chat_id stays within every limit, and count it;
        FloodLimited (nothing counted) when no turn came after MAX_TURN_WAITS waits."""
        async with self._locks[chat_id]:
            delay = self.delay(chat_id, self._clock())
            for _ in range(MAX_TURN_WAITS):
                if delay <= 0:
                    break
                await asyncio.sleep(delay)  # another chat may take the overall slot meanwhile
                delay = self.delay(chat_id, self._clock())
            if delay > 0:
                raise FloodLimited(f"telegram: no turn to post in chat {chat_id} after "
                                   f"{MAX_TURN_WAITS} waits; the message was not sent")
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
