"""Related stories: rank full-text candidates by match, recency and shared tags."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.enrich.tags import tag_key
from bot.model import Article

HALF_LIFE_DAYS = 7.0
TAG_WEIGHT = 0.5
RECENCY_WEIGHT = 0.3
RELATIVE_FLOOR = 0.3  # a weak match far below the best one is noise, not a related story


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article found by a full-text query, with its best BM25 score and coverage."""

    article: Article
    bm25: float  # higher is better
    coverage: float  # share of the query's terms the article matched (0..1)


def related_score(candidate: Candidate, query_tags: Iterable[str], now: datetime,
                  top_bm25: float) -> float:
    """Text match first, then shared tags, then recency (a week's half-life)."""
    text = candidate.bm25 / top_bm25 if top_bm25 > 0 else 0.0
    mine = {tag_key(t) for t in query_tags}
    theirs = {tag_key(t) for t in candidate.article.tags}
    shared = len(mine & theirs) / len(mine | theirs) if mine and theirs else 0.0
    age_days = max((now - candidate.article.when).total_seconds(), 0.0) / 86400
    recent = math.exp(-math.log(2) * age_days / HALF_LIFE_DAYS)
    return (text + candidate.coverage) + TAG_WEIGHT * shared + RECENCY_WEIGHT * recent


def rank_related(candidates: Sequence[Candidate], *, query_tags: Sequence[str], now: datetime,
                 exclude_cluster: int = 0, exclude_id: int = 0, k: int = 5) -> list[Article]:
    """The best `k` related articles, one per story, never the query's own story."""
    top = max((c.bm25 for c in candidates), default=0.0)
    scores = {c.article.id: related_score(c, query_tags, now, top) for c in candidates}
    floor = RELATIVE_FLOOR * max(scores.values(), default=0.0)
    ranked = sorted((c for c in candidates if scores[c.article.id] >= floor),
                    key=lambda c: (-scores[c.article.id], c.article.id))
    chosen: list[Article] = []
    seen_clusters: set[int] = set()
    for candidate in ranked:
        article = candidate.article
        if article.id == exclude_id or (exclude_cluster and article.cluster_id == exclude_cluster):
            continue
        if article.cluster_id:
            if article.cluster_id in seen_clusters:
                continue
            seen_clusters.add(article.cluster_id)
        chosen.append(article)
        if len(chosen) == k:
            break
    return chosen
