"""Composition root: builds every part from Config, owns start and stop.

The chat adapters are imported by `run_bot` alone, so that the commands that never chat
(check, status, digest...) start without discord.py or python-telegram-bot; check and status
open only bot/records.py (no aiohttp, no numpy), digest, search and related bot/lookups.py.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.chat.adapter import PlatformError
from bot.chat.commands import Commands
from bot.chat.console_adapter import ConsoleAdapter
from bot.chat.feed_limits import AddLimits
from bot.chat.moderation import Moderation
from bot.chat.publishing import new_page_token
from bot.config import Config
from bot.digest.service import DigestService
from bot.enrich.stories import Stories
from bot.feeds.poll import Poller
from bot.logs import FEED_FAILURE, held_back
from bot.metrics import MeteredSender, Metrics, MetricsServer
from bot.model import CONSOLE_CHANNEL, FeedState
from bot.monitor import Monitor, ticks_for
from bot.pipeline import address_check, allowed_ports, open_pipeline
from bot.ports import Clock
from bot.records import utc_now
from bot.store.lock import run_lock
from bot.store.postgres.url import PostgresUrl
from bot.store.store import Store
from bot.web.links import Links

if TYPE_CHECKING:
    from bot.chat.adapter import ChatAdapter

log = logging.getLogger(__name__)
STOP_GRACE_S = 8.0  # a delivery in flight may finish (docker stop waits 10 s)


@dataclass(frozen=True, slots=True)
class Core:
    """The platform-neutral parts, built once from the config."""

    config: Config
    store: Store
    poller: Poller
    digests: DigestService
    commands: Commands
    clock: Clock
    stories: Stories  # same-story and related lookups (the web pages ask it too)
    metrics: Metrics = field(default_factory=Metrics)


def add_limits(config: Config) -> AddLimits:
    """How many feeds chat may try to add, from the config."""
    fetch = config.model.fetch
    return AddLimits(per_user=fetch.feed_adds_per_user, per_chat=fetch.feed_adds_per_chat,
                     private_per_day=fetch.private_feed_adds_per_day)


@asynccontextmanager
async def open_core(config: Config, *, clock: Clock = utc_now,
                    console_fallback: bool = False) -> AsyncIterator[Core]:
    """The polling pipeline (bot/pipeline.py) with the chat commands and moderation on top;
    everything closes in reverse on exit. Every part reads the time from `clock`."""
    fetch = config.model.fetch
    async with open_pipeline(config, clock=clock, console_fallback=console_fallback) as parts:
        moderation = Moderation(parts.store, parts.digests, parts.poller, address_check(config),
                                clock, fetch.interval, parts.fetcher,
                                max_feeds=fetch.max_feeds_per_channel,
                                ports=allowed_ports(config), limits=add_limits(config))
        metrics = Metrics()
        links = web_links(config)
        yield Core(config, parts.store, parts.poller, parts.digests,
                   Commands(parts.store, parts.digests, moderation, parts.stories, clock,
                            metrics=metrics, page_link=links.page_link if links else None),
                   clock, parts.stories, metrics)


def web_links(config: Config) -> Links | None:
    """The published pages' addresses, when the config has a [web] section."""
    web = config.model.web
    return Links(web.base_url) if web is not None else None


async def run_bot(config: Config) -> None:
    """Run until SIGINT/SIGTERM: poll on schedule, post digests, answer commands."""
    async with run_lock(config.database), \
            open_core(config, console_fallback=not has_platform(config)) as core, \
            AsyncExitStack() as adapters:
        if not isinstance(config.database, PostgresUrl):  # alone under the SQLite run lock,
            await core.store.leases.clear()  # the leases left are a dead process's
        console = ConsoleAdapter(core.commands)
        core.digests.add_sender(MeteredSender(console, core.metrics))
        if config.model.web is not None:  # before chat: its links work once /publish answers
            await adapters.enter_async_context(serve_web(core))
            await _show_console_page(core, console)
        for adapter in chat_adapters(config, core):
            core.digests.add_sender(
                MeteredSender(await adapters.enter_async_context(adapter), core.metrics))
        if config.model.metrics.listen:
            await adapters.enter_async_context(
                MetricsServer(core.metrics, config.model.metrics.listen))
        gc.freeze()  # the chat libraries too, as open_pipeline does for the rest
        monitor = Monitor(core.store, core.poller, core.digests, core.metrics, core.clock,
                          timedelta(seconds=config.model.bot.retention))
        await monitor.start(os.getpid())
        await core.digests.start()
        stop = _stop_event()
        first_round = asyncio.create_task(_first_round(core, console, monitor))
        monitor.start_ticks(ticks_for(config.model.bot.lease,
                                      shared=isinstance(config.database, PostgresUrl)))
        await console.start()
        try:
            await stop.wait()
        finally:
            log.info("stopping")
            first_round.cancel()
            await console.stop()
            await monitor.stop(grace_s=STOP_GRACE_S)


@asynccontextmanager
async def serve_web(core: Core) -> AsyncIterator[int]:
    """The web server of the published channels, on the loop while the bot runs (the config's
    `publish = true` channels get their page now, once); yields its port. PlatformError,
    naming the address, when it can't listen there."""
    from bot.web.reader import Reader
    from bot.web.server import Site, WebServer

    web, links = core.config.model.web, web_links(core.config)
    assert web is not None and links is not None
    for channel in core.config.model.channels:
        if channel.publish:
            await core.store.channels.add_page_token(channel.id, new_page_token(), core.clock())
    host, port = web.listen_address
    server = WebServer(Site(Reader(core.store, core.digests, core.stories), links, core.clock),
                       host, port)
    try:
        await server.__aenter__()
    except OSError as error:
        raise PlatformError(f"web: can't listen on {web.listen}: {error.strerror or error}") \
            from error
    try:
        yield server.port
    finally:
        await server.__aexit__(None, None, None)


async def _show_console_page(core: Core, console: ConsoleAdapter) -> None:
    """Print the console channel's page link, when it is published."""
    links = web_links(core.config)
    token = await core.store.channels.page_token(CONSOLE_CHANNEL)
    if links is not None and token is not None:
        console.print(f"This channel on the web: {links.page_link(token)}")


async def _first_round(core: Core, console: ConsoleAdapter, monitor: Monitor) -> None:
    """At start: poll what is due, show the console its digest, post digests missed while
    the bot was down (once each, however many slots were missed). Feeds that fail are
    told once, here, not in the log lines on the same terminal too."""
    with held_back(FEED_FAILURE):
        await monitor.poll_round()
    failing = [_failure_line(f) for f in await core.store.feeds.active_feeds() if f.failures]
    if failing:
        console.print("\n".join(failing))
    if any(c.id == CONSOLE_CHANNEL for c in await core.digests.channels()):
        digest = await core.digests.post_now(CONSOLE_CHANNEL)
        if not digest.items:
            console.print("No stories yet: nothing to show in the digest.")
    await monitor.digest_round()


def _failure_line(feed: FeedState) -> str:
    retry = f"{feed.next_poll:%H:%M} UTC" if feed.next_poll else "later"
    return f"! {feed.name}: {feed.last_error} (next try {retry})"


def has_platform(config: Config) -> bool:
    """Whether a chat platform is configured and has its token (an empty SecretStr is false)."""
    return bool((config.model.discord and config.discord_token)
                or (config.model.telegram and config.telegram_token))


def chat_adapters(config: Config, core: Core) -> list[ChatAdapter]:
    """An adapter for each configured platform that has its token; each platform's library
    is imported here, only when that platform is on."""
    adapters: list[ChatAdapter] = []
    model = config.model
    if model.discord is not None and config.discord_token:
        from bot.chat.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(model.discord, config.discord_token.get_secret_value(),
                                       core.commands, core.clock))
    if model.telegram is not None and config.telegram_token:
        from bot.chat.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(
            model.telegram, config.telegram_token.get_secret_value(), core.commands,
            core.clock, leases=core.store.leases,
            webhook_secret=config.telegram_webhook_secret.get_secret_value()))
    for name, section, token in (("discord", model.discord, config.discord_token),
                                 ("telegram", model.telegram, config.telegram_token)):
        if section is not None and not token:
            log.warning("[%s] is configured but %s_TOKEN is not set: %s stays off",
                        name, name.upper(), name)
    return adapters


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
