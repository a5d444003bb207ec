"""`newsbot migrate`: copy an SQLite database into PostgreSQL, ids kept, twice-safe.

Columns are read from both schemas and intersected: a column the source has and the target
lacks is an error, never dropped silently; a source table this module does not know is too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bot.store.db import DatabaseError, migrations
from bot.store.lock import instance_lock
from bot.store.postgres.url import PostgresUrl

BATCH = 5000
# Parents before children (foreign keys); leases are held by running processes, not copied.
TABLES = ("feeds", "articles", "seen_keys", "channels", "digests", "deliveries", "runtime",
          "channel_pages")
_SKIPPED = ("leases", "sqlite_", "articles_fts")  # prefixes of tables not copied
_CLAIMS = ("lease_holder", "lease_until")  # a process's claim: the running processes take their own


class TransferError(DatabaseError):
    """The copy was refused or failed; the message says why (never the password)."""


@dataclass(frozen=True, slots=True)
class TableCount:
    """Rows in the source, rows newly copied, rows in the target afterwards."""

    table: str
    source: int
    copied: int
    target: int


Progress = Callable[[str], None]


def _open_source(source: Path) -> sqlite3.Connection:
    """The SQLite file, read-only; a missing file is an error, never created."""
    try:
        return sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise TransferError(f"{source}: can't open the database: {error}") from None


def _source_schema(conn: sqlite3.Connection, source: Path) -> dict[str, list[str]]:
    newest = migrations("sqlite")[-1][0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version != newest:
        raise TransferError(
            f"{source}: the database is at schema version {version}, this newsbot at {newest}"
            + ("; it was written by a newer newsbot: upgrade newsbot" if version > newest
               else "; run `newsbot check` with this newsbot once to upgrade it"))
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    unknown = [n for n in names if n not in TABLES and not n.startswith(_SKIPPED)]
    if unknown:
        raise TransferError(f"{source}: tables this newsbot can't copy: {', '.join(unknown)}")
    return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in TABLES}


async def _target_columns(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1"
        " AND table_schema = current_schema() AND is_generated = 'NEVER'", table)
    return {r["column_name"]: r["data_type"] for r in rows}


def _converter(data_type: str) -> Callable[[Any], Any]:
    """SQLite's loosely typed value as the PostgreSQL column wants it."""
    if data_type in ("double precision", "real"):
        return lambda v: None if v is None else float(v)
    if data_type in ("bigint", "integer", "smallint"):
        return lambda v: None if v is None else int(v)
    if data_type == "text":
        return lambda v: None if v is None else str(v).replace("\x00", "")
    return lambda v: v


async def _check_target(conn: asyncpg.Connection, url: PostgresUrl) -> None:
    newest = migrations("postgresql")[-1][0]
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    version = await conn.fetchval("SELECT COALESCE(max(version), 0) FROM schema_version") \
        if exists else None
    if version is not None and version != newest:
        raise TransferError(f"{url}: the database is at schema version {version}, this "
                            f"newsbot at {newest}; migrate into a database of this version")


async def transfer(source: Path, url: PostgresUrl, progress: Progress) -> list[TableCount]:
    """Copy every table of `source` into the database at `url` (created and migrated when
    empty), keeping ids; rows already there are skipped. Raises TransferError."""
    from bot.store.postgres.engine import DRIVER_ERRORS, open_postgres

    with instance_lock(source):  # refuses while a bot runs on the file
        conn = _open_source(source)
        try:
            schema = _source_schema(conn, source)
            try:
                pg = await asyncpg.connect(url.dsn, password=url.password or None)
            except DRIVER_ERRORS as error:
                raise TransferError(f"{url}: cannot connect: {error}") from None
            try:
                await _check_target(pg, url)
            finally:
                await pg.close()
            async with open_postgres(url) as db, db.pool.acquire() as pg:
                return [await _copy_table(conn, pg, t, schema[t], progress) for t in TABLES]
        except DRIVER_ERRORS as error:
            raise TransferError(f"{url}: {error}") from None
        finally:
            conn.close()


async def _copy_table(conn: sqlite3.Connection, pg: asyncpg.Connection, table: str,
                      source_columns: Sequence[str], progress: Progress) -> TableCount:
    target = await _target_columns(pg, table)
    lost = [c for c in source_columns if c not in target]
    if lost:
        raise TransferError(f"{table}: columns with no place on PostgreSQL: {', '.join(lost)}")
    columns = [c for c in source_columns if c not in _CLAIMS]
    convert = [_converter(target[c]) for c in columns]
    total = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    names = ", ".join(columns)
    copied = done = 0
    cursor = conn.execute(f"SELECT {names} FROM {table}")
    async with pg.transaction():
        await pg.execute(f"CREATE TEMP TABLE incoming (LIKE {table}) ON COMMIT DROP")
        while batch := cursor.fetchmany(BATCH):
            await pg.copy_records_to_table(
                "incoming", columns=columns,
                records=[tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in batch])
            done += len(batch)
            progress(f"{table}: {done}/{total}")
        if done:
            progress(f"{table}: writing {done} rows into the table and its indexes")
        status = await pg.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM incoming"
                                  " ON CONFLICT DO NOTHING")
        copied = int(status.rsplit(" ", 1)[-1])
        if "id" in columns and await pg.fetchval(
                "SELECT pg_get_serial_sequence($1, 'id') IS NOT NULL", table):
            await pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"GREATEST((SELECT max(id) FROM {table}), 1), "
                             f"(SELECT max(id) FROM {table}) IS NOT NULL)")
    after = await pg.fetchval(f"SELECT count(*) FROM {table}")
    return TableCount(table, total, copied, after)
