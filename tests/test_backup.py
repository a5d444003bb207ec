"""Backups: a consistent copy made while another connection writes; the CLI command; a
PostgreSQL database archived by pg_dump."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store.backup import BackupError, backup_database, backup_database_async
from bot.store.db import DatabaseError
from bot.store.postgres.url import PostgresUrl
from bot.store.store import open_store
from tests.postgres import client_tools
from tests.test_cli import newsbot


def make_database(path: Path) -> None:
    """A WAL database with a table and some rows."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
        conn.executemany("INSERT INTO t (a, b) VALUES (?, ?)", [("x" * 200, "y")] * 2000)
    conn.close()


def test_backup_while_another_connection_writes(tmp_path: Path) -> None:
    """Rows written in pairs (one transaction each) are never half in the copy."""
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    make_database(live)
    stop = threading.Event()

    def write() -> None:
        with sqlite3.connect(live, timeout=10) as conn:
            while not stop.is_set():
                conn.execute("BEGIN")
                conn.execute("INSERT INTO t (a, b) VALUES ('pair', '1')")
                conn.execute("INSERT INTO t (a, b) VALUES ('pair', '2')")
                conn.execute("COMMIT")
        conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(5):
            backup_database(live, copy)
    finally:
        stop.set()
        writer.join()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        pairs = conn.execute("SELECT count(*) FROM t WHERE a = 'pair'").fetchone()[0]
    conn.close()
    assert pairs % 2 == 0
    assert not (tmp_path / "copy.db.partial").exists()


def test_backup_never_overwrites_the_live_database(tmp_path: Path) -> None:
    """Backing up onto the database itself is refused."""
    live = tmp_path / "live.db"
    make_database(live)
    with pytest.raises(DatabaseError, match="can't overwrite the live database"):
        backup_database(live, live)


@pytest.mark.slow
def test_cli_backup_copies_the_configured_database(tmp_path: Path,
                                                   write_config: Callable[[str], Path]) -> None:
    """`newsbot backup PATH` writes a database with the bot's tables; no database is an
    error in one line."""
    config = write_config('[[channels]]\nid = "console"\n')
    missing = newsbot(config, "backup", str(tmp_path / "b.db"))
    assert missing.returncode == 2 and "no database to back up" in missing.stderr
    newsbot(config, "status")  # creates and migrates the database
    done = newsbot(config, "backup", str(tmp_path / "backups" / "b.db"))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "backups" / "b.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert {"feeds", "articles", "seen_keys", "runtime"} <= tables


async def test_postgres_backup_is_a_pg_dump_archive(postgres_database: PostgresUrl,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL database is backed up by pg_dump into a custom-format archive, which a
    later backup may replace; a file that is not an archive is never overwritten."""
    monkeypatch.setenv("PATH", f"{client_tools()}:/usr/bin:/bin")
    async with open_store(postgres_database) as store:
        await store.channels.ensure("console", datetime.now(UTC))
    target = tmp_path / "backups" / "newsbot.dump"
    for _ in range(2):
        written = await backup_database_async(postgres_database, target)
        assert written.endswith("kB pg_dump archive")
        assert target.read_bytes().startswith(b"PGDMP")
    other = tmp_path / "notes.txt"
    other.write_text("mine", encoding="utf-8")
    with pytest.raises(BackupError, match="not a pg_dump archive"):
        await backup_database_async(postgres_database, other)
    assert other.read_text(encoding="utf-8") == "mine"


async def test_postgres_backup_without_pg_dump_says_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no pg_dump on PATH the backup names the tool and the command to run."""
    monkeypatch.setenv("PATH", str(tmp_path))
    url = PostgresUrl("postgresql://newsbot@db.example.org/newsbot", password="hunter2")
    with pytest.raises(BackupError, match="needs pg_dump on PATH") as raised:
        await backup_database_async(url, tmp_path / "b.dump")
    assert "hunter2" not in str(raised.value)
