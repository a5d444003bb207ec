"""The database as the table-group modules see it, whatever the engine: queries with `?`
parameters, transactions, time conversion, and the few statements engines write differently."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Literal, Protocol

Engine = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row of either engine: by position (`row[0]`) or by name (`row["id"]`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...


class EngineError(Exception):
    """PostgreSQL failed (the server, the connection, a statement); the driver's error is
    the cause. SQLite's own errors are raised as they are."""


# What a store call raises when the database itself fails (locked, full, corrupt, gone):
# callers outside the store catch this name, never a driver's.
StoreError = (sqlite3.Error, EngineError)

# A full-text query: any of the groups, a group being all of its phrases (each one word or
# several in a row). Engines render it in their own syntax, with the user's text as parameters.
TextQuery = tuple[tuple[str, ...], ...]


class DatabaseError(Exception):
    """The database can't be used; the message says why and what to do."""


def to_ts(moment: datetime | None) -> float | None:
    """Aware datetime -> unix seconds (what the tables store)."""
    return None if moment is None else moment.timestamp()


def from_ts(value: float | None) -> datetime | None:
    """Unix seconds -> aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def migrations(engine: Engine = "sqlite") -> list[tuple[int, str]]:
    """An engine's numbered migrations shipped with the code, in order (PostgreSQL's are
    in migrations/postgresql/, numbered one-to-one with SQLite's)."""
    folder = resources.files("bot.store") / "migrations"
    if engine == "postgresql":
        folder = folder / "postgresql"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


class Transaction(ABC):
    """Statements run on one connection inside one transaction."""

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter set."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of one query."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of one query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class Database(ABC):
    """An open, migrated database: the portable queries the table groups share, and the
    engine's own full-text statements."""

    engine: Engine

    @property
    @abstractmethod
    def skip_locked(self) -> str:
        """What ends a claiming subquery (`SELECT id ... LIMIT ?`) so that processes claiming
        at once skip each other's rows instead of waiting for them; empty where one writer at
        a time is all the engine allows."""

    @abstractmethod
    async def fetch_batch(self, sql: str, batch: Sequence[Sequence[Any]]) -> list[list[Row]]:
        """The rows of one query for each parameter set, in one trip."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of one query."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of one query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; returns how many rows it changed."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many rows in one transaction."""
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Statements that commit together on success and roll back on error."""

    @abstractmethod
    def text_matches(self, query: TextQuery, *, min_id: int, limit: int,
                     feed_ids: Sequence[int] = ()) -> tuple[str, list[Any]]:
        """A subquery of (id, score) for articles matching `query` with ids >= min_id (and of
        these feeds only, when given), the `limit` best (score higher is better; title counts
        most, then tags, then summary)."""

    @abstractmethod
    def tag_matches(self, key: str) -> tuple[str, list[Any]]:
        """A subquery of the ids of articles whose tags contain the word `key`."""

