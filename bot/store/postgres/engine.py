"""The PostgreSQL engine: an asyncpg pool, `?` turned into `$n`, migrations tracked in
schema_version, full-text search on the weighted tsvector column."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from itertools import count
from typing import Any, TypeVar

import asyncpg

from bot.store.db import (
    Database,
    DatabaseError,
    EngineError,
    Row,
    TextQuery,
    Transaction,
    migrations,
)
from bot.store.postgres.url import PostgresUrl

T = TypeVar("T")
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
POOL_SIZE = 10
_PARAMETER = re.compile(r"'(?:[^']|'')*'|\?")  # a string literal (kept) or a `?`
_MIGRATION_LOCK = 0x6E657773626F74  # pg_advisory_xact_lock key: one migrator at a time
# ts_rank_cd weights {D, C, B, A}: title (A) 1, tags (B) 0.5, summary (C) 0.2, as FTS5's
# bm25(10, 2, 5) weighs them on SQLite.
_WEIGHTS = "'{0.1, 0.2, 0.5, 1.0}'"


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """SQL with `?` parameters in asyncpg's `$1, $2 ...` form (`?` in literals kept)."""
    numbers = count(1)
    return _PARAMETER.sub(lambda m: m[0] if m[0] != "?" else f"${next(numbers)}", sql)


def tsquery(query: TextQuery) -> tuple[str, list[str]]:
    """A TextQuery as a tsquery expression: phrases by phraseto_tsquery (user text is
    never syntax), `&&` within a group, `||` between groups."""
    groups = [" && ".join("phraseto_tsquery('newsbot', ?)" for _ in group)
              for group in query if group]
    if not groups:
        return "''::tsquery", []
    return " || ".join(f"({g})" for g in groups), [p for group in query for p in group]


async def _guarded(step: Awaitable[T]) -> T:
    """Await a driver call; its failure becomes EngineError (a StoreError)."""
    try:
        return await step
    except DRIVER_ERRORS as error:
        raise EngineError(f"PostgreSQL: {error}") from error


def _values(params: Sequence[Any]) -> list[Any]:
    """Parameters PostgreSQL can take: its text can't hold NUL, which means nothing in a
    title or a setting (SQLite keeps it), so NUL characters are dropped."""
    return [p.replace("\x00", "") if isinstance(p, str) else p for p in params]


def _changed(status: str) -> int:
    """Rows changed, from a command status such as "INSERT 0 3" or "UPDATE 2"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTransaction(Transaction):
    """Statements on one pooled connection inside its transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _changed(await _guarded(self._conn.execute(numbered(sql), *_values(params))))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await _guarded(self._conn.executemany(numbered(sql), [_values(r) for r in rows]))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await _guarded(self._conn.fetch(numbered(sql), *_values(params))))


class PostgresDatabase(Database):
    """A pool of connections: reads and transactions run side by side, across processes."""

    engine = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: PostgresUrl) -> None:
        self.pool = pool
        self.url = url

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await _guarded(self.pool.acquire())
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    async def fetch_batch(self, sql: str, batch: Sequence[Sequence[Any]]) -> list[list[Row]]:
        async with self._connection() as conn:
            return [list(await _guarded(conn.fetch(numbered(sql), *_values(params))))
                    for params in batch]

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._connection() as conn:
            return list(await _guarded(conn.fetch(numbered(sql), *_values(params))))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One connection in one transaction; commits on success, rolls back on error."""
        async with self._connection() as conn:
            transaction = conn.transaction()
            await _guarded(transaction.start())
            try:
                yield PostgresTransaction(conn)
            except BaseException:
                with contextlib.suppress(*DRIVER_ERRORS):  # the first error is the one to tell
                    await transaction.rollback()
                raise
            await _guarded(transaction.commit())

    @property
    def skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED"

    def text_matches(self, query: TextQuery, *, min_id: int, limit: int,
                     feed_ids: Sequence[int] = ()) -> tuple[str, list[Any]]:
        expression, params = tsquery(query)
        feeds = f"AND feed_id IN ({','.join('?' * len(feed_ids))}) " if feed_ids else ""
        return (f"SELECT id, ts_rank_cd({_WEIGHTS}, search, q) AS score FROM articles, "
                f"(SELECT {expression} AS q) query WHERE search @@ q AND id >= ? {feeds}"
                "ORDER BY score DESC, id DESC LIMIT ?", [*params, min_id, *feed_ids, limit])

    def tag_matches(self, key: str) -> tuple[str, list[Any]]:
        # The index finds the word anywhere; ts_filter keeps the tags' (weight B) matches.
        return ("SELECT id FROM articles, (SELECT phraseto_tsquery('newsbot', ?) AS q) query "
                "WHERE search @@ q AND ts_filter(search, '{b}') @@ q", [key])


@asynccontextmanager
async def open_postgres(url: PostgresUrl) -> AsyncIterator[PostgresDatabase]:
    """Connect to the server, migrate the database; close the pool on exit."""
    try:
        pool = await asyncpg.create_pool(
            url.dsn, password=url.password or None, min_size=1, max_size=POOL_SIZE,
            timeout=10, server_settings={"application_name": "newsbot"})
    except DRIVER_ERRORS as error:
        raise DatabaseError(f"{url}: cannot connect to PostgreSQL: {error}") from None
    try:
        await _migrate(pool, url)
        yield PostgresDatabase(pool, url)
    finally:
        await pool.close()


async def _migrate(pool: asyncpg.Pool, url: PostgresUrl) -> None:
    """Apply the migrations this database lacks, in one transaction, one process at a time."""
    known = migrations("postgresql")
    newest = known[-1][0] if known else 0
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                               "version integer PRIMARY KEY, applied double precision NOT NULL)")
            current = await conn.fetchval("SELECT COALESCE(max(version), 0) FROM schema_version")
            if current > newest:
                raise DatabaseError(
                    f"{url}: the database is at schema version {current}, but this newsbot "
                    f"only knows up to {newest}; it was written by a newer newsbot: upgrade "
                    "newsbot, or restore a backup made by this version")
            for number, sql in known:
                if number > current:
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_version VALUES ($1, $2)",
                                       number, time.time())
    except DRIVER_ERRORS as error:
        raise DatabaseError(f"{url}: cannot migrate the database: {error}") from None
