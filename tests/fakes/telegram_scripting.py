"""Scripted failures and Telegram's rate limits for the fake Bot API server."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http import HTTPStatus

from tests.fakes.telegram_state import ApiError, Params
from tests.fakes.telegram_world import FakeChat

# What a flooded chat refuses: everything that posts or changes a message there.
FLOODED_METHODS = frozenset({"sendmessage", "senddocument", "editmessagereplymarkup"})


def too_many_requests(retry_after: int) -> ApiError:
    """Telegram's 429: ``{"ok": false, "error_code": 429, "description": "Too Many Requests:
    retry after N", "parameters": {"retry_after": N}}``."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after})


@dataclass
class ScriptedFailure:
    """One scripted answer for a method: an error status and/or a delay before answering.

    With ``after``, the method does its work first (the message exists) and the error is
    answered instead of its result, as when Telegram's gateway fails on the way back.
    """

    status: int | None
    retry_after: int
    description: str | None
    delay: float = 0.0
    after: bool = False

    def error(self) -> ApiError | None:
        """The ApiError to answer with, or None for a pure delay."""
        if self.status is None:
            return None
        if self.status == 429:
            text = self.description or f"Too Many Requests: retry after {self.retry_after}"
            return ApiError(429, text, {"retry_after": self.retry_after})
        return ApiError(self.status, self.description or HTTPStatus(self.status).phrase)


@dataclass(frozen=True)
class Refusal:
    """sendMessage texts Telegram refuses for good with a 400: those containing ``marker``;
    only formatted ones (with a parse_mode) unless ``plain_too``."""

    marker: str
    description: str
    plain_too: bool

    def refuses(self, params: Params) -> bool:
        """Whether this sendMessage call is refused."""
        formatted = bool(params.text("parse_mode"))
        return self.marker in (params.text("text") or "") and (formatted or self.plain_too)

    def error(self) -> ApiError:
        """Telegram's answer: ``{"ok": false, "error_code": 400, "description": ...}``."""
        return ApiError(400, self.description)


class RateLimiter:
    """Telegram's documented limits: 1 msg/s per private chat, 20/min per group, 30/s overall."""

    def __init__(self) -> None:
        self._chat_times: dict[int, deque[float]] = defaultdict(deque)
        self._all_times: deque[float] = deque()

    @staticmethod
    def _wait(times: deque[float], window: float, limit: int, now: float) -> float:
        while times and times[0] <= now - window:
            times.popleft()
        return times[0] + window - now if len(times) >= limit else 0.0

    def check(self, chat: FakeChat) -> None:
        """Raise 429 with retry_after if one more message to ``chat`` exceeds a limit."""
        now = time.monotonic()
        window, limit = (1.0, 1) if chat.type == "private" else (60.0, 20)
        wait = max(
            self._wait(self._chat_times[chat.id], window, limit, now),
            self._wait(self._all_times, 1.0, 30, now),
        )
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))

    def record(self, chat_id: int) -> None:
        """Count one accepted message."""
        now = time.monotonic()
        self._chat_times[chat_id].append(now)
        self._all_times.append(now)
