"""Stories in the store: same-story clusters at ingest, related stories on request."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.enrich.cluster import StorySketch, is_same_story, story_terms
from bot.enrich.related import Candidate, rank_related
from bot.enrich.stopwords import STOPWORDS
from bot.model import Article
from bot.store.articles import ArticleStore

Clock = Callable[[], datetime]
SAME_STORY_WINDOW = timedelta(hours=48)
RELATED_WINDOW = timedelta(days=60)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CANDIDATES = 60
CHUNK = 8  # articles compared per turn of the event loop (similarity is pure Python)


def sketch(article: Article) -> StorySketch:
    """What same-story detection compares."""
    return StorySketch(title=article.title, lede=article.summary, url=article.url,
                       when=article.when)


def query_words(text: str) -> list[str]:
    """The content words of a user's query, in order, lowercased."""
    words = [w.casefold() for w in _WORD.findall(text)]
    content = [w for w in words if w not in STOPWORDS and not w.isdigit()]
    return list(dict.fromkeys(content or words))[:8]


class Stories:
    """Groups new articles into stories and finds related ones, through the store."""

    def __init__(self, articles: ArticleStore, clock: Clock) -> None:
        self._articles = articles
        self._clock = clock

    async def assign(self, new: Sequence[Article]) -> int:
        """Put each new article into the story another outlet already covers; returns joins."""
        if not new:
            return 0
        earliest = min(article.first_seen for article in new) - SAME_STORY_WINDOW
        min_id = await self._articles.first_id_since(earliest)
        assignments: dict[int, int] = {}  # article id -> cluster id
        for start in range(0, len(new), CHUNK):  # each chunk is one short turn of the loop
            chunk = new[start:start + CHUNK]
            searches = [(same_story_query(a), a.url) for a in chunk]
            found = await self._articles.story_candidates(searches, min_id=min_id)
            for article, others in zip(chunk, found, strict=True):
                match = _same_story(article, others)
                if match is not None:
                    cluster = assignments.get(match.id) or match.cluster_id or match.id
                    assignments[match.id] = assignments[article.id] = cluster
        await self._articles.set_clusters(list(assignments.items()))
        return sum(1 for article in new if article.id in assignments)

    async def related_to(self, article: Article, k: int = 5) -> list[Article]:
        """Stories related to a stored article, excluding its own story."""
        terms = story_terms(article.title, article.summary)
        found = await self._candidates(list(terms[:4]))
        return rank_related(found, query_tags=article.tags, now=self._clock(),
                            exclude_cluster=article.cluster_id, exclude_id=article.id, k=k)

    async def related_to_words(self, text: str, k: int = 5) -> list[Article]:
        """Stories about these words, best first."""
        words = query_words(text)
        found = await self._candidates(words)
        return rank_related(found, query_tags=(), now=self._clock(), k=k)

    async def _candidates(self, terms: list[str]) -> list[Candidate]:
        """One full-text query: stories with at least two of the terms, best BM25 first."""
        if not terms:
            return []
        min_id = await self._articles.first_id_since(self._clock() - RELATED_WINDOW)
        found = await self._articles.match_articles(any_two(terms), limit=_CANDIDATES,
                                                    min_id=min_id)
        return [Candidate(a, score, coverage(a, terms)) for a, score in found]


def any_two(terms: Sequence[str]) -> str:
    """An FTS5 query matching stories that contain at least two of the terms (or the one)."""
    quoted = [f'"{t}"' for t in terms if t]
    pairs = [f"({a} AND {b})" for a, b in itertools.combinations(quoted, 2)]
    return " OR ".join(pairs) if pairs else quoted[0]


def coverage(article: Article, terms: Sequence[str]) -> float:
    """The share of the terms that appear in the article's title, summary or tags."""
    text = f"{article.title} {article.summary} {' '.join(article.tags)}".casefold()
    return sum(1 for t in terms if t in text) / len(terms)


def same_story_query(article: Article) -> str:
    """FTS5 query for other outlets' takes: any two of the story's most distinctive words
    (an empty phrase, which matches nothing, when the story has no such words)."""
    terms = story_terms(article.title, article.summary)[:4]
    return any_two(terms) if terms else '""'


def _same_story(article: Article, others: Sequence[Article]) -> Article | None:
    """The earliest other outlet's article that tells the same story, if any."""
    mine = sketch(article)
    same = [o for o in others if o.feed_id != article.feed_id and o.id != article.id
            and is_same_story(mine, sketch(o), SAME_STORY_WINDOW)]
    return min(same, key=lambda o: (o.when, o.id)) if same else None
