"""Published channels over real HTTP on loopback: publishing from the command path, what is
served and what never is, feeds read back, conditional requests, hostile content, limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import feedparser
import pytest
from multidict import CIMultiDictProxy

from bot.feeds.parse import parse_feed
from bot.web.server import SEARCHES_PER_MINUTE
from tests.web_rig import Story, WebRig, seed_digest, web_rig

WORLD = Story("Floods close schools across the region", "Heavy rain has closed 200 schools.",
              "https://example.org/floods", ("Floods", "Weather"),
              also=(Story("Rain shuts schools", "Schools shut.", "https://example.net/rain",
                          feed="Other"),))
HOSTILE = Story('<script>alert("t")</script> Title & "quotes"',
                '<img src=x onerror=alert(1)> summary </p><a href="javascript:alert(2)">x</a>',
                "javascript:alert(3)", ("<b>bold</b>", 'x"onmouseover="alert(4)'),
                also=(Story("Other take", "", "data:text/html,<script>alert(5)</script>",
                            feed="Other"),))


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[WebRig]:
    """The web server on a free port over a fresh database."""
    async with web_rig(tmp_path) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client that follows no redirects."""
    async with aiohttp.ClientSession() as session:
        yield session


async def fetch(http: aiohttp.ClientSession, url: str, method: str = "GET",
                headers: dict[str, str] | None = None
                ) -> tuple[int, str, CIMultiDictProxy[str]]:
    """Status, body text and headers of one request."""
    async with http.request(method, url, headers=headers, allow_redirects=False) as response:
        return response.status, await response.text(), response.headers


async def test_publish_on_serves_the_latest_digest(rig: WebRig,
                                                   http: aiohttp.ClientSession) -> None:
    """/publish on answers a link under the public URL with >=128 random bits; the page shows
    the digest, links both feeds and carries the security headers."""
    await seed_digest(rig.core, [WORLD], title="Morning digest")
    link = await rig.publish("console")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert link.startswith(f"{rig.base_url}/c/") and len(token) >= 22  # 22 base64 chars=132 bits
    status, body, headers = await fetch(http, link)
    assert status == 200 and "Morning digest" in body and WORLD.title in body
    assert 'type="application/atom+xml"' in body and 'type="application/feed+json"' in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "<script" not in body and "console" not in body  # no channel is named


async def test_publish_on_twice_keeps_the_address(rig: WebRig) -> None:
    """A second /publish on shows the same link instead of moving it."""
    assert await rig.publish("console") == await rig.publish("console")


async def test_members_cannot_publish(rig: WebRig) -> None:
    """/publish is for moderators only; nothing is published."""
    from bot.chat.request import Caller

    member = Caller(channel_id="console", user_id="someone", is_moderator=False)
    reply = await rig.core.commands.handle(member, "/publish on")
    assert reply.text == "/publish is for moderators only."
    assert await rig.core.store.channels.page_token("console") is None


async def test_unpublished_and_unknown_pages_are_the_same_404(
        rig: WebRig, http: aiohttp.ClientSession) -> None:
    """A channel never published and a token that never existed answer the same plain 404."""
    await seed_digest(rig.core, [WORLD])
    never = await fetch(http, f"{rig.base_url}/c/{'A' * 32}/")
    short = await fetch(http, f"{rig.base_url}/c/x/")
    root = await fetch(http, f"{rig.base_url}/")
    assert never[0] == short[0] == root[0] == 404
    assert never[1] == short[1] == root[1] and "Traceback" not in never[1]


async def test_publish_off_takes_everything_down_at_once(rig: WebRig,
                                                         http: aiohttp.ClientSession) -> None:
    """After /publish off the page, digest, story, search and both feeds are 404."""
    digest_id = await seed_digest(rig.core, [WORLD])
    link = await rig.publish("console")
    story_id = (await rig.core.store.articles.latest(limit=10))[-1].id
    paths = ["", f"d/{digest_id}", f"s/{story_id}", "search?q=floods", "feed.atom",
             "feed.json"]
    assert [(await fetch(http, link + p))[0] for p in paths] == [200] * 6
    assert "gone from the web" in await rig.command("console", "/publish off")
    assert [(await fetch(http, link + p))[0] for p in paths] == [404] * 6


async def test_publish_new_moves_the_address(rig: WebRig, http: aiohttp.ClientSession) -> None:
    """/publish new gives a new link; the old one is 404 like a page that never existed."""
    old = await rig.publish("console")
    new = await rig.publish("console", "new")
    assert new != old
    assert (await fetch(http, old))[0] == 404 and (await fetch(http, new))[0] == 200


async def test_publish_on_after_off_gives_a_fresh_address(rig: WebRig,
                                                          http: aiohttp.ClientSession) -> None:
    """A page taken down never comes back at its old address."""
    old = await rig.publish("console")
    await rig.command("console", "/publish off")
    again = await rig.publish("console")
    assert again != old and (await fetch(http, old))[0] == 404


async def test_past_digests_keep_their_own_addresses(rig: WebRig,
                                                     http: aiohttp.ClientSession) -> None:
    """Each digest has a permanent page; the front page lists the earlier ones."""
    first = await seed_digest(rig.core, [WORLD], title="First digest")
    second = await seed_digest(rig.core, [Story("Second story")], title="Second digest")
    link = await rig.publish("console")
    front = (await fetch(http, link))[1]
    assert "Second digest" in front and f"d/{first}" in front
    old = await fetch(http, f"{link}d/{first}")
    assert old[0] == 200 and WORLD.title in old[1] and f"d/{second}" in old[1]
    assert (await fetch(http, f"{link}d/999999"))[0] == 404
    assert (await fetch(http, f"{link}d/abc"))[0] == 404


async def test_another_channels_digests_and_stories_are_never_served(
        rig: WebRig, http: aiohttp.ClientSession) -> None:
    """The console's page shows neither discord:2's digest nor its private feed's stories
    (by id, in search, in feeds)."""
    private = Story("Private board minutes leaked", "Secret.", "https://example.org/p",
                    feed="Private")
    other = await seed_digest(rig.core, [private], channel_id="discord:2")
    link = await rig.publish("console")
    story_id = (await rig.core.store.articles.latest(limit=1))[0].id
    assert (await fetch(http, f"{link}d/{other}"))[0] == 404
    assert (await fetch(http, f"{link}s/{story_id}"))[0] == 404
    assert "Private board" not in (await fetch(http, f"{link}search?q=private board"))[1]
    assert "Private board" not in (await fetch(http, f"{link}feed.atom"))[1]


async def test_search_keeps_to_the_channels_filter(rig: WebRig,
                                                   http: aiohttp.ClientSession) -> None:
    """Search finds the channel's stories that pass its filter, and only those."""
    await seed_digest(rig.core, [WORLD, Story("Floods opinion: we were warned")])
    link = await rig.publish("console")
    await rig.command("console", '/filter set not title:"opinion"')
    body = (await fetch(http, f"{link}search?q=floods"))[1]
    assert WORLD.title in body and "we were warned" not in body


async def test_story_page_shows_summary_tags_outlets_and_original(
        rig: WebRig, http: aiohttp.ClientSession) -> None:
    """A story's page has its summary, tags, the other outlet and the original link."""
    await seed_digest(rig.core, [WORLD])
    link = await rig.publish("console")
    lead = next(a for a in await rig.core.store.articles.latest(limit=5)
                if a.title == WORLD.title)
    status, body, _ = await fetch(http, f"{link}s/{lead.id}")
    assert status == 200 and WORLD.summary in body and "#Weather" in body
    assert 'href="https://example.org/floods"' in body
    assert 'href="https://example.net/rain"' in body and "Other" in body


async def test_atom_feed_reads_back_with_feedparser_and_newsbot(
        rig: WebRig, http: aiohttp.ClientSession) -> None:
    """The Atom feed is well-formed for feedparser: one entry per item with title, summary,
    tags, the original link and the other outlet; newsbot's own parser takes it in."""
    await seed_digest(rig.core, [WORLD, Story("Second", "Two.", "https://example.org/2")])
    link = await rig.publish("console")
    status, body, headers = await fetch(http, f"{link}feed.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(body.encode())
    assert not parsed.bozo and parsed.version == "atom10"
    entry = parsed.entries[0]
    assert [e.title for e in parsed.entries] == [WORLD.title, "Second"]
    assert entry.link == WORLD.url and [t.term for t in entry.tags] == ["Floods", "Weather"]
    assert entry.summary == WORLD.summary
    assert any(li.get("rel") == "related" and li.href == "https://example.net/rain"
               for li in entry.links)
    ours = parse_feed(body.encode(), f"{link}feed.atom", now=datetime.now(UTC))
    assert [(e.title, e.url, e.categories) for e in ours.entries] == [
        (WORLD.title, WORLD.url, WORLD.tags), ("Second", "https://example.org/2", ())]


async def test_json_feed_reads_back_with_newsbots_reader(rig: WebRig,
                                                         http: aiohttp.ClientSession) -> None:
    """The JSON Feed 1.1 document is what newsbot's reader takes in: titles, links, tags."""
    await seed_digest(rig.core, [WORLD])
    link = await rig.publish("console")
    status, body, headers = await fetch(http, f"{link}feed.json")
    assert status == 200 and headers["Content-Type"].startswith("application/feed+json")
    document = json.loads(body)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == f"{link}feed.json"
    item = document["items"][0]
    assert item["summary"] == WORLD.summary and item["_newsbot"]["also"][0]["outlet"] == "Other"
    ours = parse_feed(body.encode(), f"{link}feed.json", now=datetime.now(UTC))
    assert [(e.title, e.url, e.categories) for e in ours.entries] == [
        (WORLD.title, WORLD.url, WORLD.tags)]
    assert WORLD.summary in ours.entries[0].content_html


@pytest.mark.parametrize("path", ["feed.atom", "feed.json", ""])
async def test_conditional_requests_answer_304(rig: WebRig, http: aiohttp.ClientSession,
                                               path: str) -> None:
    """If-None-Match with the ETag, or If-Modified-Since at Last-Modified, gives 304 with no
    body; a new digest changes both."""
    await seed_digest(rig.core, [WORLD])
    url = await rig.publish("console") + path
    _, _, headers = await fetch(http, url)
    again = await fetch(http, url, headers={"If-None-Match": headers["ETag"]})
    since = await fetch(http, url, headers={"If-Modified-Since": headers["Last-Modified"]})
    assert again[0] == since[0] == 304 and again[1] == ""
    await seed_digest(rig.core, [Story("Newer story")])
    changed = await fetch(http, url, headers={"If-None-Match": headers["ETag"]})
    assert changed[0] == 200 and "Newer story" in changed[1]


async def test_an_old_if_modified_since_gets_the_feed(rig: WebRig,
                                                      http: aiohttp.ClientSession) -> None:
    """A client whose copy predates the newest digest gets the whole feed."""
    await seed_digest(rig.core, [WORLD])
    url = await rig.publish("console") + "feed.atom"
    old = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert (await fetch(http, url, headers={"If-Modified-Since": old}))[0] == 200


async def test_hostile_text_is_escaped_and_bad_links_get_no_href(
        rig: WebRig, http: aiohttp.ClientSession) -> None:
    """Markup in titles, summaries and tags is shown as text; javascript: and data: links are
    never links, on the digest page, the story page and in both feeds."""
    await seed_digest(rig.core, [HOSTILE])
    link = await rig.publish("console")
    lead = next(a for a in await rig.core.store.articles.latest(limit=5)
                if a.title == HOSTILE.title)
    for path in ("", f"s/{lead.id}", "search?q=title+quotes"):
        body = (await fetch(http, link + path))[1]
        assert "&lt;script&gt;" in body and "<script" not in body, path
        assert "<img" not in body and "<b>" not in body and 'x"onmouseover' not in body
        assert 'href="javascript' not in body and 'href="data:' not in body
    atom = feedparser.parse((await fetch(http, link + "feed.atom"))[1].encode())
    assert not atom.bozo and atom.entries[0].title == HOSTILE.title
    assert "link" not in atom.entries[0] or not atom.entries[0].link.startswith("javascript")
    assert all(not li.href.startswith(("javascript", "data")) for li in atom.entries[0].links)
    item = json.loads((await fetch(http, link + "feed.json"))[1])["items"][0]
    assert item["url"].startswith(rig.base_url) and item["_newsbot"]["also"] == []
    assert "<script" not in item["content_html"] and "<img" not in item["content_html"]


async def test_other_methods_get_a_plain_405(rig: WebRig, http: aiohttp.ClientSession) -> None:
    """POST, PUT and DELETE get 405 with Allow, an HTML page and the security headers."""
    link = await rig.publish("console")
    for method in ("POST", "PUT", "DELETE"):
        status, body, headers = await fetch(http, link, method)
        assert status == 405 and "Method Not Allowed" in body and "Traceback" not in body
        assert "GET" in headers["Allow"] and headers["Referrer-Policy"] == "no-referrer"


async def test_head_is_answered_without_a_body(rig: WebRig, http: aiohttp.ClientSession) -> None:
    """HEAD on a page is a 200 with no body."""
    link = await rig.publish("console")
    status, body, _ = await fetch(http, link, "HEAD")
    assert status == 200 and body == ""


async def test_search_is_rate_limited_per_client(rig: WebRig,
                                                 http: aiohttp.ClientSession) -> None:
    """Past the limit a client gets 429 with Retry-After; pages stay available."""
    link = await rig.publish("console")
    statuses = [(await fetch(http, f"{link}search?q=floods"))[0]
                for _ in range(SEARCHES_PER_MINUTE + 1)]
    assert statuses == [200] * SEARCHES_PER_MINUTE + [429]
    status, body, headers = await fetch(http, f"{link}search?q=rain")
    assert status == 429 and "Too many searches" in body and int(headers["Retry-After"]) > 0
    assert (await fetch(http, link))[0] == 200


async def test_oversized_search_and_request_are_refused(rig: WebRig,
                                                        http: aiohttp.ClientSession) -> None:
    """A query past 200 characters is a 400 page; a request body is refused."""
    link = await rig.publish("console")
    assert (await fetch(http, f"{link}search?q={'a' * 500}"))[0] == 400
    async with http.get(link, data=b"x" * 100_000) as response:
        assert response.status == 413
