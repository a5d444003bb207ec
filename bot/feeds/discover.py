"""Feed discovery: from a site's page to its feeds (alternate links, then common paths)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from bot.feeds.fetch import Fetcher

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json",
                        "application/rdf+xml"})
COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml")
_SNIFF = 2048
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)[\s>]", re.IGNORECASE)
_JSON_FEED = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FoundFeed:
    """A feed a page points to."""

    url: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Discovery:
    """What a URL led to: itself a feed, the feeds its page names, nothing, or an error."""

    feeds: tuple[FoundFeed, ...] = ()
    is_feed: bool = False  # the URL itself is a feed
    error: str = ""  # the URL could not be fetched
    unanswered: bool = False  # ... and no HTTP answer came (see FetchResult.unanswered)


def looks_like_feed(body: bytes, content_type: str) -> bool:
    """Whether a response is a feed document rather than a web page (by type, then bytes)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in FEED_TYPES:
        return True
    if kind == "text/html":
        return False
    head = body[:_SNIFF]
    return bool(_FEED_ROOT.search(head) or _JSON_FEED.search(head))


def feed_links(html: bytes, base_url: str) -> list[FoundFeed]:
    """The `<link rel="alternate">` feeds of a page, absolute, each once, in page order."""
    found: dict[str, FoundFeed] = {}
    for node in LexborHTMLParser(html).css("link[href]"):
        attrs = node.attributes
        rel = (attrs.get("rel") or "").lower().split()
        kind = (attrs.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        url = urljoin(base_url, (attrs.get("href") or "").strip())
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found[url] = FoundFeed(url=url, title=(attrs.get("title") or "").strip())
    return list(found.values())


class FeedFinder:
    """Finds the feeds behind a URL through the guarded fetcher."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher

    async def discover(self, url: str) -> Discovery:
        """The URL itself if it is a feed, else its page's feed links, else a common path."""
        page = await self._fetcher.fetch(url)
        if page.error:
            return Discovery(error=page.error, unanswered=page.unanswered)
        final = page.final_url or url
        if looks_like_feed(page.body, page.content_type):
            return Discovery(feeds=(FoundFeed(final),), is_feed=True)
        links = feed_links(page.body, final)
        if links:
            return Discovery(feeds=tuple(links))
        for path in COMMON_PATHS:
            probe = await self._fetcher.fetch(urljoin(final, path))
            if not probe.error and looks_like_feed(probe.body, probe.content_type):
                return Discovery(feeds=(FoundFeed(probe.final_url or urljoin(final, path)),))
        return Discovery()
