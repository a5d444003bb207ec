"""A feed's run of failures: its channels are told once, and it is disabled if it lasts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.model import FeedState
from bot.store.store import Store

log = logging.getLogger(__name__)
MAX_ERROR = 150  # characters of the error shown in a notice


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """When failures are told and when a failing feed is given up."""

    notify_after: int = 5
    disable_after: timedelta = timedelta(days=7)


class Notifier(Protocol):
    """Posts a notice to the channels that follow a feed."""

    async def notify_feed(self, feed: FeedState, text: str) -> int:
        """Tell the feed's channels; returns how many were told."""


class FeedFailures:
    """Decides what one more failure of a feed means; tells its channels when it matters."""

    def __init__(self, store: Store, policy: FailurePolicy,
                 notifier: Notifier | None = None) -> None:
        self._store = store
        self._policy = policy
        self._notifier = notifier

    async def failed(self, feed: FeedState, failures: int, error: str, now: datetime,
                     *, gone: bool) -> bool:
        """Note failure number `failures` in a row; True when the feed is to be disabled."""
        since = await self._store.failing.failing_since(feed.id, first=failures == 1, now=now)
        disable = gone or now - since >= self._policy.disable_after
        text = failure_notice(feed, failures, error, now - since, disable=disable, gone=gone,
                              notify_after=self._policy.notify_after)
        if text and self._notifier is not None:
            try:
                await self._notifier.notify_feed(feed, text)
            except Exception:  # a notice must never cost the feed its failure record
                log.exception("telling the channels of %s failed", feed.url)
        return disable


def failure_notice(feed: FeedState, failures: int, error: str, failing_for: timedelta, *,
                   disable: bool, gone: bool, notify_after: int) -> str:
    """The one notice a failure is worth, or "" (most failures are worth none)."""
    reason = error if len(error) <= MAX_ERROR else error[:MAX_ERROR - 1] + "…"
    if gone:
        return (f"The feed “{feed.name}” is gone for good (HTTP 410) and is turned off; "
                f"/feed add {feed.url} turns it back on.")
    if disable:
        days = max(1, round(failing_for / timedelta(days=1)))
        return (f"The feed “{feed.name}” has failed for {days} days ({reason}) and is turned "
                f"off; /feed add {feed.url} turns it back on.")
    if failures == notify_after:
        return (f"The feed “{feed.name}” has failed {failures} times in a row ({reason}); "
                "it is retried with backoff, and /feed list shows its state.")
    return ""
