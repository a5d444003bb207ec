"""Stories in the store: same-story clusters at ingest, related stories on request."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.enrich.anchors import (
    decode,
    headline_conflict,
    overlap,
    query_anchors,
    shared_plain,
)
from bot.enrich.language import language
from bot.enrich.related import RelatedCandidate, rank_related
from bot.enrich.same_story import WINDOW_HOURS, Candidate, choose_story, same_story_probability
from bot.model import Article
from bot.ports import Clock
from bot.store.articles import ArticleStore
from bot.store.db import TextQuery

if TYPE_CHECKING:  # both load numpy: the index is built beside the loop, on first use
    from bot.enrich.story_index import Indexed, StoryIndex
    from bot.enrich.vectors import Matrix

SAME_STORY_WINDOW = timedelta(hours=WINDOW_HOURS)
INDEX_WINDOW = timedelta(days=7)  # recent stories kept in memory for matching and ranking
RELATED_WINDOW = timedelta(days=60)
NEAR_COSINE = 0.3  # below this, two articles are not worth comparing in detail
_TEXT_CANDIDATES = 60
_MEANING_CANDIDATES = 60
_QUERY_TERMS = 5
SLICE_S = 0.004  # the loop matches stories this long at a time, then lets other work run
_ADD_SLICE = 25  # stories read into the index at a time (about 2 ms)


class Stories:
    """Groups new articles into stories and finds related ones, through the store.

    Keeps the last week's stories in memory (their vectors and anchors); the store stays
    the truth and the index only ever catches up with it.
    """

    def __init__(self, articles: ArticleStore, clock: Clock) -> None:
        self._articles = articles
        self._clock = clock
        self._loaded: StoryIndex | None = None  # built by the first _refresh
        self._lock = asyncio.Lock()

    async def assign(self, new: Sequence[Article]) -> int:
        """Put each new article into the story another outlet already covers; returns joins."""
        if not new:
            return 0
        async with self._lock:  # the index is only touched under the lock, in one thread
            await self._refresh()
            ids = sorted(article.id for article in new)
            joined = await self._join(ids)
            await self._articles.set_clusters(list(joined.items()))
        return sum(1 for article in new if article.id in joined)

    @property
    def _index(self) -> StoryIndex:
        assert self._loaded is not None, "the index is read after a _refresh only"
        return self._loaded

    async def _join(self, ids: Sequence[int]) -> dict[int, int]:
        """Match each indexed article to a story and record it in the index.

        Returns article id -> cluster id for every article whose story changed. The cosines
        are one matrix product beside the loop; the matching is Python, so it runs on the
        loop itself in slices of about SLICE_S, letting other work in between (in a thread
        it would hold the interpreter lock, and the loop would wait for it).
        """
        joined: dict[int, int] = {}
        items = [item for article_id in ids if (item := self._index.get(article_id)) is not None]
        window = SAME_STORY_WINDOW.total_seconds()
        cosines = await asyncio.to_thread(self._index.cosines, items)
        slices = _Slices(SLICE_S)
        for batched in items:
            await slices.pause()  # an article with no story near it costs time too
            item = self._index.get(batched.id)  # as it stands now: an earlier match may
            if item is None or item.cluster_id:  # have put it into a story
                continue
            near = self._index.near_stories(item, window, NEAR_COSINE, cosines)
            match = choose_story(item.feed_id, await self._judge(item, near, slices))
            if match is not None:
                cluster = match.story if match.story > 0 else match.article_id
                self._index.set_story([item.id, match.article_id], cluster)
                joined[item.id] = joined[match.article_id] = cluster
        return joined

    async def _judge(self, item: Indexed, near: set[int], slices: _Slices) -> list[Candidate]:
        """Every member of each nearby story, with how likely it tells `item`'s story."""
        vector = self._index.vector_of(item.id)
        candidates: list[Candidate] = []
        for story in near:
            for other in self._index.members(story):
                await slices.pause()
                theirs = self._index.vector_of(other.id)
                cosine = float(theirs @ vector) if theirs is not None and vector is not None \
                    else None
                conflict = headline_conflict(item.headline, item.anchors, other.headline,
                                             other.anchors)
                candidates.append(Candidate(
                    other.id, other.feed_id, story,
                    same_story_probability(cosine, item.anchors, other.anchors,
                                           (item.when - other.when) / 3600.0, conflict,
                                           shared_plain(item.plain, other.plain))))
        return candidates

    async def _refresh(self) -> None:
        """Catch up with articles stored since the last look; forget those past the window."""
        since = self._clock() - INDEX_WINDOW
        if self._loaded is None:  # numpy and the index code load in a thread, not on the loop
            self._loaded = await asyncio.to_thread(_new_index)
        while True:
            points = await self._articles.story_points_after(
                self._index.last_id, seen_since=since, limit=5000)
            await asyncio.to_thread(self._index.reserve, len(points))  # copies megabytes
            for start in range(0, len(points), _ADD_SLICE):  # on the loop, a slice at a time
                self._index.add(points[start:start + _ADD_SLICE])
                await asyncio.sleep(0)
            if len(points) < 5000:
                break
        self._index.forget_seen_before(since.timestamp())

    async def related_to(self, article: Article, k: int = 5,
                         floor: float | None = None) -> list[Article]:
        """Stories related to a stored article, excluding its own story (see rank_related)."""
        found = await self.candidates_for_article(article)
        return rank_related(found, query_tags=article.tags, now=self._clock(),
                            exclude_cluster=article.cluster_id, exclude_id=article.id, k=k,
                            floor=floor)

    async def related_to_words(self, text: str, k: int = 5) -> list[Article]:
        """Stories about these words, best first."""
        found = await self.candidates_for_words(text)
        return rank_related(found, query_tags=(), now=self._clock(), k=k)

    async def candidates_for_article(self, article: Article) -> list[RelatedCandidate]:
        """What related_to ranks: stories near the article in words or meaning."""
        points = await self._articles.story_points([article.id])
        anchors = decode(points[0].anchors) if points else {}
        terms = [k for k in anchors if not k.startswith("#")][:_QUERY_TERMS]
        async with self._lock:  # the index may be matching in a thread meanwhile
            await self._refresh()
            vector = _unit(points[0].vector) if points else None
            return await self._candidates(vector, anchors, terms)

    async def candidates_for_words(self, text: str) -> list[RelatedCandidate]:
        """What related_to_words ranks: stories near the words in words or meaning."""
        anchors = query_anchors(text, language("en"))
        vector = await asyncio.to_thread(_embed_one, text)
        terms = [k for k in anchors if not k.startswith(("#", "~"))][:8]
        async with self._lock:  # the index may be matching in a thread meanwhile
            await self._refresh()
            return await self._candidates(vector, anchors, terms)

    async def _candidates(self, vector: Matrix | None, anchors: dict[str, float],
                          terms: list[str]) -> list[RelatedCandidate]:
        """Candidates from the full-text index (last 60 days) and, by meaning, the last week.

        Called with the lock held: it reads the index."""
        lexical: dict[int, float] = {}
        if terms:
            min_id = await self._articles.first_id_since(self._clock() - RELATED_WINDOW)
            matches = await self._articles.match_articles(
                any_two([t.lstrip("~") for t in terms]), limit=_TEXT_CANDIDATES, min_id=min_id)
            top = max((score for _, score in matches), default=0.0)
            lexical = {a.id: (score / top if top > 0 else 0.0) for a, score in matches}
        near = self._index.closest(vector, _MEANING_CANDIDATES) if vector is not None else []
        cosines = {item.id: cosine for item, cosine in near}
        ids = sorted(set(lexical) | set(cosines))
        missing = [i for i in ids if i not in cosines and self._index.get(i) is None]
        points = {p.id: p for p in await self._articles.story_points(missing)}
        articles = await self._articles.by_ids(ids)
        found: list[RelatedCandidate] = []
        for article in articles:
            indexed = self._index.get(article.id)
            theirs = indexed.anchors if indexed else decode(
                points[article.id].anchors if article.id in points else "")
            cosine = cosines.get(article.id)
            if cosine is None and vector is not None:
                other = self._index.vector_of(article.id) if indexed else (
                    _unit(points[article.id].vector) if article.id in points else None)
                cosine = float(other @ vector) if other is not None else None
            found.append(RelatedCandidate(article, cosine, _share(anchors, theirs),
                                          overlap(anchors, theirs),
                                          lexical.get(article.id, 0.0)))
        return found


class _Slices:
    """Long work on the loop, cut into slices: `pause` lets other work run whenever the
    current slice has lasted `seconds`."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._until = time.perf_counter() + seconds

    async def pause(self) -> None:
        """Yield to the loop if this slice is over (and start the next)."""
        if time.perf_counter() >= self._until:
            await asyncio.sleep(0)
            self._until = time.perf_counter() + self._seconds


def _new_index() -> StoryIndex:
    from bot.enrich.story_index import StoryIndex

    return StoryIndex()


def _embed_one(text: str) -> Matrix | None:
    from bot.enrich import vectors

    found = vectors.embed([text])
    return found[0] if found is not None and len(found) else None


def _unit(blob: bytes) -> Matrix | None:
    """A stored vector as a unit row (called after a _refresh: numpy is loaded)."""
    from bot.enrich import vectors

    matrix, present = vectors.unpack([blob])
    return matrix[0] if present[0] else None


def _share(query: dict[str, float], theirs: dict[str, float]) -> float:
    """The share of the query's anchor weight that the candidate also has."""
    total = sum(query.values())
    return sum(w for k, w in query.items() if k in theirs) / total if total else 0.0


def any_two(terms: Sequence[str]) -> TextQuery:
    """A full-text query matching stories that contain at least two of the terms (or the
    one)."""
    unique = [t for t in dict.fromkeys(terms) if t]
    pairs = tuple(itertools.combinations(unique, 2))
    return pairs if pairs else (((unique[0],),) if unique else ())
