"""The polling pipeline alone, built from Config: records, fetcher, parse workers, stories,
digests (which tell moderators about failing feeds) and the poller.

`newsbot fetch` needs nothing more, so it starts without the chat commands, moderation and
feed discovery that bot/app.py adds on top for the bot and the other commands.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from bot.chat.leased_job import holder_id
from bot.config import Config
from bot.digest.service import DigestService
from bot.enrich.stories import Stories
from bot.enrich.tags import display_tag
from bot.feeds.failures import FailurePolicy, FeedFailures
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import DEFAULT_PORTS, AddressCheck
from bot.feeds.guard import address_check as guard_check
from bot.feeds.poll import Poller, PollSettings
from bot.feeds.worker import ParseWorker
from bot.model import Claimant, tag_key
from bot.ports import Clock
from bot.records import open_records, utc_now
from bot.store.store import Store


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The parts that poll feeds into the store."""

    store: Store
    fetcher: Fetcher
    stories: Stories
    digests: DigestService
    poller: Poller


def address_check(config: Config) -> AddressCheck:
    """Public addresses only, unless the config allows private or metadata ones."""
    fetch = config.model.fetch
    return guard_check(allow_private=fetch.allow_private_addresses,
                       allow_metadata=fetch.allow_metadata_addresses)


def allowed_ports(config: Config) -> frozenset[int]:
    """The ports feeds on public addresses may use: 80, 443 and the config's allowed_ports."""
    return DEFAULT_PORTS | frozenset(config.model.fetch.allowed_ports)


def tag_aliases(config: Config) -> dict[str, str]:
    """The config's tag aliases keyed by tag key: "U.S.", "usa" and "USA" are one."""
    return {tag_key(alias): display_tag(tag) for alias, tag in config.model.tags.aliases.items()}


@asynccontextmanager
async def open_pipeline(config: Config, *, clock: Clock = utc_now,
                        console_fallback: bool = False) -> AsyncIterator[Pipeline]:
    """Open the records (the database, with the config's feeds in it), the fetcher and the
    parse workers (they start on first use); close them in reverse on exit."""
    fetch = config.model.fetch
    limits = FetchLimits(timeout_s=fetch.timeout, max_bytes=fetch.max_bytes,
                         concurrency=fetch.concurrency, per_host=fetch.per_host,
                         user_agent=fetch.user_agent, allowed_ports=allowed_ports(config))
    async with AsyncExitStack() as stack:
        records = await stack.enter_async_context(
            open_records(config, clock=clock, console_fallback=console_fallback))
        store = records.store
        fetcher = await stack.enter_async_context(Fetcher(limits, address_check(config)))
        worker = await stack.enter_async_context(ParseWorker(processes=_worker_count()))
        stories = Stories(store.articles, clock)
        claimant = Claimant(holder_id(), timedelta(seconds=config.model.bot.lease))
        digests = DigestService(store, stories, records.channels, clock, claimant)
        failures = FeedFailures(store, FailurePolicy(
            fetch.notify_after_failures, timedelta(seconds=fetch.disable_after)), digests)
        poller = Poller(store, fetcher, worker, stories, clock,
                        PollSettings(concurrency=fetch.concurrency, max_entries=fetch.max_entries,
                                     aliases=tag_aliases(config), claimant=claimant),
                        failures)
        # What is loaded by now (modules, the parts) lives as long as the process: out of the
        # collector's full passes, which run on the loop and grew with it (tens of ms).
        gc.freeze()
        yield Pipeline(store, fetcher, stories, digests, poller)


def _worker_count() -> int:
    return os.cpu_count() or 1
