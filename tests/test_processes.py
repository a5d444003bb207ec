"""Three `newsbot run` processes on one PostgreSQL database, one Discord shard each, against
the loopback feed server and the fake Discord; one is killed with SIGKILL mid-round."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store.postgres.url import PostgresUrl
from bot.store.store import Store, open_store
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.feed_server import FeedServer, Script
from tests.runs import newsbot_run

pytestmark = pytest.mark.slow  # three `newsbot run` processes

FEEDS, CHANNELS, PROCESSES = 300, 30, 3
SLOW = range(0, FEEDS, 10)  # feeds still loading when the process polling them is killed


def _feed(n: int) -> bytes:
    return (f'<rss version="2.0"><channel><title>f{n}</title><item><title>Story {n} of f{n}'
            f"</title><link>https://f{n}.example/1</link><description>Report {n}."
            "</description></item></channel></rss>").encode()


def _config(fake: FakeDiscord, feeds: FeedServer, url: PostgresUrl, shard: int,
            channels: list[str]) -> str:
    feed_part = "".join(f'[[feeds]]\nurl = "{feeds.url(f"f{n}.xml")}"\nname = "f{n}"\n'
                        for n in range(FEEDS))
    rooms = "".join(
        f'[[channels]]\nid = "{cid}"\ndigest = "* * * * *"\nmax_items = 50\nfeeds = ['
        + ", ".join(f'"f{n}"' for n in range(i, FEEDS, CHANNELS)) + "]\n"
        for i, cid in enumerate(channels))
    return (f'[bot]\ndatabase = "{url}"\nlease = "2s"\n[fetch]\nallow_private_addresses = true'
            f'\ntimeout = "30s"\n[discord]\napi_base_url = "{fake.api_base}"\n'
            f'gateway_url = "{fake.gateway_url}"\nshards = "{shard}"\n'
            f"shard_count = {PROCESSES}\n{feed_part}{rooms}")


async def _count(store: Store, sql: str, params: tuple[str, ...] = ()) -> int:
    row = await store.db.fetchone(sql, params)
    return 0 if row is None else int(row[0])


async def _claimer(store: Store) -> int:
    """The pid of a process holding feed claims (holders are host:pid:random)."""
    row = await store.db.fetchone(
        "SELECT lease_holder FROM feeds WHERE lease_holder IS NOT NULL LIMIT 1")
    assert row is not None
    return int(str(row[0]).split(":")[1])


async def _wait(predicate: Callable[[], object], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():  # type: ignore[misc]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not within {seconds} s")
        await asyncio.sleep(0.2)


async def test_three_processes_post_every_story_once_and_take_over_a_killed_one(
        feed_server: FeedServer, write_config: Callable[[str, str], Path],
        postgres_database: PostgresUrl, tmp_path: Path) -> None:
    """300 feeds and 30 channels shared by three processes: one killed while polling has its
    feeds taken over after its lease and, restarted, sends its shard's digests; every story
    reaches every channel that follows its feed, once (the one message in flight aside)."""
    for n in range(FEEDS):
        feed_server.bodies[f"f{n}.xml"] = _feed(n)
    for n in SLOW:
        feed_server.script(f"f{n}.xml", Script(body=_feed(n), delay_s=6))
    async with FakeDiscord() as fake, AsyncExitStack() as stack, \
            open_store(postgres_database) as store:
        news = []
        for i in range(CHANNELS):
            guild = fake.add_guild(f"G{i}", shard=(i % PROCESSES, PROCESSES))
            news.append(fake.add_channel(guild.id, "news"))
        ids = [f"discord:{c.id}" for c in news]
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        for channel_id in ids:
            await store.channels.ensure(channel_id, an_hour_ago)
        configs = [write_config(_config(fake, feed_server, postgres_database, k, ids),
                                f"p{k}.toml") for k in range(PROCESSES)]
        token = {"DISCORD_TOKEN": fake.token}
        running = [await stack.enter_async_context(
            newsbot_run(configs[k], tmp_path / f"p{k}.log", token)) for k in range(PROCESSES)]

        async def claimed() -> bool:
            return await _count(store, "SELECT COUNT(*) FROM feeds WHERE lease_holder "
                                       "IS NOT NULL AND next_poll = 0") > 0
        await _wait(claimed, 30)
        victim_pid = await _claimer(store)
        [victim] = [k for k in range(PROCESSES) if running[k].pid == victim_pid]
        running[victim].send_signal(signal.SIGKILL)
        await running[victim].wait()
        left = await _count(store, "SELECT COUNT(*) FROM feeds WHERE lease_holder LIKE ?",
                            (f"%:{victim_pid}:%",))
        assert left > 0, "the victim died with feeds claimed, for others to take over"
        for n in SLOW:
            feed_server.scripts.pop(f"f{n}.xml")
        await stack.enter_async_context(
            newsbot_run(configs[victim], tmp_path / "again.log", token))

        async def all_stored() -> bool:
            return await _count(store, "SELECT COUNT(*) FROM articles") == FEEDS
        await _wait(all_stored, 40)

        def titles(i: int) -> Counter[str]:
            return Counter(embed["title"] for m in fake.channel_messages(news[i].id)
                           for embed in m.embeds)

        def expected(i: int) -> set[str]:
            return {f"Story {n} of f{n}" for n in range(i, FEEDS, CHANNELS)}

        await fake.wait_for(lambda: all(set(titles(i)) == expected(i)
                                        for i in range(CHANNELS)), seconds=90)
        repeats = sum(n - 1 for i in range(CHANNELS) for n in titles(i).values())
        assert repeats <= 1, "at most the one message in flight repeats"
        polls = feed_server.requests  # the victim's claimed feeds too, after its lease
        assert all(polls[f"f{n}.xml"] >= 1 for n in range(FEEDS))
        for log in [tmp_path / f"p{k}.log" for k in range(PROCESSES)] + [tmp_path / "again.log"]:
            text = log.read_text(encoding="utf-8", errors="replace")
            assert "Traceback" not in text, text[-3000:]
