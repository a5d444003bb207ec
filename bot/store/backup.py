"""Backups: a consistent copy of the live database through SQLite's online backup API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

from bot.store.db import DatabaseError


def backup_database(source: Path, target: Path) -> int:
    """Copy `source` to `target` while other connections may write; returns the page count.

    The copy is one read transaction (consistent in WAL mode, writers keep going), written
    to a temporary file first and renamed, so `target` is never a half-written database.
    """
    if not source.is_file():
        raise DatabaseError(f"{source}: no database to back up")
    if target.resolve() == source.resolve():
        raise DatabaseError(f"{target}: the backup can't overwrite the live database")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        pages = _copy(source, partial)
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise DatabaseError(f"{source}: backup failed: {error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return pages


def _copy(source: Path, target: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw",
                                              uri=True)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout = 5000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        row = dst.execute("PRAGMA page_count").fetchone()
        return int(row[0])


async def backup_database_async(source: Path, target: Path) -> int:
    """backup_database off the event loop."""
    return await asyncio.to_thread(backup_database, source, target)
