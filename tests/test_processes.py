"""Three `newsbot run` processes on one PostgreSQL database, one Discord shard each, against
the loopback feed server and the fake Discord; one is killed with SIGKILL mid-round, holding
feeds it was polling and a digest it was sending, and its work is taken over in time."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store.postgres.url import PostgresUrl
from bot.store.store import Store, open_store
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.feed_server import FeedServer, Script
from tests.runs import newsbot_run

pytestmark = pytest.mark.slow  # three `newsbot run` processes and a fourth

FEEDS, CHANNELS, PROCESSES = 300, 30, 3
VICTIM = 0  # the process (and Discord shard) killed
LEASE_S = 9
TICK_S = LEASE_S / 3  # the poll and digest ticks on a shared database
# The victim's claims run out within a lease of the kill; the next tick of another process
# takes them; the 3 s are that round's own work (64 conditional GETs, or one message).
TAKEN_OVER_WITHIN_S = LEASE_S + TICK_S + 3
SLOW_S = 5  # how long each feed answers in the round the victim is killed in


def _feed(n: int) -> bytes:
    return (f'<rss version="2.0"><channel><title>f{n}</title><item><title>Story {n} of f{n}'
            f"</title><link>https://f{n}.example/1</link><description>Report {n}."
            "</description></item></channel></rss>").encode()


def _config(fake: FakeDiscord, feeds: FeedServer, url: PostgresUrl, shard: int,
            channels: list[str], digest_at: datetime) -> str:
    feed_part = "".join(f'[[feeds]]\nurl = "{feeds.url(f"f{n}.xml")}"\nname = "f{n}"\n'
                        for n in range(FEEDS))
    rooms = "".join(
        f'[[channels]]\nid = "{cid}"\ndigest = "daily {digest_at:%H:%M}"\nmax_items = 50\n'
        "feeds = [" + ", ".join(f'"f{n}"' for n in range(i, FEEDS, CHANNELS)) + "]\n"
        for i, cid in enumerate(channels))
    return (f'[bot]\ndatabase = "{url}"\nlease = "{LEASE_S}s"\n[fetch]\n'
            'allow_private_addresses = true\ntimeout = "30s"\n[discord]\n'
            f'api_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
            f'shards = "{shard}"\nshard_count = {PROCESSES}\n{feed_part}{rooms}')


async def _count(store: Store, sql: str, params: tuple[object, ...] = ()) -> int:
    row = await store.db.fetchone(sql, params)
    return 0 if row is None else int(row[0])


async def _wait(predicate: Callable[[], Awaitable[bool]], seconds: float) -> None:
    """Until `predicate()` holds; TimeoutError after `seconds` (a hang, not a measurement)."""
    async with asyncio.timeout(seconds):
        while not await predicate():  # noqa: ASYNC110 - polls another process's database
            await asyncio.sleep(0.1)


async def test_three_processes_take_over_a_killed_one_within_a_lease(
        feed_server: FeedServer, write_config: Callable[[str, str], Path],
        postgres_database: PostgresUrl, tmp_path: Path) -> None:
    """300 feeds and 30 channels shared by three processes. One is killed while its digest
    is in flight (held by a 429) and it is polling feeds (each answering slowly), and is
    restarted at once. Its feeds are polled by the others, and its digest is sent by its
    replacement, within a lease and a tick (plus 3 s for that round's work) of the kill, by
    the database's clock; every story reaches every channel that follows its feed, once (the
    one message in flight aside), and no log holds a traceback."""
    for n in range(FEEDS):
        feed_server.bodies[f"f{n}.xml"] = _feed(n)
    async with FakeDiscord() as fake, AsyncExitStack() as stack, \
            open_store(postgres_database) as store:
        news = [fake.add_channel(fake.add_guild(f"G{i}", shard=(i % PROCESSES, PROCESSES)).id,
                                 "news") for i in range(CHANNELS)]
        ids = [f"discord:{c.id}" for c in news]
        now = datetime.now(UTC)
        for channel_id in ids:  # the daily slot half an hour ago came before the channels
            await store.channels.ensure(channel_id, now)
        configs = [write_config(_config(fake, feed_server, postgres_database, k, ids,
                                        now - timedelta(minutes=30)), f"p{k}.toml")
                   for k in range(PROCESSES)]
        token = {"DISCORD_TOKEN": fake.token}
        running = [await stack.enter_async_context(
            newsbot_run(configs[k], tmp_path / f"p{k}.log", token)) for k in range(PROCESSES)]
        victim = f"%:{running[VICTIM].pid}:%"

        async def all_stored() -> bool:
            return await _count(store, "SELECT COUNT(*) FROM articles") == FEEDS
        await _wait(all_stored, 90)

        # The digests come due; the victim's first (its shard's first channel) meets a 429.
        fake.fail_next(f"POST /channels/{news[VICTIM].id}/messages", 429, retry_after=60)
        await store.db.execute("UPDATE channels SET created = created - 3600")

        async def sending() -> bool:
            return await _count(store, "SELECT COUNT(*) FROM digests WHERE done IS NULL "
                                       "AND lease_holder LIKE ? AND channel_id = ?",
                                (victim, ids[VICTIM])) > 0
        await _wait(sending, 30)

        # Every feed is due again and answers slowly: the victim claims a batch to poll.
        for n in range(FEEDS):
            feed_server.script(f"f{n}.xml", Script(body=_feed(n), delay_s=SLOW_S))
        await store.db.execute("UPDATE feeds SET next_poll = 0")

        async def polling() -> bool:
            return await _count(store, "SELECT COUNT(*) FROM feeds WHERE lease_holder LIKE ?",
                                (victim,)) > 0
        await _wait(polling, 30)
        running[VICTIM].send_signal(signal.SIGKILL)
        killed_at = time.time()
        await running[VICTIM].wait()
        feed_server.scripts.clear()
        await stack.enter_async_context(
            newsbot_run(configs[VICTIM], tmp_path / "again.log", token))
        feeds_left = [int(row[0]) for row in await store.db.fetchall(
            "SELECT id FROM feeds WHERE lease_holder LIKE ?", (victim,))]
        digests_left = [int(row[0]) for row in await store.db.fetchall(
            "SELECT id FROM digests WHERE done IS NULL AND lease_holder LIKE ?", (victim,))]
        assert feeds_left and digests_left, "killed holding feeds and a digest"

        async def taken_over() -> list[float]:
            polled = [row[0] for row in await store.db.fetchall(
                "SELECT last_polled FROM feeds WHERE id IN "
                f"({','.join('?' * len(feeds_left))})", tuple(feeds_left))]
            sent = [row[0] for row in await store.db.fetchall(
                "SELECT done FROM digests WHERE id IN "
                f"({','.join('?' * len(digests_left))})", tuple(digests_left))]
            return [float(m) for m in [*polled, *sent] if m is not None and float(m) > killed_at]

        async def all_taken_over() -> bool:
            return len(await taken_over()) == len(feeds_left) + len(digests_left)
        await _wait(all_taken_over, 60)
        assert max(await taken_over()) - killed_at <= TAKEN_OVER_WITHIN_S

        def titles(i: int) -> Counter[str]:
            return Counter(embed["title"] for m in fake.channel_messages(news[i].id)
                           for embed in m.embeds)

        def expected(i: int) -> set[str]:
            return {f"Story {n} of f{n}" for n in range(i, FEEDS, CHANNELS)}

        await fake.wait_for(lambda: all(set(titles(i)) == expected(i)
                                        for i in range(CHANNELS)), seconds=30)
        repeats = sum(n - 1 for i in range(CHANNELS) for n in titles(i).values())
        assert repeats <= 1, "at most the one message in flight repeats"
        for log in [tmp_path / f"p{k}.log" for k in range(PROCESSES)] + [tmp_path / "again.log"]:
            text = log.read_text(encoding="utf-8", errors="replace")
            assert "Traceback" not in text, text[-3000:]
