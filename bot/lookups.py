"""The bot's read side without its machinery: the records, the stories, the digests and the
public chat commands.

`newsbot digest`, `search` and `related` open only this, so they start without aiohttp, the
parse workers, moderation or metrics; bot/app.py builds the running bot on the polling
pipeline (bot/pipeline.py) instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from bot.chat.commands import Commands
from bot.chat.leased_job import holder_id
from bot.config import Config
from bot.digest.service import DigestService
from bot.enrich.stories import Stories
from bot.model import Claimant
from bot.ports import Clock
from bot.records import open_records, utc_now


@dataclass(frozen=True, slots=True)
class Lookups:
    """The digests and the public commands, over the records."""

    digests: DigestService
    commands: Commands
    clock: Clock


@asynccontextmanager
async def open_lookups(config: Config, *, clock: Clock = utc_now,
                       console_fallback: bool = False) -> AsyncIterator[Lookups]:
    """Open the records and build the read side on them; close the database on exit."""
    async with open_records(config, clock=clock, console_fallback=console_fallback) as records:
        store = records.store
        stories = Stories(store.articles, clock)
        claimant = Claimant(holder_id(), timedelta(seconds=config.model.bot.lease))
        digests = DigestService(store, stories, records.channels, clock, claimant)
        yield Lookups(digests, Commands(store, digests, None, stories, clock), clock)
