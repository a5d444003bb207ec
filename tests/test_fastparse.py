"""The lxml fast path gives feedparser's very entries, or declines and leaves them to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.parse_equality import compare
from bot.feeds.fastparse import parse_fast
from tests.conftest import FIXTURES

URL = "https://feeds.example.org/feed/"
RSS = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
       'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Feed &amp; co</title>'
       "<link>https://example.org/</link><language>en_GB</language>{items}</channel></rss>")
ATOM = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xml:lang="de"><title type="html">A &lt;b&gt;feed&lt;/b&gt;</title>'
        '<id>tag:example.org,2024:feed</id>{items}</feed>')


def _rss(*items: str) -> bytes:
    return RSS.format(items="".join(f"<item>{i}</item>" for i in items)).encode()


def _atom(*entries: str) -> bytes:
    return ATOM.format(items="".join(f"<entry>{e}</entry>" for e in entries)).encode()


# Fixtures the fast path must decline (entities declared inside, broken XML): feedparser's.
FALLBACK = {"declared_entities.xml", "malformed.xml"}


@pytest.mark.parametrize("path", sorted(p for p in FIXTURES.iterdir()
                                        if p.suffix in (".xml", ".atom")), ids=lambda p: p.name)
def test_fixture_takes_the_fast_path_with_feedparsers_fields(path: Path) -> None:
    """Every ordinary fixture feed takes the fast path, field for field as feedparser reads
    it; only the known odd ones fall back (so the fast path cannot silently stop working)."""
    result = compare(path.read_bytes(), URL)
    expected = "fallback" if path.name in FALLBACK else "fast"
    assert result.status == expected, result.differences


CASES = {
    "cdata": _rss("<title><![CDATA[Fish & <chips>]]></title><link>/a</link>"),
    "entities": _rss("<title>caf&#233; &amp; &lt;bar&gt; &#x2019;</title><link>/b</link>"),
    "relative links": _rss("<title>t</title><link>../up?a=1&amp;b=2</link>",
                           "<title>u</title><guid>/perma</guid>",
                           '<title>v</title><guid isPermaLink="false">x-1</guid>'),
    "content encoded": _rss("<title>t</title><description>short</description>"
                            "<content:encoded><![CDATA[<p>much longer body</p>]]>"
                            "</content:encoded>"),
    "dc fields": _rss("<title>t</title><dc:creator>Ann</dc:creator><dc:creator>Bob</dc:creator>"
                      "<dc:date>2024-05-01T10:00:00+02:00</dc:date><dc:subject>x</dc:subject>"),
    "categories": _rss('<title>t</title><category domain="d">A</category><category>A</category>'
                       "<category>B</category><category>A</category><category/>"),
    "missing fields": _rss("<description>only a body</description>", "<link>/only</link>"),
    "odd dates": _rss("<title>a</title><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>",
                      "<title>b</title><pubDate>2003-06-10</pubDate>",
                      "<title>c</title><pubDate>not a date</pubDate>",
                      "<title>d</title><pubDate>Sun, 31 Dec 1899 00:00:00 +0000</pubDate>"),
    "mojibake repair": _rss("<title>CafÃ© \u0093quoted\u0094</title>"),
    "atom types": _atom('<title type="text">a &amp; b</title><link href="/e1"/>'
                        '<content type="html">&lt;p&gt;hi&lt;/p&gt;</content>',
                        '<title type="xhtml">x &lt; y</title><id>urn:uuid:1</id>'
                        '<summary type="text">plain</summary>',
                        '<title>t</title><link rel="self" href="/self"/><id>/e3</id>'
                        "<published>2024-01-02T03:04:05Z</published>"
                        "<updated>2024-02-02T03:04:05Z</updated>"),
    "atom authors": _atom("<title>t</title><author><name>Ann</name><email>a@x.org</email>"
                          "</author>", "<title>u</title><author><email>b@x.org</email></author>",
                          "<title>v</title><author><uri>https://x.org</uri></author>"),
}


@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
def test_small_document_takes_fast_path_with_equal_fields(body: bytes) -> None:
    """Each targeted document is read by the fast path, field for field as feedparser."""
    result = compare(body, URL)
    assert result.status == "fast", result.differences


FALLBACKS = {
    "doctype": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0">'
               b"<channel><item><title>&x;</title></item></channel></rss>",
    "html entity": _rss("<title>caf&eacute;</title>"),
    "xml base": _atom('<title>t</title><link xml:base="https://other.example/" href="e"/>'),
    "xhtml content": _atom('<title>t</title><content type="xhtml"><div '
                           'xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content>'),
    "unknown root": b'<?xml version="1.0"?><html><body>no feed</body></html>',
    "not well-formed": b'<?xml version="1.0"?><rss version="2.0"><channel><item>',
    "image in item": _rss("<title>t</title><image><title>i</title></image>"),
    "feed-level second summary": ATOM.format(items="<summary>a</summary><summary>b</summary>"
                                             "<entry><title>t</title></entry>").encode(),
}


@pytest.mark.parametrize("body", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_unusual_document_falls_back(body: bytes) -> None:
    """Documents outside the handled shapes are left to feedparser."""
    assert parse_fast(body, URL) is None


def test_fast_result_has_feedparser_shape() -> None:
    """The fast path's result has feed title, link, language and the entries."""
    doc = parse_fast(CASES["relative links"], URL)
    assert doc is not None
    assert doc["feed"]["title"] == "Feed & co" and doc["feed"]["language"] == "en_GB"
    assert doc["entries"][0]["link"] == "https://feeds.example.org/up?a=1&b=2"
    assert doc["entries"][1]["link"] == "https://feeds.example.org/perma"
