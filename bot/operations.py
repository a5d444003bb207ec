"""The host's CLI commands: OPML import and export, backups, the health check.

Like bot/__main__.py, each command imports what it uses when it runs (fast `--help`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.terminal import escape_terminal

if TYPE_CHECKING:
    from bot.app import Core
    from bot.chat.feed_transfer import FeedTransfer
    from bot.config import Config


def add_operations(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`feeds import|export`, `backup`, `migrate` and nothing else (status --check is on status)."""
    feeds = commands.add_parser("feeds", help="move feeds in and out as OPML")
    actions = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    put = actions.add_parser("import", help="add the feeds of an OPML file")
    put.add_argument("file", type=Path, metavar="FILE.opml")
    put.add_argument("--channel", help="the channel that follows them (default: the first)")
    get = actions.add_parser("export", help="write the feeds as an OPML file")
    get.add_argument("file", type=Path, metavar="FILE.opml")
    get.add_argument("--channel", help="only this channel's feeds (default: every feed)")
    for sub in (put, get):
        sub.add_argument("-c", "--config", default=argparse.SUPPRESS,
                         help="config file (default: config.toml)")
    backup = commands.add_parser("backup", help="copy the live database to PATH, consistently")
    backup.add_argument("path", type=Path, metavar="PATH")
    migrate = commands.add_parser("migrate", help="copy the SQLite database into PostgreSQL")
    migrate.add_argument("--to", required=True, metavar="URL", help="postgresql://... target")
    migrate.add_argument("--from", dest="source", type=Path, metavar="FILE",
                         help="SQLite file (default: the config's [bot] database)")


def say(text: str, *, error: bool = False) -> None:
    """Print text that may hold feed or chat text, escaped: to stdout, or as one line to stderr."""
    print(escape_terminal(text, keep_newlines=not error), file=sys.stderr if error else sys.stdout)


def _transfer(core: Core) -> FeedTransfer:
    from bot.chat.feed_transfer import FeedTransfer
    from bot.pipeline import address_check, allowed_ports

    return FeedTransfer(core.store, core.digests, address_check(core.config), core.clock,
                        core.config.model.fetch.interval, allowed_ports(core.config))


async def feeds_command(config: Config, args: argparse.Namespace) -> int:
    """`newsbot feeds import FILE [--channel ID]` and `newsbot feeds export FILE`."""
    from bot.app import open_core
    from bot.feeds.opml import OpmlError

    async with open_core(config, console_fallback=True) as core:
        channels = [c.id for c in await core.digests.channels()]
        if args.channel is not None and args.channel not in channels:
            say(f"newsbot: no channel {args.channel!r} (channels: {', '.join(channels)})",
                error=True)
            return 2
        if args.feeds_command == "export":
            return await _export(core, args.file, args.channel)
        try:
            data = _read_opml(args.file)
            report = await _transfer(core).import_opml(args.channel or channels[0], data)
        except OSError as error:
            say(f"newsbot: {args.file}: can't read: {error.strerror}", error=True)
            return 1
        except OpmlError as error:
            say(f"newsbot: {args.file}: {error}", error=True)
            return 1
    say("\n".join(report.lines()))
    return 0


async def _export(core: Core, path: Path, channel: str | None) -> int:
    """Write the OPML to `path`; a path that can't be written is one line and status 1."""
    import asyncio

    text = await _transfer(core).export_opml(channel)
    try:
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    except OSError as error:
        say(f"newsbot: {path}: can't write: {error.strerror}", error=True)
        return 1
    say(f"Wrote {text.count('<outline ')} feeds to {path}.")
    return 0


def _read_opml(path: Path) -> bytes:
    from bot.feeds.opml import MAX_OPML_BYTES

    with path.open("rb") as file:
        return file.read(MAX_OPML_BYTES + 1)  # one byte more: parse_opml names the limit


async def backup_command(config: Config, args: argparse.Namespace) -> int:
    """`newsbot backup PATH`: the online backup, safe while the bot runs."""
    from bot.store.backup import BackupError, backup_database_async

    try:
        written = await backup_database_async(config.database, args.path)
    except BackupError as error:
        say(f"newsbot: {error}", error=True)
        return 1
    say(f"Backed up {config.database} to {args.path} ({written}).")
    return 0


async def check_health(config: Config) -> int:
    """`newsbot status --check`: 0 when the bot runs and no loop stalled, else 1 and why.

    Reads only the heartbeat row (no fetcher, no workers): cheap enough for a HEALTHCHECK.
    """
    from bot.liveness import liveness
    from bot.records import utc_now
    from bot.store.store import has_database, open_store

    if not has_database(config.database):
        print("unhealthy: no database yet: the bot has never run", file=sys.stderr)
        return 1
    async with open_store(config.database) as store:
        alive = liveness(await store.runtime.heartbeat(), utc_now())
    if not alive.healthy:
        say(f"unhealthy: {alive.reason}", error=True)
        return 1
    print("healthy")
    return 0


async def migrate_command(config: Config, args: argparse.Namespace) -> int:
    """`newsbot migrate --to URL [--from FILE]`: copy the SQLite database into PostgreSQL."""
    import os

    from bot.store.postgres.url import is_postgres_url, parse_postgres_url
    from bot.store.transfer import TransferError, transfer

    source = args.source if args.source is not None else config.database
    if not isinstance(source, Path):
        say("newsbot: migrate copies an SQLite file: give it with --from FILE", error=True)
        return 2
    if not is_postgres_url(args.to):
        say("newsbot: --to must be a postgresql:// URL", error=True)
        return 2
    try:
        url = parse_postgres_url(args.to, os.environ.get("NEWSBOT_DATABASE_PASSWORD", ""))
    except ValueError as error:
        say(f"newsbot: --to: {error}", error=True)
        return 2
    try:
        counts = await transfer(source, url, lambda line: say(line, error=True))
    except TransferError as error:
        say(f"newsbot: {error}", error=True)
        return 1
    lines = [f"{'table':<14} {'sqlite':>9} {'copied':>9} {'postgresql':>11}"]
    for c in counts:
        note = "  nothing to copy" if c.copied == 0 else ""
        lines.append(f"{c.table:<14} {c.source:>9} {c.copied:>9} {c.target:>11}{note}")
    say("\n".join(lines))
    wrong = [c.table for c in counts if c.source != c.target]
    if wrong:
        say(f"newsbot: row counts differ in: {', '.join(wrong)}", error=True)
        return 1
    say(f"Copied {source} to {url}.")
    return 0
