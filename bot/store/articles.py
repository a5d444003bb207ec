"""Articles: stored once, deduplicated, looked up by recency, tag and full text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from bot.model import Article, NewArticle, StoryPoint, tag_key
from bot.store.db import Database, Row, TextQuery, from_ts, to_ts

_SELECT = ("SELECT a.id, a.feed_id, COALESCE(NULLIF(f.name, ''), NULLIF(f.title, ''), f.url) "
           "AS feed_name, a.url, a.title, a.summary, a.author, a.tags, a.lang, a.published, "
           "a.first_seen, a.cluster_id FROM articles a JOIN feeds f ON f.id = a.feed_id ")
_NEWEST = "ORDER BY COALESCE(a.published, a.first_seen) DESC, a.id DESC "
_WORD = re.compile(r"\w+", re.UNICODE)
_CHUNK = 500  # both engines' limits on parameters are far above this
_COLUMNS = ("feed_id, dedup_key, url, title, summary, author, categories, tags, lang, "
            "published, first_seen, anchors, vector")
_ROW = "(" + ",".join("?" * 13) + ")"
_ADD_CHUNK = 200  # rows per INSERT: 2600 parameters


def _article(row: Row) -> Article:
    first_seen = from_ts(row["first_seen"])
    assert first_seen is not None
    return Article(
        id=row["id"], feed_id=row["feed_id"], feed_name=row["feed_name"], url=row["url"],
        title=row["title"], summary=row["summary"], author=row["author"],
        tags=tuple(row["tags"].split()), lang=row["lang"], published=from_ts(row["published"]),
        first_seen=first_seen, cluster_id=row["cluster_id"])


_POINTS = ("SELECT id, feed_id, cluster_id, COALESCE(published, first_seen) AS at, first_seen, "
           "anchors, vector FROM articles ")


def _point(row: Row) -> StoryPoint:
    when, seen = from_ts(row["at"]), from_ts(row["first_seen"])
    assert when is not None and seen is not None
    return StoryPoint(id=row["id"], feed_id=row["feed_id"], cluster_id=row["cluster_id"],
                      when=when, seen=seen, anchors=row["anchors"],
                      vector=bytes(row["vector"]))


def match_all_words(text: str, limit: int = 12) -> TextQuery:
    """User words -> a full-text query matching all of them (no operators, no syntax)."""
    words = tuple(_WORD.findall(text.lower())[:limit])
    return (words,) if words else ()


class ArticleStore:
    """Queries on articles and their full-text index."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def known_keys(self, feed_id: int, keys: Sequence[str]) -> set[str]:
        """The subset of this feed's dedup keys already seen: stored, or stored and pruned
        since (a query per 500 keys)."""
        known: set[str] = set()
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                f"SELECT dedup_key FROM articles WHERE feed_id = ? AND dedup_key IN ({marks}) "
                f"UNION SELECT dedup_key FROM seen_keys WHERE feed_id = ? AND dedup_key IN "
                f"({marks})", (feed_id, *chunk, feed_id, *chunk))
            known.update(row[0] for row in rows)
        return known

    async def add_articles(self, feed_id: int, items: Sequence[NewArticle],
                           now: datetime) -> int:
        """Store new articles in one transaction; known keys are skipped. Returns added."""
        rows = [(feed_id, a.dedup_key, a.url, a.title, a.summary, a.author,
                 "\t".join(a.categories), " ".join(a.tags), a.lang, to_ts(a.published),
                 to_ts(now), a.anchors, a.vector) for a in items]
        added = 0
        async with self._db.transaction() as tx:  # multi-row VALUES: both engines count
            for start in range(0, len(rows), _ADD_CHUNK):
                chunk = rows[start:start + _ADD_CHUNK]
                added += await tx.execute(
                    f"INSERT INTO articles ({_COLUMNS}) VALUES "
                    f"{','.join([_ROW] * len(chunk))} "
                    "ON CONFLICT (feed_id, dedup_key) DO NOTHING",
                    [value for row in chunk for value in row])
        return added

    async def latest(self, *, limit: int, tag: str = "") -> list[Article]:
        """The newest articles, optionally with one tag (compared by tag key)."""
        if not tag_key(tag):
            rows = await self._db.fetchall(
                _SELECT + _NEWEST + "LIMIT ?", (limit,))
            return [_article(row) for row in rows]
        tagged, params = self._db.tag_matches(tag_key(tag))
        rows = await self._db.fetchall(
            _SELECT + f"WHERE a.id IN ({tagged}) " + _NEWEST + "LIMIT ?", (*params, limit * 4))
        return [a for a in map(_article, rows) if _has_tag(a, tag)][:limit]

    async def search(self, words: str, *, limit: int) -> list[Article]:
        """Articles matching every word, best match (title weighs most) first."""
        query = match_all_words(words)
        if not query:
            return []
        return [article for article, _ in await self.match_articles(query, limit=limit)]

    async def search_feeds(self, words: str, feed_ids: Sequence[int], *,
                           limit: int) -> list[Article]:
        """`search` among these feeds' articles only (one channel's)."""
        query = match_all_words(words)
        if not query or not feed_ids:
            return []
        found = await self.match_articles(query, limit=limit, feed_ids=feed_ids)
        return [article for article, _ in found]

    async def story_members(self, cluster_id: int) -> list[Article]:
        """Every stored article of one story (same-story cluster), oldest first."""
        if not cluster_id:
            return []
        rows = await self._db.fetchall(
            _SELECT + "WHERE a.cluster_id = ? ORDER BY a.id LIMIT 50", (cluster_id,))
        return [_article(row) for row in rows]

    async def by_ids(self, ids: Sequence[int]) -> list[Article]:
        """These articles (missing ids are skipped), in no particular order."""
        found: list[Article] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = await self._db.fetchall(
                _SELECT + f"WHERE a.id IN ({','.join('?' * len(chunk))})", chunk)
            found.extend(map(_article, rows))
        return found

    async def by_url(self, url: str) -> Article | None:
        """The article stored under this canonical URL, if any."""
        row = await self._db.fetchone(_SELECT + "WHERE a.url = ? LIMIT 1", (url,))
        return None if row is None else _article(row)

    async def undelivered(self, channel_id: str, feed_ids: Sequence[int], *,
                          since: datetime | None, limit: int) -> list[Article]:
        """A channel's candidates: from these feeds, seen after `since`, not yet sent there."""
        if not feed_ids:  # `IN ()` is SQLite's alone
            return []
        marks = ",".join("?" * len(feed_ids))
        rows = await self._db.fetchall(
            _SELECT + f"WHERE a.feed_id IN ({marks}) AND a.first_seen > ? AND NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.channel_id = ? AND d.article_id = a.id) "
            + _NEWEST + "LIMIT ?",
            (*feed_ids, to_ts(since) or 0.0, channel_id, limit))
        return [_article(row) for row in rows]

    async def recent(self, feed_ids: Sequence[int], *, since: datetime,
                     limit: int) -> list[Article]:
        """The newest articles of these feeds seen after `since`."""
        if not feed_ids:
            return []
        marks = ",".join("?" * len(feed_ids))
        rows = await self._db.fetchall(
            _SELECT + f"WHERE a.feed_id IN ({marks}) AND a.first_seen > ? " + _NEWEST
            + "LIMIT ?", (*feed_ids, to_ts(since), limit))
        return [_article(row) for row in rows]

    async def by_keys(self, feed_id: int, keys: Sequence[str]) -> list[Article]:
        """This feed's articles with these dedup keys (e.g. the ones just added)."""
        found: list[Article] = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            rows = await self._db.fetchall(
                _SELECT + f"WHERE a.feed_id = ? AND a.dedup_key IN ({','.join('?' * len(chunk))})"
                " ORDER BY a.id", (feed_id, *chunk))
            found.extend(map(_article, rows))
        return found

    async def first_id_since(self, moment: datetime) -> int:
        """The smallest article id first seen at or after `moment` (ids grow with time)."""
        row = await self._db.fetchone(  # the index on first_seen finds it in one step
            "SELECT id FROM articles WHERE first_seen >= ? ORDER BY first_seen LIMIT 1",
            (to_ts(moment),))
        return int(row[0]) if row and row[0] is not None else 1 << 62

    async def match_articles(self, query: TextQuery, *, limit: int, min_id: int = 0,
                             feed_ids: Sequence[int] = ()) -> list[tuple[Article, float]]:
        """Articles matching `query` among ids >= min_id (of these feeds, when given), with
        their score (higher is better: BM25 on SQLite, ts_rank_cd on PostgreSQL)."""
        if not query:
            return []
        matches, params = self._db.text_matches(query, min_id=min_id, limit=limit,
                                                feed_ids=feed_ids)
        rows = await self._db.fetchall(
            _SELECT.replace("SELECT ", "SELECT m.score, ", 1) + f"JOIN ({matches}) m "
            "ON m.id = a.id ORDER BY m.score DESC, a.id DESC", params)
        return [(_article(row), float(row["score"])) for row in rows]

    async def story_points_after(self, after_id: int, *, seen_since: datetime,
                                 limit: int) -> list[StoryPoint]:
        """Articles with ids above `after_id` first seen since `seen_since`, oldest first:
        what the in-memory story index adds on each refresh."""
        rows = await self._db.fetchall(
            _POINTS + "WHERE id > ? AND first_seen >= ? ORDER BY id LIMIT ?",
            (after_id, to_ts(seen_since), limit))
        return [_point(row) for row in rows]

    async def story_points(self, ids: Sequence[int]) -> list[StoryPoint]:
        """These articles' story points (missing ids are skipped)."""
        found: list[StoryPoint] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = await self._db.fetchall(
                _POINTS + f"WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.extend(map(_point, rows))
        return found

    async def cluster_ids(self, ids: Sequence[int]) -> dict[int, int]:
        """The current cluster id of each of these articles."""
        found: dict[int, int] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = await self._db.fetchall(
                f"SELECT id, cluster_id FROM articles WHERE id IN ({','.join('?' * len(chunk))})",
                chunk)
            found.update((row[0], row[1]) for row in rows)
        return found

    async def set_clusters(self, assignments: Sequence[tuple[int, int]]) -> None:
        """Put articles into stories: (article id, cluster id) pairs, in one transaction."""
        await self._db.executemany("UPDATE articles SET cluster_id = ? WHERE id = ?",
                                   [(cluster, article) for article, cluster in assignments])

    async def recent_tags(self, limit: int) -> list[str]:
        """Tags of the newest `limit` stories, most used first."""
        rows = await self._db.fetchall(
            "SELECT tags FROM articles ORDER BY id DESC LIMIT ?", (limit,))
        counts = Counter(tag for row in rows for tag in str(row[0]).split())
        return [tag for tag, _ in counts.most_common()]

    async def count(self) -> int:
        """How many articles are stored."""
        row = await self._db.fetchone("SELECT count(*) FROM articles")
        return int(row[0]) if row else 0

    async def count_by_feed(self) -> dict[int, int]:
        """Stored articles per feed id."""
        rows = await self._db.fetchall("SELECT feed_id, count(*) FROM articles GROUP BY feed_id")
        return {row[0]: row[1] for row in rows}


def _has_tag(article: Article, tag: str) -> bool:
    wanted = tag_key(tag)
    return any(tag_key(t) == wanted for t in article.tags)
