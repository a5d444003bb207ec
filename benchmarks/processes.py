"""Several `newsbot run` processes on one PostgreSQL database: how fast 1, 2 and 3 processes
poll loopback feeds and deliver digests to the fake Discord (one shard per process), with
the absolute figures and their ratios to one process measured in the same run.

Start-up is not counted: each run starts its processes, waits until all are connected, and
only then makes the work due. A poll round counts the feeds polled from the moment every
process holds a claim (the last one's first claim; the processes' ticks are up to a third of
the lease apart) to the last poll the database records: the first poll (every story new:
parsed, enriched, stored) and a steady round (90% of the feeds unchanged, 10% with three new
stories). Delivery counts the messages the fake Discord received from the moment every
process has posted one (the time in Discord message ids) to the last.

    uv run python -m benchmarks.processes [--corpus DIR] [--feeds 1000] [--channels 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import ServedFeeds, add_corpus_argument, load_corpus, table
from benchmarks.engines import start_postgres
from benchmarks.poll import serve, with_new_items
from bot.model import FeedSpec
from bot.store.postgres.url import PostgresUrl
from bot.store.store import Store, open_store
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_world import DISCORD_EPOCH_MS
from tests.postgres import empty_database

ROOT = Path(__file__).parent.parent
LEASE_S = 3  # ticks of one second: the processes start a round at most that far apart
HELD = 4e9  # a next poll far ahead: no feed is due until every process runs


@dataclass(frozen=True, slots=True)
class Span:
    """Work done from the moment every process took part, to the last of it."""

    done: int
    seconds: float

    @property
    def rate(self) -> float:
        """Work per second."""
        return self.done / self.seconds


@dataclass(frozen=True, slots=True)
class Run:
    """One run's figures."""

    processes: int
    first: Span  # feeds
    stories: int
    steady: Span  # feeds
    new: int
    delivery: Span  # messages
    digests: int


def _config(url: PostgresUrl, feeds: ServedFeeds, fake: FakeDiscord, names: list[str],
            shard: int, processes: int, channels: list[str], digest_at: datetime) -> str:
    feed_part = "".join(f'[[feeds]]\nurl = "{feeds.url(n)}"\nname = "{n}"\n' for n in names)
    rooms = "".join(
        f'[[channels]]\nid = "{cid}"\ndigest = "daily {digest_at:%H:%M}"\nmax_items = 10\n'
        "feeds = [" + ", ".join(f'"{n}"' for n in names[i::len(channels)]) + "]\n"
        for i, cid in enumerate(channels))
    return (f'[bot]\ndatabase = "{url}"\nlog_level = "WARNING"\nlease = "{LEASE_S}s"\n'
            '[fetch]\nallow_private_addresses = true\nper_host = 16\n[discord]\n'
            f'api_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
            f'shards = "{shard}"\nshard_count = {processes}\n{feed_part}{rooms}')


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 900) -> float:
    """Wait for `check()` to come true; the moment it did (wall clock, as the database's)."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the processes did not finish")
        await asyncio.sleep(0.02)
    return time.time()


async def _count(store: Store, sql: str, params: tuple[object, ...] = ()) -> int:
    row = await store.db.fetchone(sql, params)
    return 0 if row is None else int(row[0])


async def poll_round(store: Store, processes: int, count: int) -> Span:
    """Make every feed due now; the feeds polled from the moment each process holds a claim
    to the last poll recorded."""
    holders: set[str] = set()
    await store.db.execute("UPDATE feeds SET next_poll = 0")
    started = time.time()

    async def all_claiming() -> bool:
        holders.update(str(row[0]) for row in await store.db.fetchall(
            "SELECT DISTINCT lease_holder FROM feeds WHERE lease_holder IS NOT NULL"))
        return len(holders) >= processes
    everyone = await _until(all_claiming)

    async def all_polled() -> bool:
        return await _count(store, "SELECT COUNT(*) FROM feeds WHERE last_polled >= ?",
                            (started,)) == count
    await _until(all_polled)
    row = await store.db.fetchone("SELECT MAX(last_polled) FROM feeds")
    assert row is not None
    done = await _count(store, "SELECT COUNT(*) FROM feeds WHERE last_polled >= ?", (everyone,))
    return Span(done, float(row[0]) - everyone)


def _received_at(message_id: int) -> float:
    """When the fake Discord took a message: the time in its id, in seconds."""
    return ((message_id >> 22) + DISCORD_EPOCH_MS) / 1000


async def deliver(store: Store, fake: FakeDiscord, processes: int) -> Span:
    """Make every channel's digest due; the messages received from the moment each process
    has posted one (its shard's channels) to the last."""
    await store.db.execute("UPDATE channels SET created = created - 3600")

    async def all_sent() -> bool:
        return (await _count(store, "SELECT COUNT(*) FROM channels WHERE last_digest IS NULL")
                == 0 and await _count(store, "SELECT COUNT(*) FROM digests WHERE done IS NULL")
                == 0)
    await _until(all_sent)
    times = sorted((_received_at(m.id), ((m.guild_id or 0) >> 22) % processes)
                   for m in fake.messages)
    first: dict[int, float] = {}  # each shard's (process's) first message
    for moment, shard in times:
        first.setdefault(shard, moment)
    everyone = max(first.values())
    return Span(sum(1 for moment, _ in times if moment >= everyone), times[-1][0] - everyone)


async def measure(url: PostgresUrl, server: ServedFeeds, bodies: dict[str, bytes],
                  folder: Path, channel_count: int, processes: int) -> Run:
    """One run with `processes` processes on an empty database."""
    await empty_database(url)
    server.update(bodies)  # the first poll's bodies, as in every run
    names = list(bodies)
    async with FakeDiscord() as fake, AsyncExitStack() as stack:
        news = [fake.add_channel(fake.add_guild(f"G{i}", shard=(i % processes, processes)).id,
                                 "news") for i in range(channel_count)]
        ids = [f"discord:{c.id}" for c in news]
        store = await stack.enter_async_context(open_store(url))
        await store.feeds.sync_config_feeds([FeedSpec(url=server.url(n), name=n)
                                             for n in names])
        await store.db.execute("UPDATE feeds SET next_poll = ?", (HELD,))
        now = datetime.now(UTC)
        for channel_id in ids:  # the daily slot half an hour ago came before the channels
            await store.channels.ensure(channel_id, now)
        for k in range(processes):
            config = folder / f"p{processes}-{k}.toml"
            config.write_text(_config(url, server, fake, names, k, processes, ids,
                                      now - timedelta(minutes=30)), encoding="utf-8")
            with (folder / f"p{processes}-{k}.log").open("wb") as log:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "-c", str(config), "run", cwd=ROOT,
                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                    stderr=log, env={**os.environ, "DISCORD_TOKEN": fake.token})
            stack.push_async_callback(process.wait)
            stack.callback(process.terminate)

        async def connected() -> bool:
            return fake.identifies >= processes
        await _until(connected, 120)
        await asyncio.sleep(2 * LEASE_S)  # every process is past its start and ticking
        first = await poll_round(store, processes, len(names))
        stories = await _count(store, "SELECT COUNT(*) FROM articles")
        server.update({name: with_new_items(bodies[name], 1, i)
                       for i, name in enumerate(names[::10])})
        steady = await poll_round(store, processes, len(names))
        new = await _count(store, "SELECT COUNT(*) FROM articles") - stories
        delivery = await deliver(store, fake, processes)
        digests = await _count(store, "SELECT COUNT(*) FROM digests")
    return Run(processes, first, stories, steady, new, delivery, digests)


async def run(corpus: Path, count: int, channel_count: int) -> None:
    """Measure 1, 2 and 3 processes one after another; print the table."""
    files = [(n, b) for n, b in load_corpus(corpus) if not n.endswith(".json")]
    with tempfile.TemporaryDirectory() as folder, ServedFeeds(Path(folder)) as server:
        bodies = serve(server, files, count)
        url = start_postgres(Path(folder) / "pg")
        runs = [await measure(url, server, bodies, Path(folder), channel_count, processes)
                for processes in (1, 2, 3)]
    report(runs, count, channel_count)


def report(runs: list[Run], count: int, channel_count: int) -> None:
    """The table: each figure, and its ratio to one process."""
    base = runs[0]
    table(f"{count} loopback feeds ({base.stories} stories on the first poll, {base.new} new "
          f"in the steady round), {channel_count} channels on the fake Discord; "
          f"{os.cpu_count()} cores",
          ("processes", "first poll feeds/s", "ratio", "steady feeds/s", "ratio",
           "messages/s", "ratio"),
          [(r.processes, r.first.rate, r.first.rate / base.first.rate, r.steady.rate,
            r.steady.rate / base.steady.rate, r.delivery.rate,
            r.delivery.rate / base.delivery.rate) for r in runs])
    for r in runs:
        print(f"{r.processes} process(es): first poll {r.first.done} feeds in "
              f"{r.first.seconds:.1f} s ({r.stories / r.first.seconds:.0f} stories/s), steady "
              f"round {r.steady.done} feeds in {r.steady.seconds:.2f} s, {r.digests} digests: "
              f"{r.delivery.done} messages in {r.delivery.seconds:.2f} s")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_corpus_argument(parser)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.corpus, args.feeds, args.channels))


if __name__ == "__main__":
    main()
