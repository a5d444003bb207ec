"""Inputs reported upstream to make `feedparser.parse` raise instead of setting bozo, replayed
through parse_feed and the parse worker: each is a parsed feed, never an uncaught error.

feedparser 6.0.14 no longer raises on any of them; they stay as regression guards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.parse import parse_feed
from bot.feeds.worker import ParseWorker

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
URL = "https://crash.example/feed"
RSS = ('<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
       'xmlns:georss="http://www.georss.org/georss"><channel><title>Crashers{amp}</title>'
       '<item><title>Story</title><link>https://crash.example/a</link>{inner}</item>'
       '</channel></rss>')
ATOM = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Crashers{amp}</title><entry>'
        '<title>Story</title><link href="https://crash.example/a"/><id>urn:a</id>{inner}'
        '</entry></feed>')
# kurtmckee/feedparser issues: #378 (AssertionError from _markupbase on a declaration-like
# CDATA), #217 and #271 (StopIteration from a GeoRSS point or polygon with an odd number of
# coordinates), #176 (TypeError from base64 content that isn't base64).
CRASHERS = {
    "378-cdata-declaration": (RSS, "<content:encoded><![CDATA[<!h<!h<!h<]]></content:encoded>"),
    "217-georss-point": (RSS, "<georss:point>45.256</georss:point>"),
    "271-georss-polygon": (RSS, "<georss:polygon>45.256 -110.45 46.46</georss:polygon>"),
    "176-bad-base64": (ATOM, '<content type="application/octet-stream" mode="base64">'
                             "not base64 !!</content>"),
}
# each well-formed (mostly read by our lxml path) and not (a bare "&": only feedparser reads
# it, with its loose parser)
BODIES = {f"{name}{'-loose' if amp else ''}": template.format(amp=amp, inner=inner).encode()
          for name, (template, inner) in CRASHERS.items() for amp in ("", " & co")}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_known_feedparser_crasher_parses(body: bytes) -> None:
    """A feed that once crashed feedparser gives its one story, the bad element ignored."""
    feed = parse_feed(body, URL, now=NOW)
    assert [entry.title for entry in feed.entries] == ["Story"]
    assert feed.title.startswith("Crashers")


@pytest.mark.slow
async def test_known_feedparser_crashers_leave_the_worker_alive() -> None:
    """One parse worker parses every known crasher in turn: each gives its story."""
    async with ParseWorker(deadline_s=30) as worker:
        feeds = [await worker.parse(body, URL, now=NOW) for body in BODIES.values()]
    assert all([entry.title for entry in feed.entries] == ["Story"] for feed in feeds)
