"""The bot's records without its machinery: the database, synced with the config file's
feeds, and the channels as they stand.

The read-only commands (status, check) open only this, so they start without aiohttp, numpy
or the digest service; bot/app.py builds the rest of the bot on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import Config
from bot.digest.channels import ChannelBook
from bot.model import CONSOLE_CHANNEL, Channel, FeedSpec
from bot.ports import Clock
from bot.store.store import Store, open_store


def utc_now() -> datetime:
    """The bot's clock (parts get it injected; tests pass their own)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Records:
    """The database and the channels, opened from the config."""

    config: Config
    store: Store
    channels: ChannelBook
    clock: Clock


def configured_channels(config: Config, *, console_fallback: bool = False) -> list[Channel]:
    """The config file's channels as domain objects; with `console_fallback`, the console
    too when the file does not name it."""
    default_tz = config.model.bot.timezone
    channels = [Channel(id=c.id, feeds=c.feeds, filter=c.filter, digest=c.digest,
                        timezone=c.timezone or default_tz, max_items=c.max_items,
                        fairness=c.fairness, breaking=c.breaking, post_empty=c.post_empty)
                for c in config.model.channels]
    if console_fallback and not any(c.id == CONSOLE_CHANNEL for c in channels):
        channels.append(Channel(id=CONSOLE_CHANNEL, timezone=default_tz))
    return channels


def feed_specs(config: Config) -> list[FeedSpec]:
    """The config file's feeds as domain objects."""
    default = config.model.fetch.interval
    return [FeedSpec(url=f.url, name=f.name, tags=f.tags, interval_s=f.interval or default,
                     full_text=f.full_text) for f in config.model.feeds]


@asynccontextmanager
async def open_records(config: Config, *, clock: Clock = utc_now,
                       console_fallback: bool = False) -> AsyncIterator[Records]:
    """Open the database and bring the config file's feeds into it; close it on exit."""
    channels = configured_channels(config, console_fallback=console_fallback)
    async with open_store(config.database) as store:
        await store.feeds.sync_config_feeds(feed_specs(config))
        yield Records(config, store, ChannelBook(store.channels, channels,
                                                 config.model.bot.timezone), clock)
