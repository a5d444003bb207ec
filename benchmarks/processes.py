"""Several `newsbot run` processes on one PostgreSQL database: how fast 1, 2 and 3 processes
poll a set of loopback feeds and post their stories to channels of the fake Discord (one shard
per process), as ratios against one process measured in the same run.

    uv run python -m benchmarks.processes [--feeds 600] [--channels 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import table
from benchmarks.engines import start_postgres
from bot.store.postgres.url import PostgresUrl
from bot.store.store import open_store
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.feed_server import FeedServer
from tests.postgres import empty_database

ROOT = Path(__file__).parent.parent


def _feed(n: int) -> bytes:
    return (f'<rss version="2.0"><channel><title>f{n}</title><item><title>Story {n}</title>'
            f"<link>https://f{n}.example/1</link><description>Report {n}.</description>"
            "</item></channel></rss>").encode()


def _config(url: PostgresUrl, feeds: FeedServer, fake: FakeDiscord, count: int, shard: int,
            processes: int, channels: list[str]) -> str:
    feed_part = "".join(f'[[feeds]]\nurl = "{feeds.url(f"f{n}.xml")}"\nname = "f{n}"\n'
                        for n in range(count))
    rooms = "".join(
        f'[[channels]]\nid = "{cid}"\ndigest = "every 6h"\nmax_items = 50\nfeeds = ['
        + ", ".join(f'"f{n}"' for n in range(i, count, len(channels))) + "]\n"
        for i, cid in enumerate(channels))
    return (f'[bot]\ndatabase = "{url}"\nlog_level = "WARNING"\n[fetch]\n'
            f'allow_private_addresses = true\ninterval = "6h"\n[discord]\n'
            f'api_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
            f'shards = "{shard}"\nshard_count = {processes}\n{feed_part}{rooms}')


async def _until(check: object, seconds: float = 300) -> float:
    """Wait for `check()` to come true; the moment it did (monotonic)."""
    deadline = time.monotonic() + seconds
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the processes did not finish")
        await asyncio.sleep(0.05)
    return time.monotonic()


async def measure(url: PostgresUrl, feeds: FeedServer, folder: Path, count: int,
                  channel_count: int, processes: int) -> tuple[float, float]:
    """Seconds from start until every feed is polled, and from the first to the last of the
    stories posted, with `processes` processes."""
    await empty_database(url)
    async with FakeDiscord() as fake, AsyncExitStack() as stack:
        news = [fake.add_channel(fake.add_guild(f"G{i}", shard=(i % processes, processes)).id,
                                 "news") for i in range(channel_count)]
        ids = [f"discord:{c.id}" for c in news]
        store = await stack.enter_async_context(open_store(url))
        long_ago = datetime.now(UTC) - timedelta(hours=7)  # a 6 h slot is due
        for channel_id in ids:
            await store.channels.ensure(channel_id, long_ago)
        started = time.monotonic()
        for k in range(processes):
            config = folder / f"p{processes}-{k}.toml"
            config.write_text(_config(url, feeds, fake, count, k, processes, ids),
                              encoding="utf-8")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "-c", str(config), "run", cwd=ROOT,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL, env={**os.environ,
                                                        "DISCORD_TOKEN": fake.token})
            stack.push_async_callback(process.wait)
            stack.callback(process.kill)

        async def polled() -> bool:
            row = await store.db.fetchone("SELECT COUNT(*) FROM feeds WHERE last_polled "
                                          "IS NOT NULL")
            return row is not None and int(row[0]) == count

        def posted() -> int:
            return sum(len(m.embeds) for c in news for m in fake.channel_messages(c.id))

        async def all_posted() -> bool:
            return posted() == count

        async def first_posted() -> bool:
            return posted() > 0

        polled_at = await _until(polled)
        first = await _until(first_posted)
        last = await _until(all_posted)
        return polled_at - started, last - first


async def run(count: int, channel_count: int) -> None:
    with tempfile.TemporaryDirectory() as folder, FeedServer(Path(folder)) as feeds:
        for n in range(count):
            feeds.bodies[f"f{n}.xml"] = _feed(n)
        url = start_postgres(Path(folder) / "pg")
        rows: list[tuple[object, ...]] = []
        base: tuple[float, float] | None = None
        for processes in (1, 2, 3):
            poll_s, post_s = await measure(url, feeds, Path(folder), count, channel_count,
                                           processes)
            base = base or (poll_s, post_s)
            rows.append((processes, count / poll_s, base[0] / poll_s, count / post_s,
                         base[1] / post_s))
        table(f"{count} loopback feeds, {channel_count} channels on the fake Discord "
              "(start to all polled includes process start)",
              ("processes", "feeds/s", "ratio", "stories posted/s", "ratio"), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=600)
    parser.add_argument("--channels", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.feeds, args.channels))


if __name__ == "__main__":
    main()
