"""The store as the rest of the bot sees it: one object per table group, on the engine the
[bot] database setting names (an SQLite file, or a PostgreSQL URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.store.articles import ArticleStore
from bot.store.channels import ChannelStore
from bot.store.db import Database
from bot.store.deliveries import DeliveryStore
from bot.store.failing import FailingStore
from bot.store.feeds import FeedStore
from bot.store.identity import IdentityStore
from bot.store.leases import LeaseStore
from bot.store.postgres.url import PostgresUrl
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


# Where the database is: an SQLite file, or a PostgreSQL server and database.
Location = Path | PostgresUrl


def has_database(location: Location) -> bool:
    """Whether there is a database to read (a server is asked when it is opened)."""
    return isinstance(location, PostgresUrl) or location.exists()


@asynccontextmanager
async def open_database(location: Location) -> AsyncIterator[Database]:
    """Open and migrate the database with its engine; close it on exit."""
    if isinstance(location, PostgresUrl):
        from bot.store.postgres.engine import open_postgres  # asyncpg only when used

        async with open_postgres(location) as db:
            yield db
    else:
        from bot.store.sqlite.engine import open_sqlite

        async with open_sqlite(location) as sqlite_db:
            yield sqlite_db


@asynccontextmanager
async def open_store(location: Location) -> AsyncIterator[Store]:
    """Open and migrate the database at `location`; close it on exit."""
    async with open_database(location) as db:
        yield Store(db=db, feeds=FeedStore(db), articles=ArticleStore(db),
                    channels=ChannelStore(db), deliveries=DeliveryStore(db),
                    pruned=PruneStore(db), runtime=RuntimeStore(db),
                    identity=IdentityStore(db), failing=FailingStore(db),
                    leases=LeaseStore(db))
