"""Identity games: feeds that re-key, re-date or re-tag their items never post a story twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.enrich.stories import Stories
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import allow_any_address
from bot.feeds.poll import Poller, PollSettings
from bot.feeds.worker import ParseWorker
from bot.model import FeedSpec
from bot.store.store import Location, Store, open_store
from tests.fakes.feed_server import FeedServer

pytestmark = pytest.mark.slow  # every test polls feeds through parser worker processes

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STORIES = ["Dam opens after ten years", "Rates rise again", "Library wins award"]


@dataclass
class Rig:
    """A poller on a real store; `serve` changes what the feed says before each poll."""

    store: Store
    poller: Poller
    server: FeedServer

    async def poll(self, items: list[str]) -> int:
        body = '<rss version="2.0"><channel><title>Games</title>' + "".join(items)
        self.server.bodies["games.xml"] = (body + "</channel></rss>").encode()
        url = self.server.url("games.xml")
        await self.store.feeds.sync_config_feeds([FeedSpec(url=url, interval_s=600)])
        feed = await self.store.feeds.feed_by_url(url)
        assert feed is not None
        outcome = await self.poller.poll_feed(feed)
        assert outcome.error == ""
        return outcome.new

    async def titles(self) -> list[str]:
        return sorted(a.title for a in await self.store.articles.latest(limit=100))


@pytest.fixture
async def rig(database: Location, feed_server: FeedServer) -> AsyncIterator[Rig]:
    """Store (on each engine), fetcher and parse worker for one test."""
    async with open_store(database) as store, \
            Fetcher(FetchLimits(timeout_s=5), allow_any_address) as fetcher, \
            ParseWorker() as worker:
        poller = Poller(store, fetcher, worker, Stories(store.articles, lambda: NOW),
                        lambda: NOW, PollSettings())
        yield Rig(store, poller, feed_server)


def _item(title: str = "", link: str = "", guid: str = "", date: str = "",
          text: str = "") -> str:
    parts = [f"<title>{title}</title>" if title else "", f"<link>{link}</link>" if link else "",
             f"<guid isPermaLink='false'>{guid}</guid>" if guid else "",
             f"<pubDate>{date}</pubDate>" if date else "",
             f"<description>{text}</description>" if text else ""]
    return "<item>" + "".join(parts) + "</item>"


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


async def test_guids_that_change_every_fetch_post_nothing_twice(rig: Rig) -> None:
    """A feed minting new guids on every fetch: the same links and titles are the same stories."""
    for fetch in range(3):
        new = await rig.poll([_item(t, f"https://g.example/{_slug(t)}", f"{t}-{fetch}")
                              for t in STORIES])
        assert new == (3 if fetch == 0 else 0)
    assert await rig.titles() == sorted(STORIES)


async def test_items_re_dated_every_fetch_post_nothing_twice(rig: Rig) -> None:
    """New publication dates on every fetch change nothing."""
    for hour in range(3):
        date = f"Tue, 24 Nov 2026 {hour:02d}:00:00 GMT"
        new = await rig.poll([_item(t, f"https://d.example/{_slug(t)}", date=date)
                              for t in STORIES])
        assert new == (3 if hour == 0 else 0)


async def test_tracking_parameters_that_change_every_fetch_post_nothing_twice(rig: Rig) -> None:
    """Known and unknown tracking parameters, new on every fetch, with new guids too."""
    for fetch in range(3):
        new = await rig.poll([
            _item(t, f"https://t.example/{_slug(t)}?utm_source=rss{fetch}&amp;ref=x{fetch}",
                  f"guid-{fetch}-{i}") for i, t in enumerate(STORIES)])
        assert new == (3 if fetch == 0 else 0)


async def test_items_without_guid_or_link_are_known_by_title(rig: Rig) -> None:
    """Items with neither guid nor link, whose text changes every fetch, post once; a new
    title is a new story."""
    for fetch in range(3):
        new = await rig.poll([_item(t, text=f"Updated {fetch} minutes ago") for t in STORIES])
        assert new == (3 if fetch == 0 else 0)
    assert await rig.poll([_item(t, text="x") for t in [*STORIES, "Fresh story"]]) == 1


async def test_duplicate_guids_in_one_document_lose_nothing(rig: Rig) -> None:
    """One guid on three different stories: all three are stored, and only once."""
    items = [_item(t, f"https://dup.example/{_slug(t)}", "same-guid") for t in STORIES]
    assert await rig.poll(items) == 3
    assert await rig.poll(items) == 0
    assert await rig.titles() == sorted(STORIES)


async def test_items_without_titles_are_stored_once(rig: Rig) -> None:
    """Link-only items are stories too; polled again, they are not new."""
    items = [_item(link=f"https://nt.example/{i}") for i in range(3)]
    assert await rig.poll(items) == 3
    assert await rig.poll(items) == 0


async def test_stories_sharing_one_link_are_all_kept(rig: Rig) -> None:
    """Distinct stories that all link to the home page (with their own guids) are not lost,
    neither at once nor one at a time."""
    first = [_item(t, "https://home.example/", f"g-{i}") for i, t in enumerate(STORIES[:2])]
    assert await rig.poll(first) == 2
    assert await rig.poll([*first, _item(STORIES[2], "https://home.example/", "g-2")]) == 1
    assert await rig.titles() == sorted(STORIES)


@pytest.mark.parametrize("titles", [["Live: storm"] * 3, ["Roads shut", "Power out", "Rain ends"]],
                         ids=["one title", "own titles"])
async def test_live_blog_items_sharing_guid_and_link_are_all_kept(rig: Rig,
                                                                  titles: list[str]) -> None:
    """Three live-blog updates with one guid and one link are three stories (told apart by
    their content); the same document polled again stores nothing new."""
    items = [_item(t, "https://live.example/blog", "live-1", text=f"Update {i}: {t}")
             for i, t in enumerate(titles)]
    assert await rig.poll(items) == 3
    assert await rig.poll(items) == 0
    assert await rig.store.articles.count() == 3
