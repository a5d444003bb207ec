"""Health at a glance: uptime, stalls, feeds and their state, the next digest per channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.digest.local_time import TIME, format_local
from bot.digest.schedule import ScheduleError, parse_schedule
from bot.liveness import liveness
from bot.model import Channel
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

    @property
    def state(self) -> str:
        """"ok", "backing off" (failing, retried later) or "disabled"."""
        return "disabled" if self.disabled else "backing off" if self.failures else "ok"


@dataclass(frozen=True, slots=True)
class BotHealth:
    """The running bot as its heartbeat tells it."""

    running: bool
    healthy: bool
    problem: str  # why it is not healthy ("" when it is)
    stalls: tuple[str, ...]
    started: datetime | None
    uptime_s: int | None
    last_poll: datetime | None
    next_poll: datetime | None
    last_digest: datetime | None


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """One channel's schedule and state."""

    id: str
    digest: str
    timezone: str
    filter: str
    next_digest: datetime | None
    paused: str
    failed_digests: int = 0  # digests given up because the platform kept refusing a message


@dataclass(frozen=True, slots=True)
class Status:
    """Everything `status` shows."""

    now: datetime
    bot: BotHealth
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
        for feed, shown in zip(self.feeds, result["feeds"], strict=True):
            shown["state"] = feed.state
        return result


def bot_lines(status: Status, timezone: str = "UTC") -> list[str]:
    """The bot's own health in a few lines: running or not, uptime, stalls, polls (times in
    `timezone`)."""
    bot, now = status.bot, status.now
    if not bot.running:
        lines = [f"Not running: {bot.problem}."]
    else:
        lines = [f"Running for {_span(bot.uptime_s or 0)}" + ("." if bot.healthy else
                                                             f"; {bot.problem}.")]
    polled = f"{_ago(now, bot.last_poll)}" if bot.last_poll else "no poll round yet"
    upcoming = ("due now" if bot.next_poll is None or bot.next_poll <= now
                else f"next at {format_local(bot.next_poll, timezone, TIME)}")
    lines.append(f"Last poll round: {polled}; {upcoming}.")
    if bot.last_digest:
        lines.append(f"Last delivery round: {_ago(now, bot.last_digest)}.")
    return lines


def _ago(now: datetime, moment: datetime) -> str:
    return f"{_span(int((now - moment).total_seconds()))} ago"


def _span(seconds: int) -> str:
    """3725 -> "1 h 2 min"; under a minute -> "42 s"."""
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"


async def collect_status(store: Store, channels: Sequence[Channel], now: datetime) -> Status:
    """Read the current state of feeds and of these channels (as they stand)."""
    counts = await store.articles.count_by_feed()
    feeds = tuple(
        FeedHealth(name=f.name, url=f.url, articles=counts.get(f.id, 0), failures=f.failures,
                   last_error=f.last_error, last_polled=f.last_polled, next_poll=f.next_poll,
                   disabled=f.disabled)
        for f in await store.feeds.active_feeds())
    shown = []
    failed = await store.deliveries.failed_counts()
    for channel in channels:
        try:
            upcoming = parse_schedule(channel.digest, channel.timezone).next_after(now)
        except ScheduleError:
            upcoming = None
        shown.append(ChannelHealth(
            id=channel.id, digest=channel.digest, timezone=channel.timezone,
            filter=channel.filter, next_digest=upcoming,
            paused=await store.channels.paused_reason(channel.id),
            failed_digests=failed.get(channel.id, 0)))
    return Status(now=now, bot=await _bot_health(store, feeds, now), articles=sum(counts.values()),
                  feeds=feeds, channels=tuple(shown))


async def _bot_health(store: Store, feeds: tuple[FeedHealth, ...], now: datetime) -> BotHealth:
    beat = await store.runtime.heartbeat()
    alive = liveness(beat, now)
    due = [f.next_poll for f in feeds if f.next_poll is not None and not f.disabled]
    return BotHealth(
        running=alive.running, healthy=alive.healthy, problem=alive.reason, stalls=alive.stalls,
        started=beat.started if beat else None,
        uptime_s=int((now - beat.started).total_seconds()) if beat and alive.running else None,
        last_poll=beat.last_poll if beat else None, next_poll=min(due, default=None),
        last_digest=beat.last_digest if beat else None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
