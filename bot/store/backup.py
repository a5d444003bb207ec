"""Backups: a consistent copy of the live database through SQLite's online backup API (or
pg_dump's archive of a PostgreSQL database)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

from bot.store.db import DatabaseError
from bot.store.postgres.backup import dump_database
from bot.store.postgres.url import PostgresUrl


class BackupError(DatabaseError):
    """The backup's target can't be written; the message names it and says why."""


def backup_database(source: Path, target: Path) -> int:
    """Copy `source` to `target` while other connections may write; returns the page count.

    The copy is one read transaction (consistent in WAL mode, writers keep going), written
    to a temporary file first and renamed, so `target` is never a half-written database.
    """
    if not source.is_file():
        raise DatabaseError(f"{source}: no database to back up")
    if target.is_dir():
        raise BackupError(f"{target}: is a folder; name the backup file, e.g. "
                          f"{target / source.name}")
    if target.resolve() == source.resolve():
        raise DatabaseError(f"{target}: the backup can't overwrite the live database")
    if target.exists() and not _is_database(target):
        raise BackupError(f"{target}: exists and is not a database: refusing to overwrite it")
    partial = target.with_name(target.name + ".partial")
    try:
        _create(partial)
        pages = _copy(source, partial)
        os.replace(partial, target)
    except OSError as error:
        raise BackupError(f"{target}: can't write the backup: {error.strerror}") from None
    except sqlite3.Error as error:
        raise BackupError(f"{source} -> {target}: backup failed: {error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return pages


def _is_database(path: Path) -> bool:
    """Whether `path` starts as an SQLite database does (an earlier backup may be replaced)."""
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _create(path: Path) -> None:
    """Create `path` (and its folders) empty, so that an unwritable target fails with its
    own reason (sqlite3 would only say "unable to open database file")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.open("wb").close()


def _copy(source: Path, target: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw",
                                              uri=True)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout = 5000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        row = dst.execute("PRAGMA page_count").fetchone()
        return int(row[0])


async def backup_database_async(source: Path | PostgresUrl, target: Path) -> str:
    """The backup off the event loop; what was written ("120 pages", "80 kB pg_dump archive")."""
    if isinstance(source, PostgresUrl):
        try:
            size = await asyncio.to_thread(dump_database, source, target)
        except DatabaseError as error:
            raise BackupError(str(error)) from None
        return f"{max(size // 1024, 1)} kB pg_dump archive"
    return f"{await asyncio.to_thread(backup_database, source, target)} pages"
