"""The store as the rest of the bot sees it: one object per table group, one connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.store.articles import ArticleStore
from bot.store.channels import ChannelStore
from bot.store.db import Database, open_database
from bot.store.deliveries import DeliveryStore
from bot.store.failing import FailingStore
from bot.store.feeds import FeedStore
from bot.store.identity import IdentityStore
from bot.store.leases import LeaseStore
from bot.store.prune import PruneStore
from bot.store.runtime import RuntimeStore


@dataclass(frozen=True, slots=True)
class Store:
    """Every query the bot makes, grouped by table."""

    db: Database
    feeds: FeedStore
    articles: ArticleStore
    channels: ChannelStore
    deliveries: DeliveryStore
    pruned: PruneStore
    runtime: RuntimeStore
    identity: IdentityStore
    failing: FailingStore
    leases: LeaseStore


@asynccontextmanager
async def open_store(path: Path) -> AsyncIterator[Store]:
    """Open and migrate the database at `path`; close it on exit."""
    async with open_database(path) as db:
        yield Store(db=db, feeds=FeedStore(db), articles=ArticleStore(db),
                    channels=ChannelStore(db), deliveries=DeliveryStore(db),
                    pruned=PruneStore(db), runtime=RuntimeStore(db),
                    identity=IdentityStore(db), failing=FailingStore(db),
                    leases=LeaseStore(db))
