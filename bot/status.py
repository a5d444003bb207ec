"""Health at a glance: feeds, articles, failures and the next digest of every channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.digest.schedule import ScheduleError, parse_schedule
from bot.digest.service import DigestService
from bot.store.store import Store


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One feed's state."""

    name: str
    url: str
    articles: int
    failures: int
    last_error: str
    last_polled: datetime | None
    next_poll: datetime | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """One channel's schedule and state."""

    id: str
    digest: str
    timezone: str
    filter: str
    next_digest: datetime | None
    paused: str


@dataclass(frozen=True, slots=True)
class Status:
    """Everything `status` shows."""

    now: datetime
    articles: int
    feeds: tuple[FeedHealth, ...]
    channels: tuple[ChannelHealth, ...]

    @property
    def failing(self) -> tuple[FeedHealth, ...]:
        """Feeds whose last poll failed, or that are disabled."""
        return tuple(f for f in self.feeds if f.failures or f.disabled)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO strings)."""
        result: dict[str, Any] = _jsonable(asdict(self))
        return result


async def collect_status(store: Store, digests: DigestService, now: datetime) -> Status:
    """Read the current state of feeds and channels."""
    counts = await store.articles.count_by_feed()
    feeds = tuple(
        FeedHealth(name=f.name, url=f.url, articles=counts.get(f.id, 0), failures=f.failures,
                   last_error=f.last_error, last_polled=f.last_polled, next_poll=f.next_poll,
                   disabled=f.disabled)
        for f in await store.feeds.active_feeds())
    channels = []
    for channel in await digests.channels():
        try:
            upcoming = parse_schedule(channel.digest, channel.timezone).next_after(now)
        except ScheduleError:
            upcoming = None
        channels.append(ChannelHealth(
            id=channel.id, digest=channel.digest, timezone=channel.timezone,
            filter=channel.filter, next_digest=upcoming,
            paused=await store.channels.paused_reason(channel.id)))
    return Status(now=now, articles=sum(counts.values()), feeds=feeds, channels=tuple(channels))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
