"""Same story, other outlet: how likely two articles report one event, and which story a new
article joins.

Each pair is judged on meaning (the cosine of the story vectors), on the names, figures and
rare words both mention (weighted anchor overlap), on the plain words of headline and lede
both use and on time apart, combined by a logistic model fitted on the tuning half of
tests/eval (tests/eval/tune.py). An article joins the story it matches best, unless that
story already has an article from the same outlet or the article matches only one member of
a larger story and not the rest (no chaining two events through a third).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.enrich.anchors import overlap

WINDOW_HOURS = 48.0
JOIN = 0.5  # probability a pair must reach for an article to join a story
STORY_MEAN = 0.3  # the mean probability over a story's members it must reach too


@dataclass(frozen=True, slots=True)
class Weights:
    """Coefficients of the pair model (logit = bias + sum of weight * feature)."""

    bias: float
    cosine: float
    names: float  # log(1 + the weight of the names both mention)
    figures: float  # ... of the figures both give
    words: float  # ... of the rare words both use
    jaccard: float  # the shared anchor weight over all of it
    days_apart: float
    conflict: float  # what each headline is about and the other story never names
    plain: float  # log(1 + the weight of the plain words of headline and lede both use)


# Fitted by tests/eval/tune.py on the tuning half (1,304 candidate pairs, 233 of one event).
WITH_VECTORS = Weights(bias=-5.49, cosine=1.65, names=1.02, figures=1.66, words=0.28,
                       jaccard=1.16, days_apart=-3.45, conflict=-0.09, plain=1.08)
WITHOUT_VECTORS = Weights(bias=-4.68, cosine=0.0, names=0.9, figures=1.6, words=0.24,
                          jaccard=1.5, days_apart=-3.48, conflict=-0.1, plain=1.29)


@dataclass(frozen=True, slots=True)
class Candidate:
    """Another outlet's article near in time, and how likely it is the same story."""

    article_id: int
    feed_id: int
    story: int  # its cluster id, or minus its id while it stands alone
    probability: float


def same_story_probability(cosine: float | None, anchors: Mapping[str, float],
                           other: Mapping[str, float], hours_apart: float,
                           conflict: float = 0.0, plain: float = 0.0) -> float:
    """How likely two articles report the same event (0..1); `conflict` is their
    headline_conflict, `plain` their shared_plain."""
    weights = WITHOUT_VECTORS if cosine is None else WITH_VECTORS
    shared = overlap(anchors, other)
    logit = (weights.bias + weights.cosine * (cosine or 0.0) + weights.names * shared.names
             + weights.figures * shared.figures + weights.words * shared.words
             + weights.jaccard * shared.jaccard
             + weights.days_apart * min(abs(hours_apart), WINDOW_HOURS) / 24.0
             + weights.conflict * conflict + weights.plain * plain)
    return 1.0 / (1.0 + math.exp(-logit))


def choose_story(feed_id: int, candidates: Sequence[Candidate]) -> Candidate | None:
    """The candidate whose story the article joins, or None to stand alone.

    A story qualifies when its best match reaches JOIN, the mean over its members reaches
    STORY_MEAN, and none of its members comes from the article's own outlet.
    """
    stories: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        stories.setdefault(candidate.story, []).append(candidate)
    best: Candidate | None = None
    for members in stories.values():
        if any(m.feed_id == feed_id for m in members):
            continue  # one article per outlet per story
        top = max(members, key=lambda m: m.probability)
        mean = sum(m.probability for m in members) / len(members)
        if top.probability >= JOIN and mean >= STORY_MEAN and (
                best is None or top.probability > best.probability):
            best = top
    return best
