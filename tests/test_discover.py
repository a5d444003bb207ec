"""Feed discovery: /feed add with a site's page finds its feed, or lists several."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.request import Caller
from bot.config import load_config
from bot.feeds.discover import COMMON_PATHS, feed_links, looks_like_feed
from tests.conftest import FIXTURES
from tests.fakes.feed_server import FeedServer, Script

MODERATOR = Caller(channel_id="discord:1", user_id="discord:8", is_moderator=True)


def page(*links: str) -> bytes:
    """An HTML page whose head holds these <link> tags."""
    return ("<!doctype html><html><head><title>Site</title>" + "".join(links)
            + "</head><body><p>Hello</p></body></html>").encode()


@pytest.fixture
async def core(write_config: Callable[[str], Path]) -> AsyncIterator[Core]:
    """The real core with loopback addresses allowed and no feeds yet."""
    path = write_config('[fetch]\nallow_private_addresses = true\ntimeout = "5s"\n'
                        '[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        yield core


def test_alternate_links_are_read_in_page_order() -> None:
    """RSS and Atom alternate links are found, made absolute, stylesheets ignored."""
    html = page('<link rel="stylesheet" href="/a.css">',
                '<link rel="alternate" type="application/rss+xml" title="All" href="/rss">',
                '<link rel="Alternate" type="application/atom+xml" href="https://x.org/atom">')
    found = feed_links(html, "https://site.example/2026/story.html")
    assert [(f.url, f.title) for f in found] == [("https://site.example/rss", "All"),
                                                 ("https://x.org/atom", "")]


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b'<?xml version="1.0"?>\n<rss version="2.0">', "text/xml", True),
    (b'<feed xmlns="http://www.w3.org/2005/Atom">', "application/xml", True),
    (b'{"version": "https://jsonfeed.org/version/1.1"}', "application/json", True),
    (b"<html><body>rss</body></html>", "text/html; charset=utf-8", False),
    (b"anything", "application/rss+xml", True),
])
def test_feed_documents_are_told_from_pages(body: bytes, content_type: str,
                                            expected: bool) -> None:
    """A response is a feed by its content type, else by its root element."""
    assert looks_like_feed(body, content_type) is expected


@pytest.mark.slow
async def test_feed_add_with_a_home_page_picks_its_feed(core: Core,
                                                        feed_server: FeedServer) -> None:
    """A page naming one feed: that feed is added, and the reply says which it picked."""
    feed_server.bodies["home"] = page(
        f'<link rel="alternate" type="application/rss+xml" '
        f'href="{feed_server.url("world_news.xml")}">')
    reply = await core.commands.handle(MODERATOR, f"/feed add {feed_server.url('home')}")
    assert reply.text.startswith(f"Found the feed {feed_server.url('world_news.xml')}")
    assert "Added “" in reply.text
    assert [f.url for f in await core.store.feeds.active_feeds()] == [
        feed_server.url("world_news.xml")]


async def test_page_with_several_feeds_lists_them(core: Core, feed_server: FeedServer) -> None:
    """Several feeds on a page are listed to choose from; nothing is added."""
    feed_server.bodies["home"] = page(
        '<link rel="alternate" type="application/rss+xml" title="News" href="/news.xml">',
        '<link rel="alternate" type="application/atom+xml" title="Comments" href="/c.xml">')
    reply = await core.commands.handle(MODERATOR, f"/feed add {feed_server.url('home')}")
    assert "several feeds" in reply.text
    assert f"• {feed_server.url('news.xml')} (News)" in reply.text
    assert await core.store.feeds.active_feeds() == []


@pytest.mark.slow
async def test_page_without_links_falls_back_to_common_paths(core: Core,
                                                             feed_server: FeedServer) -> None:
    """No alternate link: /feed, /rss, ... are tried and the first feed found is added."""
    feed_server.bodies["blog/post"] = page()
    feed_server.bodies["rss.xml"] = (FIXTURES / "world_news.xml").read_bytes()
    reply = await core.commands.handle(MODERATOR, f"/feed add {feed_server.url('blog/post')}")
    assert reply.text.startswith(f"Found the feed {feed_server.url('rss.xml')}")
    assert feed_server.requests["feed"] == 1  # tried before /rss.xml


async def test_page_without_any_feed_is_refused(core: Core, feed_server: FeedServer) -> None:
    """A page with no feed anywhere is a one-line answer and nothing is added."""
    feed_server.bodies["plain"] = page()
    for path in COMMON_PATHS:  # the fixture folder holds an atom.xml
        feed_server.script(path.lstrip("/"), Script(status=404))
    reply = await core.commands.handle(MODERATOR, f"/feed add {feed_server.url('plain')}")
    assert reply.text.startswith("Found no feed at ")
    assert await core.store.feeds.active_feeds() == []


@pytest.mark.slow
async def test_feed_url_is_added_as_it_is(core: Core, feed_server: FeedServer) -> None:
    """A feed URL needs no discovery: the reply has no 'Found the feed' note."""
    reply = await core.commands.handle(MODERATOR, f"/feed add {feed_server.url('tech_news.atom')}")
    assert reply.text.startswith("Added “")
