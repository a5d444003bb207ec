"""The SQLite connection: pragmas, numbered migrations, time conversion."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

Row = sqlite3.Row
# What a store call raises when the database itself fails (locked, full, corrupt): callers
# outside the store catch this name, never a driver's.
StoreError = sqlite3.Error


class DatabaseError(Exception):
    """The database can't be used; the message says why and what to do."""


def to_ts(moment: datetime | None) -> float | None:
    """Aware datetime -> unix seconds (what the tables store)."""
    return None if moment is None else moment.timestamp()


def from_ts(value: float | None) -> datetime | None:
    """Unix seconds -> aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def migrations() -> list[tuple[int, str]]:
    """The numbered migrations shipped with the code, in order."""
    folder = resources.files("bot.store") / "migrations"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """One aiosqlite connection for every write and most reads, plus a read-only
    connection for batches of reads that would otherwise cost a thread hop each.

    Writes take a lock so that a multi-statement transaction of one task is never
    committed half-way by another task sharing the connection.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path,
                 reader: sqlite3.Connection) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._reader = reader
        self._reader_lock = threading.Lock()

    async def fetch_batch(self, sql: str, batch: Sequence[Sequence[Any]]) -> list[list[Row]]:
        """The rows of one query for each parameter set, in one trip to a thread."""
        return await asyncio.to_thread(self._fetch_batch, sql, batch)

    def _fetch_batch(self, sql: str, batch: Sequence[Sequence[Any]]) -> list[list[Row]]:
        with self._reader_lock:
            return [self._reader.execute(sql, params).fetchall() for params in batch]

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of one query (one trip to the database thread)."""
        return list(await self.conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of one query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; returns the last row id."""
        async with self.transaction() as conn, conn.execute(sql, params) as cursor:
            return cursor.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many rows in one transaction."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Exclusive use of the connection; commits on success, rolls back on error."""
        async with self._lock:
            try:
                yield self.conn
            except BaseException:
                await self.conn.rollback()
                raise
            await self.conn.commit()


@asynccontextmanager
async def open_database(path: Path) -> AsyncIterator[Database]:
    """Open (creating if needed) and migrate the database; close it on exit."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(f"{path}: cannot create its folder: {error.strerror}") from None
    try:
        conn = await aiosqlite.connect(path)
    except sqlite3.Error as error:
        raise DatabaseError(f"{path}: cannot open the database: {error}") from None
    try:
        conn.row_factory = sqlite3.Row
        await _set_pragmas(conn, path)
        await _migrate(conn, path)
        reader = _open_reader(path)
        try:
            yield Database(conn, path, reader)
        finally:
            reader.close()
    finally:
        await conn.close()


def _open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (WAL lets it read while the writer writes)."""
    reader = sqlite3.connect(path, check_same_thread=False)
    reader.row_factory = sqlite3.Row
    reader.execute("PRAGMA query_only = ON")
    reader.execute("PRAGMA busy_timeout = 5000")
    return reader


async def _set_pragmas(conn: aiosqlite.Connection, path: Path) -> None:
    try:
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"{path}: not a newsbot database ({error})") from None


async def _migrate(conn: aiosqlite.Connection, path: Path) -> None:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    known = migrations()
    newest = known[-1][0] if known else 0
    if current > newest:
        raise DatabaseError(
            f"{path}: the database is at schema version {current}, but this newsbot only knows "
            f"up to {newest}; it was written by a newer newsbot: upgrade newsbot, or restore a "
            "backup made by this version")
    for number, sql in known:
        if number > current:
            await conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
