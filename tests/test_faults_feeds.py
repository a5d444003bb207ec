"""A failing feed: its channels told once, disabled when it lasts; a locked or full database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.digest.channels import ChannelBook
from bot.digest.service import DigestService
from bot.enrich.stories import Stories
from bot.feeds.failures import FailurePolicy, FeedFailures
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import allow_any_address
from bot.feeds.poll import Poller, PollSettings
from bot.feeds.worker import ParseWorker
from bot.model import Channel, Digest, FeedSpec, FeedState
from bot.ports import SentCallback
from bot.store.sqlite.engine import SqliteDatabase
from bot.store.store import Location, Store, open_store
from tests.conftest import FIXTURES
from tests.fakes.feed_server import FeedServer, Script

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FOLLOWER = Channel(id="discord:1", feeds=("*",))
BYSTANDER = Channel(id="discord:2", feeds=("some other feed",))


@dataclass
class Notices:
    """A chat platform that records what it was asked to post."""

    posted: list[tuple[str, str]] = field(default_factory=list)

    def handles(self, channel_id: str) -> bool:
        """Every Discord channel."""
        return channel_id.startswith("discord:")

    async def owns(self, channel_id: str) -> bool:
        """Every channel it handles (one process)."""
        return True

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        """Record the title of what was posted."""
        self.posted.append((channel_id, digest.title))
        await sent(range(len(digest.items)), "m")


@dataclass
class Rig:
    """A poller with failure notices, on a real store, with a clock the test moves."""

    store: Store
    poller: Poller
    server: FeedServer
    notices: Notices
    now: list[datetime]

    async def poll(self, name: str, after: timedelta = timedelta(hours=1)) -> str:
        self.now[0] += after
        feed = await self.add(name)
        return (await self.poller.poll_feed(feed)).error

    async def add(self, name: str) -> FeedState:
        url = self.server.url(name)
        feed = await self.store.feeds.feed_by_url(url)
        if feed is None:
            await self.store.feeds.sync_config_feeds([FeedSpec(url=url, interval_s=600)])
            feed = await self.store.feeds.feed_by_url(url)
        assert feed is not None
        return feed

    async def state(self, name: str) -> FeedState:
        feed = await self.store.feeds.feed_by_url(self.server.url(name))
        assert feed is not None
        return feed


@pytest.fixture
async def rig(database: Location, feed_server: FeedServer) -> AsyncIterator[Rig]:
    """Store (on each engine), fetcher, worker and digest service for one test; notices
    after 3 failures."""
    now = [START]

    def clock() -> datetime:
        return now[0]

    notices = Notices()
    async with open_store(database) as store, \
            Fetcher(FetchLimits(timeout_s=5), allow_any_address) as fetcher, \
            ParseWorker() as worker:
        stories = Stories(store.articles, clock)
        digests = DigestService(
            store, stories, ChannelBook(store.channels, [FOLLOWER, BYSTANDER], "UTC"), clock)
        digests.add_sender(notices)
        failures = FeedFailures(store, FailurePolicy(3, timedelta(days=7)), digests)
        poller = Poller(store, fetcher, worker, stories, clock, PollSettings(), failures)
        yield Rig(store, poller, feed_server, notices, now)


async def test_repeated_failures_are_told_once_to_following_channels(rig: Rig) -> None:
    """The third failure in a row posts one notice, only where the feed is followed."""
    rig.server.script("down.xml", Script(status=500))
    for _ in range(6):
        await rig.poll("down.xml")
    assert len(rig.notices.posted) == 1
    channel, text = rig.notices.posted[0]
    assert channel == "discord:1"
    assert "has failed 3 times in a row (HTTP 500" in text


@pytest.mark.slow
async def test_a_success_resets_the_count(rig: Rig) -> None:
    """Two failures, a success, two failures: never three in a row, so nothing is told."""
    rig.server.script("flaky.xml", Script(status=500))
    await rig.poll("flaky.xml")
    await rig.poll("flaky.xml")
    del rig.server.scripts["flaky.xml"]
    rig.server.bodies["flaky.xml"] = (FIXTURES / "atom.xml").read_bytes()
    assert await rig.poll("flaky.xml") == ""
    rig.server.scripts["flaky.xml"] = Script(status=500)
    await rig.poll("flaky.xml")
    await rig.poll("flaky.xml")
    assert rig.notices.posted == []
    assert (await rig.state("flaky.xml")).failures == 2


async def test_feed_failing_for_the_configured_time_is_disabled(rig: Rig) -> None:
    """After seven days of failures without a success the feed is turned off, and told so."""
    rig.server.script("dead.xml", Script(status=503))
    await rig.poll("dead.xml")
    for _ in range(6):
        await rig.poll("dead.xml", after=timedelta(days=1))
    assert not (await rig.state("dead.xml")).disabled
    await rig.poll("dead.xml", after=timedelta(days=1))
    assert (await rig.state("dead.xml")).disabled
    texts = [text for _, text in rig.notices.posted]
    assert len(texts) == 2 and "has failed for 7 days" in texts[1]


@pytest.mark.slow
async def test_a_success_restarts_the_failure_clock(rig: Rig) -> None:
    """Failing, a success on day 5, failing again: on day 8 the feed is still polled."""
    rig.server.script("mostly.xml", Script(status=503))
    await rig.poll("mostly.xml")
    del rig.server.scripts["mostly.xml"]
    rig.server.bodies["mostly.xml"] = (FIXTURES / "atom.xml").read_bytes()
    await rig.poll("mostly.xml", after=timedelta(days=5))
    rig.server.scripts["mostly.xml"] = Script(status=503)
    await rig.poll("mostly.xml", after=timedelta(days=3))
    assert not (await rig.state("mostly.xml")).disabled


async def test_gone_feed_is_disabled_and_told_at_once(rig: Rig) -> None:
    """410 Gone disables the feed on the first try, with one notice."""
    rig.server.script("gone.xml", Script(status=410))
    await rig.poll("gone.xml")
    assert (await rig.state("gone.xml")).disabled
    assert [text for _, text in rig.notices.posted] == [
        f"The feed “{rig.server.url('gone.xml')}” is gone for good (HTTP 410) and is turned "
        f"off; /feed add {rig.server.url('gone.xml')} turns it back on."]


def _sqlite(store: Store) -> SqliteDatabase:
    """The store's SQLite engine (these faults are SQLite's)."""
    assert isinstance(store.db, SqliteDatabase)
    return store.db


async def _integrity(store: Store) -> str:
    row = await store.db.fetchone("PRAGMA integrity_check")
    assert row is not None
    return str(row[0])


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # SQLite's own faults
async def test_locked_database_is_a_logged_retry_not_a_crash(rig: Rig, tmp_path: Path) -> None:
    """Another process holding the write lock costs one poll; the next stores everything."""
    await _sqlite(rig.store).conn.execute("PRAGMA busy_timeout = 100")
    rig.server.bodies["news.xml"] = (FIXTURES / "world_news.xml").read_bytes()
    await rig.add("news.xml")
    other = sqlite3.connect(tmp_path / "news.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        error = await rig.poll("news.xml")
        outcomes = await rig.poller.poll_due()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert error.startswith("internal error: OperationalError")
    assert all(o.new == 0 for o in outcomes)
    assert await rig.poll("news.xml", after=timedelta(days=1)) == ""
    assert await rig.store.articles.count() == 4
    assert await _integrity(rig.store) == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_full_disk_is_a_logged_retry_not_a_crash(rig: Rig) -> None:
    """A database that can't grow loses no story: the feed is stored once space is back."""
    rig.server.bodies["news.xml"] = _big_feed(100)
    await rig.add("news.xml")
    row = await rig.store.db.fetchone("PRAGMA page_count")
    assert row is not None
    await _sqlite(rig.store).conn.execute(f"PRAGMA max_page_count = {int(row[0])}")
    error = await rig.poll("news.xml")
    assert error.startswith("internal error: ")
    assert await rig.store.articles.count() == 0
    await _sqlite(rig.store).conn.execute("PRAGMA max_page_count = 1073741823")
    assert await rig.poll("news.xml", after=timedelta(days=1)) == ""
    assert await rig.store.articles.count() == 100
    assert await _integrity(rig.store) == "ok"


def _big_feed(count: int) -> bytes:
    items = "".join(f"<item><title>Story number {i}</title><link>https://big.example/{i}</link>"
                    f"<description>{f'Paragraph {i} of a long story. ' * 60}</description></item>"
                    for i in range(count))
    return f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
