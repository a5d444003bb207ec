"""Related stories: rank candidates by meaning, shared names and words, tags and recency.

Each candidate gets a score (the logit of "a reader would call this related") from a
logistic model fitted on the tuning half of tests/eval (tests/eval/tune.py). A candidate
below the floor is not shown, however few others there are: an empty answer beats a wrong
one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime

from bot.enrich.anchors import Overlap
from bot.model import Article, tag_key

HALF_LIFE_DAYS = 7.0


@dataclass(frozen=True, slots=True)
class RankWeights:
    """Coefficients of the ranking model (score = bias + sum of weight * feature)."""

    bias: float
    cosine: float
    coverage: float  # share of the query's anchor weight the candidate has
    names: float
    figures: float
    words: float
    jaccard: float
    text: float  # full-text match, relative to the best
    tags: float  # shared tags (Jaccard)
    recency: float  # 1 today, halving every week
    article: float  # the query is a story, not words


# Fitted by tests/eval/tune.py on the tuning half (6,643 candidates, 670 judged relevant).
WITH_VECTORS = RankWeights(bias=-6.17, cosine=9.0, coverage=2.1, names=0.65, figures=-0.2,
                           words=2.36, jaccard=0.19, text=2.09, tags=0.41, recency=0.9,
                           article=0.0)
WITHOUT_VECTORS = RankWeights(bias=-4.88, cosine=0.0, coverage=4.18, names=0.96, figures=0.09,
                              words=3.57, jaccard=1.35, text=3.94, tags=1.97, recency=1.11,
                              article=-0.03)
FLOOR = -1.0  # a candidate scoring below this is not shown
# A digest's "related" links: fewer and surer than an asked-for /related (chosen on the tuning
# half: P@3 0.907 at 1.97 results per query, against 0.829 at 2.55 at FLOOR).
DIGEST_FLOOR = 1.0


@dataclass(frozen=True, slots=True)
class RelatedCandidate:
    """A possibly related article and what ranking knows of it."""

    article: Article
    cosine: float | None  # closeness in meaning to the query; None without vectors
    anchors: float  # share of the query's anchor weight it shares (0..1)
    shared: Overlap  # the names, figures and rare words it shares with the query
    text: float  # full-text match relative to the best one (0..1; 0 if not matched)


def features(candidate: RelatedCandidate, query_tags: Sequence[str], now: datetime,
             *, is_article: bool) -> tuple[float, ...]:
    """The candidate's features, in RankWeights order after the bias."""
    mine = {tag_key(t) for t in query_tags}
    theirs = {tag_key(t) for t in candidate.article.tags}
    tags = len(mine & theirs) / len(mine | theirs) if mine and theirs else 0.0
    age_days = max((now - candidate.article.when).total_seconds(), 0.0) / 86400
    shared = candidate.shared
    return (candidate.cosine or 0.0, candidate.anchors, shared.names, shared.figures,
            shared.words, shared.jaccard, candidate.text, tags,
            math.exp(-math.log(2) * age_days / HALF_LIFE_DAYS), float(is_article))


def related_score(candidate: RelatedCandidate, query_tags: Sequence[str], now: datetime,
                  *, is_article: bool) -> float:
    """How related the candidate is (a logit: 0 is even odds)."""
    return _score(candidate, query_tags, now, is_article, _weights())


def _weights() -> dict[bool, tuple[float, ...]]:
    """Each model's coefficients as a tuple, by whether the candidate has a vector; read once
    per ranking (astuple costs more than the scoring, and the tuner swaps the models)."""
    return {True: astuple(WITH_VECTORS), False: astuple(WITHOUT_VECTORS)}


def _score(candidate: RelatedCandidate, query_tags: Sequence[str], now: datetime,
           is_article: bool, weights: dict[bool, tuple[float, ...]]) -> float:
    chosen = weights[candidate.cosine is not None]
    found = features(candidate, query_tags, now, is_article=is_article)
    return float(chosen[0] + sum(w * f for w, f in zip(chosen[1:], found, strict=True)))


def rank_related(candidates: Sequence[RelatedCandidate], *, query_tags: Sequence[str],
                 now: datetime, exclude_cluster: int = 0, exclude_id: int = 0,
                 k: int = 5, floor: float | None = None) -> list[Article]:
    """The best `k` related articles scoring at least `floor` (FLOOR unless given), one per
    story, never the query's own story."""
    lowest = FLOOR if floor is None else floor
    others = [c for c in candidates if c.article.id != exclude_id
              and not (exclude_cluster and c.article.cluster_id == exclude_cluster)]
    is_article, weights = bool(exclude_id), _weights()
    scored = sorted(((_score(c, query_tags, now, is_article, weights), c) for c in others),
                    key=lambda sc: (-sc[0], sc[1].article.id))
    chosen: list[Article] = []
    seen_clusters: set[int] = set()
    for score, candidate in scored:
        if score < lowest or len(chosen) == k:
            break
        article = candidate.article
        if article.cluster_id:
            if article.cluster_id in seen_clusters:
                continue
            seen_clusters.add(article.cluster_id)
        chosen.append(article)
    return chosen
