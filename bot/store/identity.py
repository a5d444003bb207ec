"""A story under a new key: the same link and title, or the same title lately, of one feed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.model import CONTENT_KEY, Entry
from bot.store.db import Database, to_ts

RECENT = timedelta(days=2)  # a title seen this recently without (or with a re-tagged) link


def title_key(title: str) -> str:
    """A title compared case- and space-insensitively."""
    return " ".join(title.casefold().split())


def page_key(url: str) -> str:
    """A link without its query: the same page with other tracking parameters."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}" if url else ""


class IdentityStore:
    """Finds entries that are stored stories under a new dedup key (the second defence).

    Feeds that change their guids every fetch, or put ever-different parameters on their
    links, or give neither guid nor link, would otherwise post the same story again.
    Items keyed by their content (several items of one document share guid, link and
    title, like a live blog's updates) are not judged by link and title: they would all
    look like the first.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def unseen(self, feed_id: int, entries: Sequence[Entry], now: datetime
                     ) -> list[Entry]:
        """The entries (all with new keys) that are not a stored story of this feed."""
        if not entries:
            return []
        same_link = await self._stored_links(feed_id, [e.url for e in entries if e.url])
        lately = await self._recent_pages(feed_id, now - RECENT)
        return [e for e in entries
                if e.dedup_key.startswith(CONTENT_KEY)  # link and title name several items
                or ((e.url, title_key(e.title)) not in same_link
                    and not (e.title and (page_key(e.url), title_key(e.title)) in lately))]

    async def _stored_links(self, feed_id: int, urls: Sequence[str]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for start in range(0, len(urls), 500):
            chunk = list(urls[start:start + 500])
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                f"SELECT url, title FROM articles WHERE url IN ({marks}) AND feed_id = ?",
                [*chunk, feed_id])
            found |= {(row["url"], title_key(row["title"])) for row in rows}
        return found

    async def _recent_pages(self, feed_id: int, since: datetime) -> set[tuple[str, str]]:
        rows = await self._db.fetchall(
            "SELECT url, title FROM articles WHERE feed_id = ? AND first_seen >= ?",
            (feed_id, to_ts(since)))
        return {(page_key(row["url"]), title_key(row["title"])) for row in rows}
