"""Polling feeds into the store: dedup across polls, 304s, failures and backoff."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.enrich.stories import Stories
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import allow_any_address
from bot.feeds.parse import ParseError
from bot.feeds.poll import Poller, PollSettings, next_poll_after_failure
from bot.feeds.worker import ParseWorker
from bot.model import Claimant, FeedSpec, FeedState
from bot.store.db import to_ts
from bot.store.store import Location, Store, open_store
from tests.conftest import wait_until
from tests.fakes.feed_server import FeedServer, Script

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Rig:
    """A poller wired to a real store, fetcher and worker."""

    store: Store
    poller: Poller
    server: FeedServer

    async def feed(self, name: str) -> FeedState:
        url = self.server.url(name)
        await self.store.feeds.sync_config_feeds([FeedSpec(url=url, interval_s=600)])
        feed = await self.store.feeds.feed_by_url(url)
        assert feed is not None
        return feed


@pytest.fixture
async def rig(database: Location, feed_server: FeedServer) -> AsyncIterator[Rig]:
    """Store (on each engine), fetcher and parse worker for one test."""
    async with open_store(database) as store, \
            Fetcher(FetchLimits(timeout_s=5), allow_any_address) as fetcher, \
            ParseWorker() as worker:
        poller = Poller(store, fetcher, worker, Stories(store.articles, lambda: NOW),
                        lambda: NOW, PollSettings())
        yield Rig(store, poller, feed_server)


@pytest.mark.slow
async def test_first_poll_stores_every_entry(rig: Rig) -> None:
    """A new feed's entries are all stored, with summaries and tags."""
    outcome = await rig.poller.poll_feed(await rig.feed("world_news.xml"))
    assert (outcome.new, outcome.error) == (4, "")
    stored = await rig.store.articles.latest(limit=10)
    assert {a.feed_name for a in stored} == {"Example World News"}
    assert all(a.summary for a in stored)


@pytest.mark.slow
async def test_second_poll_is_a_304_with_no_parse(rig: Rig) -> None:
    """An unchanged feed is answered 304: nothing parsed, nothing stored twice."""
    await rig.poller.poll_feed(await rig.feed("world_news.xml"))
    again = await rig.poller.poll_feed(await rig.feed("world_news.xml"))
    assert again.not_modified and again.new == 0
    assert rig.server.not_modified["world_news.xml"] == 1
    assert await rig.store.articles.count() == 4


@pytest.mark.slow
async def test_identical_body_without_validators_is_not_parsed(rig: Rig) -> None:
    """A server without ETag support sending the same bytes costs no parse."""
    body = (Path(__file__).parent / "fixtures" / "world_news.xml").read_bytes()
    rig.server.script("plain.xml", Script(body=body))
    first = await rig.poller.poll_feed(await rig.feed("plain.xml"))
    second = await rig.poller.poll_feed(await rig.feed("plain.xml"))
    assert first.new == 4 and second.not_modified


@pytest.mark.slow
async def test_changed_body_adds_only_new_entries(rig: Rig) -> None:
    """A feed that gains one item stores exactly that one."""
    body = (Path(__file__).parent / "fixtures" / "world_news.xml").read_bytes()
    rig.server.bodies["grow.xml"] = body
    await rig.poller.poll_feed(await rig.feed("grow.xml"))
    extra = (b"<item><title>Brand new</title><link>https://news.example.org/new</link>"
             b"<guid isPermaLink='false'>ex-2000</guid></item></channel>")
    rig.server.bodies["grow.xml"] = body.replace(b"</channel>", extra)
    outcome = await rig.poller.poll_feed(await rig.feed("grow.xml"))
    assert (outcome.new, outcome.seen) == (1, 4)


async def test_failure_is_recorded_with_backoff(rig: Rig) -> None:
    """A failing feed keeps its error and is polled again later, not at once."""
    rig.server.script("down.xml", Script(status=503, headers={"Retry-After": "3600"}))
    outcome = await rig.poller.poll_feed(await rig.feed("down.xml"))
    feed = await rig.store.feeds.feed_by_url(rig.server.url("down.xml"))
    assert outcome.error.startswith("HTTP 503")
    assert feed is not None and feed.failures == 1 and feed.last_error.startswith("HTTP 503")
    assert feed.next_poll == NOW + timedelta(hours=1)


async def test_gone_feed_is_disabled(rig: Rig) -> None:
    """410 Gone disables the feed at once."""
    rig.server.script("gone.xml", Script(status=410))
    await rig.poller.poll_feed(await rig.feed("gone.xml"))
    feed = await rig.store.feeds.feed_by_url(rig.server.url("gone.xml"))
    assert feed is not None and feed.disabled


@pytest.mark.slow
async def test_unparseable_body_is_a_feed_failure(rig: Rig) -> None:
    """A body that is not a feed fails that feed with a reason; the poller goes on."""
    outcome = await rig.poller.poll_feed(await rig.feed("malformed.xml"))
    assert outcome.error.startswith("not a feed")


@pytest.mark.slow
async def test_same_broken_body_fails_again_without_a_parse(rig: Rig) -> None:
    """A body that failed to parse, served again byte for byte, fails with the same reason
    and counts as another failure, but is not parsed again: the second poller's workers
    could not even start (1 MB memory cap), and it never needs them."""
    first = await rig.poller.poll_feed(await rig.feed("malformed.xml"))
    async with Fetcher(FetchLimits(timeout_s=5), allow_any_address) as fetcher, \
            ParseWorker(memory_mb=1) as broken:
        poller = Poller(rig.store, fetcher, broken, Stories(rig.store.articles, lambda: NOW),
                        lambda: NOW, PollSettings())
        again = await poller.poll_feed(await rig.feed("malformed.xml"))
    feed = await rig.store.feeds.feed_by_url(rig.server.url("malformed.xml"))
    assert first.error.startswith("not a feed") and again.error == first.error
    assert feed is not None and (feed.failures, feed.last_error) == (2, first.error)


@pytest.mark.slow
async def test_success_resets_failures(rig: Rig) -> None:
    """After failures, one good poll resets the count and the error."""
    rig.server.script("flaky.xml", Script(status=500))
    await rig.poller.poll_feed(await rig.feed("flaky.xml"))
    del rig.server.scripts["flaky.xml"]
    rig.server.bodies["flaky.xml"] = (Path(__file__).parent / "fixtures" / "atom.xml").read_bytes()
    feed = await rig.store.feeds.feed_by_url(rig.server.url("flaky.xml"))
    assert feed is not None
    await rig.poller.poll_feed(feed)
    feed = await rig.store.feeds.feed_by_url(rig.server.url("flaky.xml"))
    assert feed is not None and (feed.failures, feed.last_error) == (0, "")


@pytest.mark.slow
async def test_unchanged_round_records_every_feed(rig: Rig) -> None:
    """A round of unchanged feeds (304 and same body) clears their failures and moves each
    one's next poll an interval on, with no parse."""
    body = (Path(__file__).parent / "fixtures" / "world_news.xml").read_bytes()
    rig.server.script("plain.xml", Script(body=body))
    feeds = [await rig.feed("world_news.xml"), await rig.feed("plain.xml")]
    await rig.poller.poll_feeds(feeds)
    for name in ("world_news.xml", "plain.xml"):  # a failure each, to be cleared
        rig.server.scripts[name] = Script(status=500)
    await rig.poller.poll_feeds([await rig.feed(n) for n in ("world_news.xml", "plain.xml")])
    del rig.server.scripts["world_news.xml"]
    rig.server.script("plain.xml", Script(body=body))
    again = await rig.poller.poll_feeds(
        [await rig.feed(n) for n in ("world_news.xml", "plain.xml")])
    assert [o.not_modified for o in again] == [True, True]
    for name in ("world_news.xml", "plain.xml"):
        feed = await rig.feed(name)
        assert (feed.failures, feed.last_error) == (0, "")
        assert feed.next_poll == NOW + timedelta(seconds=600)
    assert rig.server.not_modified["world_news.xml"] == 1


@pytest.mark.slow
async def test_claims_are_renewed_while_their_batch_is_polled(
        database: Location, feed_server: FeedServer) -> None:
    """A feed that answers after more than the lease keeps its claim: the round renews the
    claims on its batch every third of the lease, and lets them go once the poll is recorded."""
    clock = [NOW]
    async with open_store(database) as store, \
            Fetcher(FetchLimits(timeout_s=10), allow_any_address) as fetcher, \
            ParseWorker() as worker:
        poller = Poller(store, fetcher, worker, Stories(store.articles, lambda: NOW),
                        lambda: clock[-1],
                        PollSettings(claimant=Claimant("a", timedelta(seconds=1))))
        feed_server.script("slow.xml", Script(status=304, delay_s=3))
        await store.feeds.sync_config_feeds([FeedSpec(url=feed_server.url("slow.xml"))])
        polling = asyncio.create_task(poller.poll_due())

        async def claim() -> tuple[str | None, float | None]:
            row = await store.db.fetchone("SELECT lease_holder, lease_until FROM feeds")
            assert row is not None
            return row[0], row[1]

        await wait_until(lambda: feed_server.requests["slow.xml"] == 1)
        clock.append(NOW + timedelta(minutes=1))  # the first claim ran out long ago
        renewed = ("a", to_ts(NOW + timedelta(minutes=1, seconds=1)))
        while await claim() != renewed:
            assert not polling.done(), "the claim was never renewed while polled"
            await asyncio.sleep(0.01)
        [outcome] = await polling
        assert outcome.not_modified and await claim() == (None, None)


@pytest.mark.parametrize(("failures", "hours"), [(1, 0.5), (2, 1), (5, 8), (9, 24), (40, 24)])
def test_backoff_doubles_up_to_a_day(failures: int, hours: float) -> None:
    """Backoff doubles the interval per failure and stops at 24 hours."""
    feed = FeedState(id=1, url="https://x.example/", name="x", interval_s=900)
    assert next_poll_after_failure(feed, failures, NOW, None) == NOW + timedelta(hours=hours)


@pytest.mark.slow
async def test_worker_survives_a_task_past_its_deadline() -> None:
    """A parse that never ends is a ParseError once the deadline passes; the replaced worker
    still works. (The deadline also covers a fresh worker's imports, hence 10 s, not less.)"""
    async with ParseWorker(deadline_s=10) as worker:
        with pytest.raises(ParseError, match="longer than 10 s"):
            await worker.run(hang, ())
        feed = await worker.parse((Path(__file__).parent / "fixtures" / "atom.xml").read_bytes(),
                                  "https://x.example/", now=NOW)
    assert feed.entries


@pytest.mark.slow
async def test_worker_memory_cap_is_a_parse_failure() -> None:
    """A task that needs more memory than the cap fails that task, not the bot."""
    async with ParseWorker(memory_mb=300) as worker:
        with pytest.raises(ParseError, match="memory"):
            await worker.run(allocate, (2000,))


def hang() -> None:
    """A task that never ends (runs in the worker, which the deadline kills)."""
    threading.Event().wait()


def allocate(megabytes: int) -> int:
    """A task that allocates far beyond the cap (runs in the worker)."""
    return len(bytearray(megabytes * 1024 * 1024))


@pytest.mark.slow
async def test_full_text_feed_gets_summaries_from_the_article_page(rig: Rig) -> None:
    """A titles-only feed with full_text on is summarized from its article pages."""
    page = (b"<html><body><nav>Home | World | Sport</nav><article><h1>Bridge closes</h1>"
            b"<p>The council voted on Tuesday to close the old bridge for repairs, officials "
            b"said.</p><p>Work starts in March and lasts six months; traffic will go through "
            b"the town centre instead.</p></article><footer>(c) 2026 Example</footer>"
            b"</body></html>")
    rig.server.bodies["story.html"] = page
    rig.server.bodies["titles.xml"] = (
        '<rss version="2.0"><channel><title>Titles</title><item><title>Bridge closes</title>'
        f'<link>{rig.server.url("story.html")}</link></item></channel></rss>').encode()
    url = rig.server.url("titles.xml")
    await rig.store.feeds.sync_config_feeds([FeedSpec(url=url, full_text=True)])
    feed = await rig.store.feeds.feed_by_url(url)
    assert feed is not None
    await rig.poller.poll_feed(feed)
    [article] = await rig.store.articles.latest(limit=1)
    assert article.summary.startswith("The council voted on Tuesday to close the old bridge")
