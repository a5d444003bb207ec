"""Tests for `newsbot migrate`: an SQLite database copied into PostgreSQL on a real server."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store.lock import instance_lock
from bot.store.postgres.url import PostgresUrl
from bot.store.store import open_store
from bot.store.transfer import TABLES
from tests.fakes.feed_server import FeedServer
from tests.test_cli import FEEDS, newsbot

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SAMPLES = {
    "articles": "SELECT id, title, vector, cluster_id FROM articles ORDER BY id",
    "channels": "SELECT id, filter, paused_reason FROM channels ORDER BY id",
    "deliveries": "SELECT channel_id, article_id, digest_id, position, message_id, sent"
                  " FROM deliveries ORDER BY channel_id, article_id",
    "feeds": "SELECT id, url, etag, failures FROM feeds ORDER BY id",
}


def _post_a_digest(config: Path) -> None:
    """`newsbot run` on the console until it has posted a digest, then SIGTERM."""
    proc = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "News digest" in line:
            break
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)


async def _chat_settings(database: Path) -> None:
    async with open_store(database) as store:
        await store.channels.set_setting("console", "filter", "tariffs OR chips", NOW)
        await store.channels.set_paused("console", "on holiday")


@pytest.fixture
def populated(feed_server: FeedServer, write_config: Callable[[str], Path]) -> Path:
    """A config whose SQLite database holds fetched feeds, a posted digest and chat settings."""
    feeds = "".join(f'[[feeds]]\nurl = "{feed_server.url(name)}"\n' for name in FEEDS)
    config = write_config('[fetch]\nallow_private_addresses = true\ntimeout = "5s"\n' + feeds
                          + '[[channels]]\nid = "console"\ndigest = "daily 08:00"\n')
    newsbot(config, "fetch")
    _post_a_digest(config)
    asyncio.run(_chat_settings(config.parent / "newsbot.db"))
    return config


def _sqlite_rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as conn:
        return [tuple(row) for row in conn.execute(sql)]


async def _pg_rows(url: PostgresUrl, sql: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url.dsn, password=url.password or None)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _pg_execute(url: PostgresUrl, sql: str) -> None:
    conn = await asyncpg.connect(url.dsn, password=url.password or None)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _same(left: list[tuple[Any, ...]], right: list[tuple[Any, ...]]) -> bool:
    """Rows equal, SQLite's integer-valued reals and PostgreSQL's floats alike."""
    return left == right or [tuple(float(v) if isinstance(v, int) else v for v in r)
                             for r in left] == [tuple(float(v) if isinstance(v, int) else v
                                                      for v in r) for r in right]


@pytest.mark.slow
def test_migrate_copies_everything_once(populated: Path,
                                        postgres_database: PostgresUrl) -> None:
    """migrate copies every table with its ids (counts and sampled rows equal), a second
    run copies nothing, and search, digest and status then work on PostgreSQL."""
    database = populated.parent / "newsbot.db"
    first = newsbot(populated, "migrate", "--to", postgres_database.dsn)
    assert first.returncode == 0, first.stderr
    for table in TABLES:
        assert table in first.stdout
    for table, sql in SAMPLES.items():
        rows = _sqlite_rows(database, sql)
        assert rows, table
        assert _same(rows, asyncio.run(_pg_rows(postgres_database, sql))), table
    assert any(row[2] for row in _sqlite_rows(database, SAMPLES["deliveries"]))
    second = newsbot(populated, "migrate", "--to", postgres_database.dsn)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("nothing to copy") == len(TABLES)
    on_pg = populated.parent / "pg.toml"
    on_pg.write_text(populated.read_text(encoding="utf-8")
                     + f'[bot]\ndatabase = "{postgres_database.dsn}"\n', encoding="utf-8")
    found = newsbot(on_pg, "search", "semiconductors", "tariffs")
    assert "Japan and South Korea agree to cut tariffs" in found.stdout, found.stderr
    assert newsbot(on_pg, "status").returncode == 0
    digest = newsbot(on_pg, "digest")
    assert digest.returncode == 0, digest.stderr
    # new rows get ids past the copied ones: the identity sequences were moved on
    added = asyncio.run(_pg_rows(postgres_database,
                                 "INSERT INTO feeds (url) VALUES ('http://x.test/')"
                                 " RETURNING id"))
    assert added[0][0] > max(r[0] for r in _sqlite_rows(database, SAMPLES["feeds"]))


@pytest.mark.slow
def test_migrate_refuses(populated: Path, postgres_database: PostgresUrl,
                         tmp_path: Path) -> None:
    """A target that isn't PostgreSQL, a missing source, a source newer than this newsbot,
    a running bot, a source column the target lacks (never dropped silently) and a target at
    another schema version are refused."""
    database = populated.parent / "newsbot.db"
    url = postgres_database.dsn
    not_pg = newsbot(populated, "migrate", "--to", str(tmp_path / "other.db"))
    assert not_pg.returncode == 2 and "postgresql://" in not_pg.stderr
    missing = newsbot(populated, "migrate", "--to", url, "--from", str(tmp_path / "none.db"))
    assert missing.returncode == 1 and "none.db" in missing.stderr
    with instance_lock(database):
        running = newsbot(populated, "migrate", "--to", url)
    assert running.returncode != 0 and "Traceback" not in running.stderr
    newer = tmp_path / "newer.db"
    newer.write_bytes(database.read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 999")
    too_new = newsbot(populated, "migrate", "--to", url, "--from", str(newer))
    assert too_new.returncode == 1 and "newer newsbot" in too_new.stderr
    extra = tmp_path / "extra.db"
    extra.write_bytes(database.read_bytes())
    with sqlite3.connect(extra) as conn:
        conn.execute("ALTER TABLE feeds ADD COLUMN claimed_by TEXT")
    lost = newsbot(populated, "migrate", "--to", url, "--from", str(extra))
    assert lost.returncode == 1 and "claimed_by" in lost.stderr, lost.stderr
    asyncio.run(_pg_execute(postgres_database, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    asyncio.run(_pg_execute(postgres_database, "CREATE TABLE schema_version (version integer"
                         " PRIMARY KEY, applied double precision NOT NULL);"
                         " INSERT INTO schema_version VALUES (3, 0)"))
    other = newsbot(populated, "migrate", "--to", url)
    assert other.returncode == 1 and "schema version 3" in other.stderr
    for done in (not_pg, missing, running, too_new, lost, other):
        assert "Traceback" not in done.stderr
