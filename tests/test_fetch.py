"""HTTP fetching over real loopback sockets: validators, redirects, caps, refusals."""

from __future__ import annotations

import gzip

import pytest

from bot.feeds.fetch import Fetcher, FetchLimits, _retry_after
from bot.feeds.guard import allow_any_address, is_public_address
from tests.fakes.feed_server import FeedServer, Script

LIMITS = FetchLimits(timeout_s=3.0, max_bytes=64 * 1024)


async def test_conditional_get_gives_not_modified(feed_server: FeedServer) -> None:
    """A second fetch with the ETag it got is answered 304 with no body."""
    async with Fetcher(LIMITS, allow_any_address) as fetcher:
        first = await fetcher.fetch(feed_server.url("world_news.xml"))
        second = await fetcher.fetch(feed_server.url("world_news.xml"), etag=first.etag)
    assert first.status == 200 and first.body and first.etag
    assert second.not_modified and second.body == b""
    assert feed_server.not_modified["world_news.xml"] == 1


async def test_redirects_are_followed_up_to_five(feed_server: FeedServer) -> None:
    """A chain of 5 redirects is followed; a loop is cut off with a reason."""
    for i in range(5):
        feed_server.script(f"r{i}", Script(status=302, headers={"Location": f"/r{i + 1}"}))
    feed_server.script("r5", Script(status=301, headers={"Location": "/world_news.xml"}))
    feed_server.script("loop", Script(status=302, headers={"Location": "/loop"}))
    async with Fetcher(LIMITS, allow_any_address) as fetcher:
        ok = await fetcher.fetch(feed_server.url("r1"))
        looped = await fetcher.fetch(feed_server.url("loop"))
    assert ok.status == 200 and ok.final_url.endswith("/world_news.xml")
    assert looped.error == "more than 5 redirects"


async def test_body_over_the_cap_is_refused(feed_server: FeedServer) -> None:
    """A body larger than max_bytes is refused, also when it is compressed (a bomb)."""
    bomb = gzip.compress(b"<" * (10 * 1024 * 1024))
    feed_server.script("big", Script(body=b"x" * (LIMITS.max_bytes + 1)))
    feed_server.script("bomb", Script(body=bomb, headers={"Content-Encoding": "gzip"}))
    async with Fetcher(LIMITS, allow_any_address) as fetcher:
        big = await fetcher.fetch(feed_server.url("big"))
        exploded = await fetcher.fetch(feed_server.url("bomb"))
    assert big.error == "larger than 64 KiB"
    assert exploded.error == "larger than 64 KiB"


@pytest.mark.slow
async def test_slow_server_hits_the_deadline(feed_server: FeedServer) -> None:
    """A server slower than the overall timeout gives a timeout error."""
    feed_server.script("slow", Script(body=b"<rss/>", delay_s=2.0))
    limits = FetchLimits(timeout_s=0.5)
    async with Fetcher(limits, allow_any_address) as fetcher:
        result = await fetcher.fetch(feed_server.url("slow"))
    assert result.error == "timed out after 0.5 s"


async def test_retry_after_is_reported(feed_server: FeedServer) -> None:
    """A 429 carries its Retry-After seconds to the poller."""
    feed_server.script("busy", Script(status=429, headers={"Retry-After": "120"}))
    async with Fetcher(LIMITS, allow_any_address) as fetcher:
        result = await fetcher.fetch(feed_server.url("busy"))
    assert result.status == 429 and result.retry_after_s == 120.0
    assert result.error.startswith("HTTP 429")


def test_retry_after_accepts_http_dates() -> None:
    """Retry-After given as an HTTP date becomes seconds from now."""
    from datetime import UTC, datetime

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert _retry_after("Wed, 25 Nov 2026 12:01:00 GMT", now) == 60.0
    assert _retry_after("soon", now) is None


async def test_loopback_is_refused_by_default(feed_server: FeedServer) -> None:
    """With the public-only guard, a loopback feed is never fetched."""
    async with Fetcher(LIMITS, is_public_address) as fetcher:
        result = await fetcher.fetch(feed_server.url("world_news.xml"))
        named = await fetcher.fetch(f"http://localhost:{feed_server.port}/world_news.xml")
    assert result.error.startswith("refused:")
    assert named.error.startswith("refused:")
    assert feed_server.requests["world_news.xml"] == 0


async def test_odd_spelling_of_loopback_is_refused(feed_server: FeedServer) -> None:
    """127.0.0.1 spelled as one decimal number is still loopback, and refused."""
    async with Fetcher(LIMITS, is_public_address) as fetcher:
        result = await fetcher.fetch(f"http://2130706433:{feed_server.port}/world_news.xml")
    assert result.error.startswith("refused:")
    assert feed_server.requests["world_news.xml"] == 0


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd",
                                 "http://user:pw@example.org/feed"])
async def test_bad_schemes_and_credentials_are_refused(url: str) -> None:
    """Only http(s) without credentials is ever requested."""
    async with Fetcher(LIMITS, is_public_address) as fetcher:
        result = await fetcher.fetch(url)
    assert result.error.startswith("refused:")


async def test_connection_refused_is_a_reason() -> None:
    """A port with nothing listening gives a readable reason, not an exception."""
    async with Fetcher(LIMITS, allow_any_address) as fetcher:
        result = await fetcher.fetch("http://127.0.0.1:9/feed")
    assert result.status == 0 and result.error.startswith("cannot connect to 127.0.0.1")
