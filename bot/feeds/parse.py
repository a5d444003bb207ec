"""Feed bytes -> ParsedFeed: feedparser for XML, our own reader for JSON Feed."""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from bot.feeds import caps
from bot.feeds.canonical import canonical_url
from bot.feeds.errors import ParseError as ParseError  # raised here; tests import it here
from bot.feeds.fastparse import TooDeep, parse_fast
from bot.feeds.xml_guard import strip_entity_declarations
from bot.model import CONTENT_KEY, Entry, ParsedFeed

_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


def parse_feed(body: bytes, url: str, *, now: datetime, content_type: str = "",
               max_entries: int = 200) -> ParsedFeed:
    """Read a feed document (RSS 0.9x/1.0/2.0, Atom, JSON Feed) into entries."""
    if _looks_like_json(body):
        return _parse_json_feed(body, url, now, max_entries)
    return _parse_xml_feed(body, url, now, content_type, max_entries)


def _looks_like_json(body: bytes) -> bool:
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def _parse_xml_feed(body: bytes, url: str, now: datetime, content_type: str,
                    max_entries: int) -> ParsedFeed:
    body = strip_entity_declarations(body, content_type)  # no entity ever expands
    # the lxml path gives feedparser's very result where it can vouch for it, else None
    try:
        doc = parse_fast(body, url, content_type) or _feedparser(body, url, content_type)
    except TooDeep as error:
        raise ParseError(f"not a feed: {error}") from None
    if not doc["entries"] and (doc.get("bozo") or not doc.get("version")):
        reason = doc.get("bozo_exception") or "no feed found"
        raise ParseError(f"not a feed: {reason}")
    feed = doc.get("feed", {})
    lang = _text(feed.get("language"))
    raw, skipped = _each(doc["entries"], lambda e: _xml_entry(e, url, lang, now))
    title = html.unescape(_text(feed.get("title")))  # some feeds escape their title twice
    return _parsed(title, _text(feed.get("link")), lang, _identify(raw, url, max_entries),
                   skipped)


def _feedparser(body: bytes, url: str, content_type: str) -> Any:
    """feedparser's reading of the bytes, sanitizing and URI resolution off."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        return feedparser.parse(body, response_headers=headers, sanitize_html=False,
                                resolve_relative_uris=False)
    except Exception as error:  # feedparser raises several undocumented errors
        raise ParseError(f"feedparser failed: {type(error).__name__}: {error}") from None


def _xml_entry(entry: dict[str, Any], base: str, lang: str, now: datetime) -> dict[str, Any]:
    contents = entry.get("content") or []
    html = max((str(c.get("value", "")) for c in contents), key=len, default="")
    summary = str(entry.get("summary", ""))
    if len(summary) > len(html):
        html = summary
    return {
        "id": _text(entry.get("id")),
        "url": canonical_url(_text(entry.get("link")), base),
        "title": _text(entry.get("title")),
        "html": html,
        "author": _text(entry.get("author")),
        "categories": tuple(_text(t.get("term")) for t in entry.get("tags") or []
                            if _text(t.get("term"))),
        # dict.get skips FeedParserDict's deprecated published/updated key mapping
        "published": _struct_date(dict.get(entry, "published_parsed")
                                  or dict.get(entry, "updated_parsed"), now),
        "lang": lang,
    }


def _parse_json_feed(body: bytes, url: str, now: datetime, max_entries: int) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ParseError(f"not valid JSON: {error}") from None
    except RecursionError:
        raise ParseError("not valid JSON: nested too deeply") from None
    version = str(doc.get("version", "")) if isinstance(doc, dict) else ""
    if not version.startswith(_JSON_FEED_VERSIONS) or not isinstance(doc.get("items"), list):
        raise ParseError("JSON, but not a JSON Feed (no jsonfeed.org version or no items)")
    lang = _text(doc.get("language"))
    raw, skipped = _each(doc["items"], lambda item: _json_entry(item, url, lang, now))
    return _parsed(_text(doc.get("title")), _text(doc.get("home_page_url")), lang,
                   _identify(raw, url, max_entries), skipped)


def _each(items: Iterable[Any], read: Callable[[Any], dict[str, Any]]
          ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Every item read on its own: one that cannot be read costs itself, never its siblings.

    Returns the items read and, for each one skipped, a one-line reason.
    """
    raw: list[dict[str, Any]] = []
    skipped: list[str] = []
    for number, item in enumerate(items, 1):
        try:
            raw.append(read(item))
        except MemoryError:
            raise
        except Exception as error:  # one bad item, whatever its fault, is one item lost
            skipped.append(f"item {number} skipped: {type(error).__name__}: {error}"[:200])
    return raw, tuple(skipped)


def _parsed(title: str, link: str, lang: str, entries: tuple[Entry, ...],
            skipped: tuple[str, ...]) -> ParsedFeed:
    """The feed's own fields within the caps, with its entries."""
    return ParsedFeed(title=caps.cut_words(title, caps.TITLE), link=caps.cap_link(link),
                      lang=caps.cap_language(lang), entries=entries, skipped=skipped)


def _json_entry(item: Any, base: str, lang: str, now: datetime) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise TypeError(f"an item must be an object, not {type(item).__name__}")
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict)
                                      else [])
    return {
        "id": _text(item.get("id")),
        "url": canonical_url(_text(item.get("url") or item.get("external_url")), base),
        "title": _text(item.get("title")),
        "html": _text(item.get("content_html") or item.get("content_text")
                      or item.get("summary")),
        "author": ", ".join(_text(a.get("name")) for a in authors if isinstance(a, dict)),
        "categories": tuple(_text(t) for t in item.get("tags") or [] if _text(t)),
        "published": _iso_date(_text(item.get("date_published") or item.get("date_modified")),
                               now),
        "lang": _text(item.get("language")) or lang,
    }


def _identify(raw: Sequence[dict[str, Any]], feed_url: str, limit: int) -> tuple[Entry, ...]:
    """Cap each entry's fields, give it its dedup key; keep the newest `limit`, skip empty
    ones. The one place entries are built: nothing sees a field before its cap."""
    capped = [_capped(r) for r in raw if r["title"] or r["url"] or r["html"]]
    counts = _Counts(Counter(r["id"] for r in capped if r["id"]),
                     Counter(r["url"] for r in capped if r["url"]),
                     Counter((r["url"], r["title"]) for r in capped if r["url"]))
    entries: list[Entry] = []
    seen: set[str] = set()
    for r in capped:
        key = _dedup_key(r, counts)
        if key in seen:
            continue
        seen.add(key)
        entries.append(Entry(dedup_key=key, url=r["url"], title=r["title"],
                             content_html=r["html"], author=r["author"],
                             categories=r["categories"], published=r["published"],
                             lang=r["lang"]))
    return tuple(_newest(entries, limit))


def _capped(r: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's fields within the caps of bot.feeds.caps."""
    return {"id": caps.cap_guid(r["id"]), "url": caps.cap_link(r["url"]),
            "title": caps.cut_words(r["title"], caps.TITLE),
            "html": caps.cap_content(r["html"]), "author": caps.cap_author(r["author"]),
            "categories": caps.cap_categories(r["categories"]), "published": r["published"],
            "lang": caps.cap_language(r["lang"])}


@dataclass(frozen=True, slots=True)
class _Counts:
    """How often each guid, link and (link, title) pair occurs in one document."""

    ids: Counter[str]
    urls: Counter[str]
    pairs: Counter[tuple[str, str]]


def _dedup_key(r: Mapping[str, Any], counts: _Counts) -> str:
    """Stable entry id unique in the document, else canonical URL unique in it, else a hash
    of title and content.

    "content:" marks items that share guid, link and title with another item of the
    document (a live blog's updates): only their content tells them apart. "hash:" is
    every other content hash (no guid and no link, or a shared link with its own title).
    """
    entry_id, url = str(r["id"]), str(r["url"])
    if entry_id and counts.ids[entry_id] == 1:
        return "id:" + entry_id
    if url and counts.urls[url] == 1:
        return "url:" + url
    digest = hashlib.sha256(f"{r['title']}\x00{r['html']}".encode()).hexdigest()[:32]
    if url and counts.pairs[(url, r["title"])] > 1:
        return CONTENT_KEY + digest
    return "hash:" + digest


def _newest(entries: list[Entry], limit: int) -> list[Entry]:
    if len(entries) <= limit:
        return entries
    floor = datetime.min.replace(tzinfo=UTC)
    order = sorted(range(len(entries)), key=lambda i: (entries[i].published or floor, -i),
                   reverse=True)
    return [entries[i] for i in sorted(order[:limit])]


def _struct_date(value: time.struct_time | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return _sane(moment, now)


def _iso_date(value: str, now: datetime) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return _sane(moment.astimezone(UTC), now)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 lies before year 1 in UTC
        return None


def _sane(moment: datetime, now: datetime) -> datetime | None:
    """Dates before 1990 or more than a day ahead are treated as missing."""
    return moment if _EARLIEST <= moment <= now + timedelta(days=1) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
