"""A published channel's digests as Atom and JSON Feed 1.1: one entry per digest item."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from markupsafe import escape

from bot.web.links import Links, safe_href
from bot.web.reader import PageDigest, PageItem, Published

ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Characters XML 1.0 can't carry at all (most C0 controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SITE_TITLE = "newsbot digest"  # pages and feeds name no channel, platform or id


@dataclass(frozen=True, slots=True)
class Entry:
    """One digest item as a feed entry."""

    item: PageItem
    digest: PageDigest


def entries(digests: Sequence[PageDigest]) -> list[Entry]:
    """Every item of these digests, newest digest first, in digest order within one."""
    return [Entry(item, digest) for digest in digests for item in digest.items]


def updated(digests: Sequence[PageDigest]) -> datetime:
    """When the feed last changed: its newest digest's time (the epoch for an empty feed)."""
    return max((d.created for d in digests), default=EPOCH)


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(page: Published, digests: Sequence[PageDigest], links: Links) -> bytes:
    """The channel's Atom document (RFC 4287), UTF-8."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _add(feed, "title", SITE_TITLE)
    _add(feed, "id", links.page_link(page.token))
    _add(feed, "updated", _iso(updated(digests)))
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _add(author, "name", "newsbot")
    _link(feed, "self", links.full(links.atom(page.token)), "application/atom+xml")
    _link(feed, "alternate", links.page_link(page.token), "text/html")
    for entry in entries(digests):
        _atom_entry(feed, entry, page, links)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _atom_entry(feed: ET.Element, entry: Entry, page: Published, links: Links) -> None:
    article = entry.item.article
    node = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
    _add(node, "title", article.title or article.url or "(untitled)")
    _add(node, "id", links.full(links.story(page.token, article.id)))
    _add(node, "updated", _iso(entry.digest.created))
    _add(node, "published", _iso(article.when))
    author = ET.SubElement(node, f"{{{ATOM_NS}}}author")
    _add(author, "name", article.feed_name or "newsbot")
    if href := safe_href(article.url):
        _link(node, "alternate", href, "text/html")
    _link(node, "via", links.full(links.story(page.token, article.id)), "text/html")
    for other in entry.item.also:
        if href := safe_href(other.url):
            _link(node, "related", href, "text/html", title=other.feed_name)
    for tag in article.tags:
        ET.SubElement(node, f"{{{ATOM_NS}}}category", term=_xml_text(tag))
    if article.summary:
        _add(node, "summary", article.summary)
    content = _content_html(entry.item)
    if content:
        _add(node, "content", content).set("type", "html")


def _add(parent: ET.Element, name: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}")
    child.text = _xml_text(text)
    return child


def _link(parent: ET.Element, rel: str, href: str, kind: str, title: str = "") -> None:
    attributes = {"rel": rel, "href": _xml_text(href), "type": kind}
    if title:
        attributes["title"] = _xml_text(title)
    ET.SubElement(parent, f"{{{ATOM_NS}}}link", attributes)


def _content_html(item: PageItem) -> str:
    """The summary and the other outlets' links as escaped HTML (what readers show)."""
    parts = [f"<p>{escape(item.article.summary)}</p>"] if item.article.summary else []
    outlets = [f'<a href="{escape(href)}">{escape(a.feed_name or href)}</a>'
               for a in item.also if (href := safe_href(a.url))]
    if outlets:
        parts.append(f"<p>Also covered by: {', '.join(outlets)}</p>")
    return "".join(parts)


def json_feed(page: Published, digests: Sequence[PageDigest], links: Links) -> bytes:
    """The channel's JSON Feed 1.1 document, UTF-8."""
    items = []
    for entry in entries(digests):
        article = entry.item.article
        story = links.full(links.story(page.token, article.id))
        item: dict[str, object] = {
            "id": story, "title": article.title or article.url or "(untitled)",
            "summary": article.summary, "content_text": article.summary or article.title,
            "date_published": _iso(article.when), "date_modified": _iso(entry.digest.created),
            "authors": [{"name": article.feed_name}] if article.feed_name else [],
            "tags": list(article.tags)}
        if href := safe_href(article.url):
            item["url"] = href
        else:
            item["url"] = story
        if content := _content_html(entry.item):
            item["content_html"] = content
        item["_newsbot"] = {"also": [{"title": a.title, "url": href, "outlet": a.feed_name}
                                     for a in entry.item.also if (href := safe_href(a.url))]}
        items.append(item)
    document = {"version": JSON_FEED_VERSION, "title": SITE_TITLE,
                "home_page_url": links.page_link(page.token),
                "feed_url": links.full(links.json_feed(page.token)),
                "authors": [{"name": "newsbot"}], "items": items}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
