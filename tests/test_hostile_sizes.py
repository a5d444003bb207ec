"""Hostile sizes: every field is capped where entries are built, and huge feeds never stall
the event loop."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.enrich.stories import Stories
from bot.feeds import caps
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import allow_any_address
from bot.feeds.parse import parse_feed
from bot.feeds.poll import Poller, PollSettings
from bot.feeds.worker import ParseWorker
from bot.model import FeedSpec
from bot.store.store import open_store
from tests.fakes.feed_server import FeedServer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MEGABYTE = 1024 * 1024
WORDS = "storm surge floods the coastal towns overnight as rivers rise "


def _huge(seed: str, size: int = MEGABYTE) -> str:
    """About `size` characters of words, starting with `seed` so items differ."""
    return (seed + " " + WORDS * (size // len(WORDS) + 1))[:size]


def _rss(items: list[tuple[str, str]], extra: str = "") -> bytes:
    body = "".join(f"<item><title>{title}</title><link>https://h.example/{i}</link>"
                   f"<description>{text}</description>{extra}</item>"
                   for i, (title, text) in enumerate(items))
    return f'<rss version="2.0"><channel><title>H</title>{body}</channel></rss>'.encode()


def test_cut_words_ends_at_a_word_with_an_ellipsis() -> None:
    """A long text is cut at its last word boundary within the limit, with an ellipsis."""
    assert caps.cut_words("short", 10) == "short"
    assert caps.cut_words("alpha beta gamma delta", 16) == "alpha beta…"
    assert caps.cut_words("x" * 50, 10) == "x" * 9 + "…"


@pytest.mark.parametrize("kind", ["rss", "json"])
def test_every_field_is_capped_at_the_parse_edge(kind: str) -> None:
    """Megabyte titles, bodies, authors, guids and languages, a thousand categories and an
    endless link all come out of the parser within their caps."""
    big = _huge("Title")
    if kind == "rss":
        category = "".join(f"<category>{'c' * 500}{i}</category>" for i in range(1000))
        body = _rss([(big, big)], f"<author>{big}</author><guid>{big}</guid>{category}")
        body = body.replace(b"<channel>", f"<channel><language>{big}</language>".encode())
        body = body.replace(b"https://h.example/0", f"https://h.example/{'p' * 5000}".encode())
    else:
        body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": big,
                           "language": big, "items": [{
                               "id": big, "url": f"https://h.example/{'p' * 5000}",
                               "title": big, "content_html": big, "authors": [{"name": big}],
                               "tags": [f"{'c' * 500}{i}" for i in range(1000)]}]}).encode()
    feed = parse_feed(body, "https://h.example/feed", now=NOW)
    [entry] = feed.entries
    assert len(entry.title) <= caps.TITLE and entry.title.endswith("…")
    assert entry.title.startswith("Title storm surge") and " " + entry.title[-2] != " "
    assert len(entry.content_html) <= caps.CONTENT
    assert len(entry.author) <= caps.AUTHOR
    assert len(entry.categories) == caps.CATEGORIES
    assert all(len(c) <= caps.CATEGORY for c in entry.categories)
    assert entry.url == "" and len(entry.dedup_key) < 100
    assert entry.lang == "" and feed.lang == "" and len(feed.title) <= caps.TITLE


@pytest.mark.slow
async def test_megabyte_titles_and_bodies_never_stall_the_loop(tmp_path: Path,
                                                               feed_server: FeedServer) -> None:
    """Two feeds of four items with 1 MB titles and 1 MB bodies, polled over loopback by the
    real poller (its parser process already running): every item is stored with a capped
    title, and a probe task on the loop is never late by more than 100 ms."""
    for feed in ("huge1.xml", "huge2.xml"):
        feed_server.bodies[feed] = _rss([(_huge(f"{feed} item {i}"), _huge(f"Body {i}"))
                                         for i in range(4)])
    lateness: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            start = loop.time()
            await asyncio.sleep(0.01)
            lateness.append(loop.time() - start - 0.01)

    async with open_store(tmp_path / "news.db") as store, \
            Fetcher(FetchLimits(timeout_s=60, max_bytes=32 * MEGABYTE),
                    allow_any_address) as fetcher, ParseWorker(deadline_s=120) as worker:
        poller = Poller(store, fetcher, worker, Stories(store.articles, lambda: NOW),
                        lambda: NOW, PollSettings())
        await store.feeds.sync_config_feeds([FeedSpec(url=feed_server.url(f))
                                             for f in ("huge1.xml", "huge2.xml")])
        feeds = await store.feeds.due_feeds(NOW)
        # The parser process starts first (its start-up is not what this test is about).
        await worker.parse(_rss([("warm-up", "body")]), "https://h.example/warm", now=NOW)
        probing = asyncio.create_task(probe())
        outcomes = await poller.poll_feeds(feeds)
        stop.set()
        await probing
        stored = await store.articles.latest(limit=20)
    assert [(o.new, o.error) for o in outcomes] == [(4, ""), (4, "")]
    assert len(stored) == 8 and all(len(a.title) <= caps.TITLE for a in stored)
    assert max(lateness) < 0.1, f"the loop stalled {max(lateness):.3f} s"
