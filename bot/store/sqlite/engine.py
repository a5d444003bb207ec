"""The SQLite connection: pragmas, numbered migrations (PRAGMA user_version), FTS5."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.db import Database, DatabaseError, Row, TextQuery, Transaction, migrations


def fts5_query(query: TextQuery) -> str:
    """A TextQuery in FTS5 syntax: every phrase quoted, so user text is never an operator."""
    def phrase(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'
    groups = ["(" + " AND ".join(map(phrase, group)) + ")" for group in query if group]
    return " OR ".join(groups) or '""'


class SqliteTransaction(Transaction):
    """Statements on the writer connection, inside the transaction the database holds."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._conn.execute(sql, params) as cursor:
            return max(cursor.rowcount, 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))


class SqliteDatabase(Database):
    """One aiosqlite connection for every write and most reads, plus a read-only
    connection for batches of reads that would otherwise cost a thread hop each.

    Writes take a lock so that a multi-statement transaction of one task is never
    committed half-way by another task sharing the connection.
    """

    engine = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path,
                 reader: sqlite3.Connection) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._reader = reader
        self._reader_lock = threading.Lock()

    async def fetch_batch(self, sql: str, batch: Sequence[Sequence[Any]]) -> list[list[Row]]:
        return await asyncio.to_thread(self._fetch_batch, sql, batch)

    def _fetch_batch(self, sql: str, batch: Sequence[Sequence[Any]]) -> list[list[Row]]:
        with self._reader_lock:
            return [self._reader.execute(sql, params).fetchall() for params in batch]

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Exclusive use of the connection; commits on success, rolls back on error."""
        async with self._lock:
            try:
                yield SqliteTransaction(self.conn)
            except BaseException:
                await self.conn.rollback()
                raise
            await self.conn.commit()

    @property
    def skip_locked(self) -> str:
        return ""  # writers take turns: a claim's UPDATE runs alone

    def text_matches(self, query: TextQuery, *, min_id: int, limit: int,
                     feed_ids: Sequence[int] = ()) -> tuple[str, list[Any]]:
        # BM25 weights (title, summary, tags) are set on the index by migration 001.
        if not feed_ids:
            return ("SELECT rowid AS id, -rank AS score FROM articles_fts WHERE articles_fts "
                    "MATCH ? AND rowid >= ? ORDER BY rank LIMIT ?",
                    [fts5_query(query), min_id, limit])
        feeds = ",".join("?" * len(feed_ids))
        return ("SELECT articles_fts.rowid AS id, -articles_fts.rank AS score FROM articles_fts "
                "JOIN articles ON articles.id = articles_fts.rowid WHERE articles_fts MATCH ? "
                f"AND articles_fts.rowid >= ? AND articles.feed_id IN ({feeds}) "
                "ORDER BY articles_fts.rank LIMIT ?",
                [fts5_query(query), min_id, *feed_ids, limit])

    def tag_matches(self, key: str) -> tuple[str, list[Any]]:
        return ("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?",
                [f'tags : "{key}"'])


@asynccontextmanager
async def open_sqlite(path: Path) -> AsyncIterator[SqliteDatabase]:
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
            yield SqliteDatabase(conn, path, reader)
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
    known = migrations("sqlite")
    newest = known[-1][0] if known else 0
    if current > newest:
        raise DatabaseError(
            f"{path}: the database is at schema version {current}, but this newsbot only knows "
            f"up to {newest}; it was written by a newer newsbot: upgrade newsbot, or restore a "
            "backup made by this version")
    for number, sql in known:
        if number > current:
            await conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
