"""The `newsbot` command line.

Each command imports what it uses when it runs, so that `--help` loads little beyond argparse
and no command but `run` loads a chat platform's library (benchmarks/startup.py times it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.operations import (
    add_operations,
    backup_command,
    check_health,
    feeds_command,
    migrate_command,
    say,
)
from bot.terminal import escape_json, escape_terminal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from bot.config import Config
    from bot.feeds.poll import FeedOutcome
    from bot.health import Status

DEFAULT_CONFIG = "config.toml"


def _console(stderr: bool = False) -> Console:
    """A rich console that never reads feed text as markup."""
    from rich.console import Console

    return Console(stderr=stderr, markup=False, highlight=False)


def _cell(text: str, style: str = "") -> Text:
    """Untrusted text as a table cell or line: escaped, and never read as rich markup."""
    from rich.text import Text

    return Text(escape_terminal(text), style=style)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and flag; README documents the same set."""
    parser = argparse.ArgumentParser(prog="newsbot", description="News digests for chats.")
    parser.add_argument("-c", "--config", default=os.environ.get("NEWSBOT_CONFIG",
                        DEFAULT_CONFIG), help="config file (default: config.toml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (console channel when no chat token is set)")
    commands.add_parser("check", help="validate the config and show what the bot would do")
    commands.add_parser("fetch", help="poll every feed once and report per feed")
    digest = commands.add_parser("digest", help="compose and print a channel's digest now")
    digest.add_argument("--channel", help="channel id (default: the first channel)")
    search = commands.add_parser("search", help="search stored stories")
    search.add_argument("words", nargs="+")
    related = commands.add_parser("related", help="stories related to a story URL or words")
    related.add_argument("target", nargs="+", metavar="URL|WORDS")
    for sub in (digest, search, related):
        sub.add_argument("--json", action="store_true", help="print JSON")
    status = commands.add_parser("status", help="feeds, failures and next digests")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--check", action="store_true",
                        help="exit 1 unless the bot is running and no loop stalled")
    add_operations(commands)
    for sub in commands.choices.values():
        sub.add_argument("-c", "--config", default=argparse.SUPPRESS,
                         help="config file (default: config.toml)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsbot` script: a reader that goes away (`| head`) ends it quietly.

    As the Python docs advise for SIGPIPE: stdout is pointed at devnull so the interpreter's
    last flush can't fail again, and the exit status is 1.
    """
    limit_math_threads()
    try:
        status = _main(argv)
        if sys.stdout is not None:  # None when started with stdout closed (`>&-`)
            sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


def limit_math_threads() -> None:
    """One thread for numpy's BLAS (and the tokenizer) in this process and the workers it
    starts: parallelism is the worker processes, and an idle BLAS thread spins for a while
    after each call, taking a core from them. Set before numpy loads; an explicit
    environment setting wins."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _main(argv: Sequence[str] | None) -> int:
    """Parse the arguments, load the config and run the command; returns the exit status."""
    args = build_parser().parse_args(argv)
    import asyncio

    from bot.chat.adapter import PlatformError
    from bot.config import ConfigError, load_config
    from bot.logs import setup_logging
    from bot.store.db import DatabaseError

    try:
        config = load_config(Path(args.config))
    except ConfigError as error:
        say(f"newsbot: {error}", error=True)
        return 2
    setup_logging(config.model.bot.log_level, config.model.bot.log_format, sys.stderr)
    handler = _COMMANDS[args.command]
    try:
        return asyncio.run(handler(config, args))
    except (DatabaseError, PlatformError) as error:
        say(f"newsbot: {error}", error=True)
        return 2
    except KeyboardInterrupt:
        return 130


async def _run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import run_bot

    await run_bot(config)
    return 0


async def _check(config: Config, args: argparse.Namespace) -> int:
    from rich.table import Table

    from bot.digest.schedule import parse_schedule
    from bot.records import utc_now
    from bot.store.store import has_database

    out = _console()
    model = config.model
    out.print(_cell(f"{config.path}: OK. Database: {config.database}"))
    feeds = Table("feed", "url", "every", "tags", title="Feeds in the file")
    for feed in model.feeds:
        feeds.add_row(_cell(feed.name or "(its own title)"), _cell(feed.url),
                      f"{(feed.interval or model.fetch.interval) // 60} min",
                      _cell(" ".join(feed.tags)))
    out.print(feeds)
    now = utc_now()
    channels = Table("channel", "feeds", "filter", "schedule", "next digest (UTC)",
                     title="Channels in the file")
    for channel in model.channels:
        tz = channel.timezone or model.bot.timezone
        upcoming = parse_schedule(channel.digest, tz).next_after(now)
        channels.add_row(_cell(channel.id), _cell(", ".join(channel.feeds)),
                         _cell(channel.filter or "-"), _cell(f"{channel.digest} ({tz})"),
                         f"{upcoming:%Y-%m-%d %H:%M}" if upcoming else "never")
    out.print(channels)
    for name, section, token in (("Discord", model.discord, config.discord_token),
                                 ("Telegram", model.telegram, config.telegram_token)):
        if section is not None:
            state = "token set" if token else f"no {name.upper()}_TOKEN in the environment"
            out.print(f"{name}: configured, {state}")
    if model.web is not None:
        published = ", ".join(c.id for c in model.channels if c.publish) or "none"
        out.print(_cell(f"Web: on {model.web.listen}, links from {model.web.base_url}; "
                        f"published by the file: {published}"))
    if has_database(config.database):
        await _show_chat_changes(config, out)
    return 0


async def _show_chat_changes(config: Config, out: Console) -> None:
    from rich.table import Table

    from bot.records import open_records

    async with open_records(config) as records:
        stored = await records.channels.channels()
        table = Table("channel", "feeds", "filter", "schedule",
                      title="Channels as they stand (chat changes win over the file)")
        for channel in stored:
            table.add_row(_cell(channel.id), _cell(", ".join(channel.feeds)),
                          _cell(channel.filter or "-"),
                          _cell(f"{channel.digest} ({channel.timezone})"))
        out.print(table)


async def _fetch(config: Config, args: argparse.Namespace) -> int:
    """Poll every feed once; 0 when every feed was read, 1 when any failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.pipeline import open_pipeline

    out = _console()
    # The report below names each failure once; the poller's log line would repeat it.
    logging.getLogger("bot.feeds.poll").setLevel(logging.ERROR)
    async with open_pipeline(config) as core:
        feeds = await core.store.feeds.active_feeds()
        columns = (TextColumn("fetching"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=_console(stderr=True), transient=True) as bar:
            task = bar.add_task("feeds", total=len(feeds))
            outcomes = await core.poller.poll_feeds(
                feeds, progress=lambda _: bar.advance(task))
    out.print(_outcome_table(outcomes))
    failed = [o for o in outcomes if o.error]
    for o in failed:
        out.print(_cell(f"failed: {o.feed.name} ({o.feed.url}): {o.error}"))
    out.print(f"{len(outcomes)} feeds: {sum(o.new for o in outcomes)} new stories, "
              f"{len(failed)} failed.")
    return 1 if failed else 0


def _outcome_table(outcomes: Sequence[FeedOutcome]) -> Table:
    from rich.table import Table

    table = Table("feed", "new", "seen", "result")
    for o in outcomes:
        result = "failed" if o.error else "not modified" if o.not_modified else "ok"
        table.add_row(_cell(o.feed.name), str(o.new), str(o.seen),
                      _cell(result, style="red" if o.error else ""))
    return table


async def _digest(config: Config, args: argparse.Namespace) -> int:
    from bot.chat.render_json import render_json
    from bot.chat.render_plain import render_plain
    from bot.lookups import open_lookups

    async with open_lookups(config, console_fallback=True) as lookups:
        channels = await lookups.digests.channels()
        wanted = args.channel or (channels[0].id if channels else "console")
        if wanted not in {c.id for c in channels}:
            known = ", ".join(c.id for c in channels)
            say(f"newsbot: no channel {wanted!r} (channels: {known})", error=True)
            return 2
        digest = await lookups.digests.compose(await lookups.digests.channel(wanted),
                                               lookups.clock())
    if args.json:
        print(escape_json(json.dumps(render_json(digest), indent=2, ensure_ascii=False)))
    else:
        say(render_plain(digest) if digest.items else f"{digest.title}\n\nNothing new.")
    return 0


async def _search(config: Config, args: argparse.Namespace) -> int:
    return await _lookup(config, "search", " ".join(args.words), as_json=args.json)


async def _related(config: Config, args: argparse.Namespace) -> int:
    return await _lookup(config, "related", " ".join(args.target), as_json=args.json)


async def _lookup(config: Config, command: str, text: str, *, as_json: bool) -> int:
    """Run a lookup command as the console's moderator would, and print the answer."""
    from bot.chat.render_json import render_json
    from bot.chat.render_plain import render_plain
    from bot.chat.request import Caller, UserError
    from bot.lookups import open_lookups

    cli = Caller(channel_id="console", user_id="cli", is_moderator=True)
    async with open_lookups(config) as lookups:
        try:
            reply = await lookups.commands.run(cli, command, text)
        except UserError as error:
            say(f"newsbot: {error}", error=True)
            return 1
    if as_json:
        print(escape_json(json.dumps(render_json(reply), indent=2, ensure_ascii=False)))
    else:
        say(render_plain(reply))
    return 0


async def _status(config: Config, args: argparse.Namespace) -> int:
    if args.check:
        return await check_health(config)
    from bot.health import collect_status
    from bot.records import open_records

    async with open_records(config, console_fallback=True) as records:
        status = await collect_status(records.store, await records.channels.channels(),
                                      records.clock())
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        _print_status(status)
    return 0


def _print_status(status: Status) -> None:
    """Status as text and a table (rich loads only here: `status --json` does without)."""
    from rich.table import Table

    from bot.health import bot_lines

    out = _console()
    for line in bot_lines(status):
        out.print(_cell(line))
    out.print(f"{len(status.feeds)} feeds, {status.articles} stories stored, "
              f"{len(status.failing)} feeds failing.")
    table = Table("feed", "stories", "last poll", "next poll", "state")
    for feed in status.feeds:
        reason = f" ({feed.failures}x): {feed.last_error}" if feed.failures else ""
        state = _cell(feed.state + reason, style="red" if feed.state != "ok" else "")
        polled = f"{feed.last_polled:%Y-%m-%d %H:%M}" if feed.last_polled else "never"
        upcoming = ("-" if feed.disabled else f"{feed.next_poll:%Y-%m-%d %H:%M}"
                    if feed.next_poll and feed.next_poll > status.now else "due")
        table.add_row(_cell(feed.name), str(feed.articles), polled, upcoming, state)
    out.print(table)
    for channel in status.channels:
        when = f"{channel.next_digest:%Y-%m-%d %H:%M} UTC" if channel.next_digest else "never"
        paused = f" paused: {channel.paused}" if channel.paused else ""
        failed = f" failed digests: {channel.failed_digests}" if channel.failed_digests else ""
        out.print(_cell(f"{channel.id}: next digest {when} ({channel.digest}){paused}{failed}"))


_COMMANDS: dict[str, Callable[[Config, argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "run": _run, "check": _check, "fetch": _fetch, "digest": _digest, "search": _search,
    "related": _related, "status": _status, "feeds": feeds_command, "backup": backup_command,
    "migrate": migrate_command}

if __name__ == "__main__":
    raise SystemExit(main())
