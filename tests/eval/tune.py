"""Fit the same-story model and choose its thresholds on the TUNING half only.

Run: uv run python -m tests.eval.tune [-v] [--same-story | --related | --cv]
Prints the coefficients and thresholds to put in bot/enrich/same_story.py, and the scores
each choice reaches on the tuning half, ingested all at once (a first `newsbot fetch`) and
polled every 6 hours (a running bot). `--cv` judges the code as it stands by cross-validation
on the tuning half instead: each fold of events is grouped by a pair model fitted without
it, so an idea (a feature, a join rule) can be judged before the held-out half is looked at
once. The held-out half is never read here: tests/test_story_quality.py judges the chosen
values on it.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.enrich import related, same_story, vectors
from bot.enrich.anchors import (
    decode,
    decode_plain,
    headline_conflict,
    headline_names,
    overlap,
    shared_plain,
)
from bot.enrich.pipeline import enrich_entries
from bot.enrich.stories import NEAR_COSINE, Stories
from bot.enrich.story_index import HEAVY
from bot.model import NewArticle
from bot.store.store import open_store
from tests.story_eval import SETS, Clock, Judged, JudgedArticle, entry, ingest, load, measure

Array = npt.NDArray[np.float64]


@cache
def enriched(articles: tuple[JudgedArticle, ...]) -> dict[str, NewArticle]:
    """Each article enriched as its feed's worker would (one batch per outlet)."""
    found: dict[str, NewArticle] = {}
    for feed in sorted({a.feed for a in articles}):
        mine = [a for a in articles if a.feed == feed]
        found.update(zip((a.id for a in mine), enrich_entries([entry(a) for a in mine], (), {}),
                         strict=True))
    return found


def pair_rows(articles: tuple[JudgedArticle, ...], skip: frozenset[str] = frozenset(),
              ) -> tuple[Array, Array, Array]:
    """Features [cosine, names, figures, words, jaccard, days apart, headline conflict,
    shared plain words] of the pairs ingest compares (other outlets within the window, close
    in meaning or sharing a heavy anchor), with labels; and the pairs and features without
    vectors (the label last). Pairs with an article of an event in `skip` are left out."""
    new = enriched(articles)
    rows, plain, labels = [], [], []
    for a, b in itertools.combinations(articles, 2):
        days = abs((a.published - b.published).total_seconds()) / 86400
        if a.feed == b.feed or days * 24 > same_story.WINDOW_HOURS or {a.event, b.event} & skip:
            continue
        matrix, _ = vectors.unpack([new[a.id].vector, new[b.id].vector])
        cosine = float(matrix[0] @ matrix[1])
        mine, theirs = decode(new[a.id].anchors), decode(new[b.id].anchors)
        heavy = any(w >= HEAVY and k in theirs for k, w in mine.items())
        shared = overlap(mine, theirs)
        conflict = headline_conflict(headline_names(new[a.id].anchors), mine,
                                     headline_names(new[b.id].anchors), theirs)
        lede = shared_plain(decode_plain(new[a.id].anchors), decode_plain(new[b.id].anchors))
        features = [shared.names, shared.figures, shared.words, shared.jaccard, days, conflict,
                    lede]
        if heavy or cosine >= NEAR_COSINE:
            rows.append([cosine, *features])
            labels.append(float(a.event == b.event))
        if heavy:
            plain.append([*features, float(a.event == b.event)])
    table = np.array(plain)
    return np.array(rows), np.array(labels), table


def fit_logistic(x: Array, y: Array, l2: float = 1.0) -> Array:
    """L2-regularized logistic regression by Newton's method: [bias, weights...]."""
    design = np.hstack([np.ones((len(x), 1)), x])
    weights = np.zeros(design.shape[1])
    penalty = l2 * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ weights))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        weights -= np.linalg.solve(hessian, design.T @ (p - y) + penalty @ weights)
    return weights


async def related_rows(name: str) -> tuple[list[tuple[float, ...]], list[float]]:
    """Features and labels (judged relevant or not) of every candidate that related_to
    ranks for the tuning queries of one judged set, ingested as a first fetch."""
    judged = load("tune", [name])
    rows: list[tuple[float, ...]] = []
    labels: list[float] = []
    if not judged.articles:
        return rows, labels
    with tempfile.TemporaryDirectory() as folder:
        async with open_store(Path(folder) / "tune.db") as store:
            clock = Clock(judged.articles[0].published)
            stories = Stories(store.articles, clock)
            ingested = await ingest(store, stories, clock, judged.articles, None)
            for query in judged.queries:
                if query.article:
                    [article] = await store.articles.by_ids([ingested.ids[query.article]])
                    found = [c for c in await stories.candidates_for_article(article)
                             if c.article.id != article.id and not (
                                 article.cluster_id
                                 and c.article.cluster_id == article.cluster_id)]
                    tags: Sequence[str] = article.tags
                else:
                    found, tags = await stories.candidates_for_words(query.words), ()
                rows += [related.features(c, tags, clock(), is_article=bool(query.article))
                         for c in found]
                labels += [float(ingested.eval_id(c.article.id) in query.relevant)
                           for c in found]
    return rows, labels


def fit_related() -> None:
    """Fit the ranking model on the tuning queries' candidates, then choose its floor: the
    most precise one that still answers 2.55 results per query on average."""
    rows: list[tuple[float, ...]] = []
    labels: list[float] = []
    for name in SETS:
        more, marks = asyncio.run(related_rows(name))
        rows += more
        labels += marks
    x, y = np.array(rows), np.array(labels)
    ranking, plain = fit_logistic(x, y), fit_logistic(x[:, 1:], y)
    print(f"related: {len(y)} candidates, {int(y.sum())} judged relevant")
    print("related.WITH_VECTORS = RankWeights(*", np.round(ranking, 2).tolist(), ")")
    print("related.WITHOUT_VECTORS = RankWeights(", round(plain[0], 2), ", 0.0, *",
          np.round(plain[1:], 2).tolist(), ")")
    related.WITH_VECTORS = related.RankWeights(*map(float, ranking))
    related.WITHOUT_VECTORS = related.RankWeights(float(plain[0]), 0.0, *map(float, plain[1:]))
    choices = []
    for floor in (-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0):
        related.FLOOR = floor
        _, found = asyncio.run(measure("tune", None))
        choices.append((found.precision, found.results_per_query, floor))
        print(f"FLOOR {floor}: P@3 {found.precision:.3f}, "
              f"{found.results_per_query:.2f} per query")
    best = max((c for c in choices if c[1] >= 2.55), default=None)
    print("chosen (P@3, per query, FLOOR):", best)
    if best is not None:
        related.FLOOR = best[2]


def fit_same_story(articles: tuple[JudgedArticle, ...], skip: frozenset[str] = frozenset(),
                   ) -> None:
    """Fit the pair models (with and without vectors) and put them in use."""
    x, y, plain = pair_rows(articles, skip)
    with_vectors = fit_logistic(x, y)
    without = fit_logistic(plain[:, :-1], plain[:, -1])
    if not skip:
        print(f"{len(y)} candidate pairs, {int(y.sum())} of one event")
        print("WITH_VECTORS = Weights(*", np.round(with_vectors, 2).tolist(), ")")
        print("WITHOUT_VECTORS = Weights(", round(without[0], 2), ", 0.0, *",
              np.round(without[1:], 2).tolist(), ")")
    same_story.WITH_VECTORS = same_story.Weights(*map(float, with_vectors))
    same_story.WITHOUT_VECTORS = same_story.Weights(float(without[0]), 0.0,
                                                    *map(float, without[1:]))


async def story_keys(judged: Judged, poll_hours: float | None) -> dict[str, int]:
    """Eval id -> story key of one judged set as ingest groups it."""
    with tempfile.TemporaryDirectory() as folder:
        async with open_store(Path(folder) / "cv.db") as store:
            clock = Clock(judged.articles[0].published)
            ingested = await ingest(store, Stories(store.articles, clock), clock,
                                    judged.articles, poll_hours)
            rows = await store.db.fetchall("SELECT id, cluster_id FROM articles")
            return {ingested.back[r["id"]]: r["cluster_id"] or -r["id"] for r in rows}


def fold_pairs(judged: Judged, story: dict[str, int], fold: frozenset[str]) -> Counter[str]:
    """Pairs put together rightly ("tp") and wrongly ("fp") and left apart wrongly ("fn"),
    counting each pair in the fold of the first of its two events."""
    by_id = {a.id: a for a in judged.articles}
    found: Counter[str] = Counter()
    for a, b in itertools.combinations(sorted(story), 2):
        first, second = by_id[a], by_id[b]
        if min(first.event, second.event) not in fold:
            continue
        together = story[a] == story[b]
        if first.event != second.event:
            found["fp"] += together
        elif first.feed != second.feed:
            found["tp" if together else "fn"] += 1
    return found


def cross_validate(folds: int = 5) -> None:
    """Pairs precision and recall on the tuning half, each fold of events grouped with pair
    models fitted on the other folds (the thresholds and join rule as in the code)."""
    judged = load("tune")
    events = sorted({a.event for a in judged.articles})
    random.Random(7).shuffle(events)
    parts = [frozenset(events[i::folds]) for i in range(folds)]
    sets = [one for name in SETS if (one := load("tune", [name])).articles]
    for poll_hours in (None, 6.0):
        counts: Counter[str] = Counter()
        for part in parts:
            fit_same_story(judged.articles, skip=part)
            for one in sets:
                counts += fold_pairs(one, asyncio.run(story_keys(one, poll_hours)), part)
        tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
        print(f"{folds}-fold CV, polls {poll_hours}: pairs P {tp / max(1, tp + fp):.3f} "
              f"R {tp / max(1, tp + fn):.3f} ({tp} right, {fp} wrong, {fn} apart)")


def main() -> None:
    if "--cv" in sys.argv:
        cross_validate()
        return
    fit_same_story(load("tune").articles)
    if "--same-story" not in sys.argv:
        fit_related()
    if "--related" in sys.argv:
        return
    grid = [(j, m) for j, m in itertools.product((0.4, 0.5, 0.6), (0.3, 0.4))
            if m <= j]
    for join, mean in grid:
        same_story.JOIN, same_story.STORY_MEAN = join, mean
        for poll_hours in (None, 6.0):
            groups, found = asyncio.run(measure("tune", poll_hours))
            print(f"JOIN {join} STORY_MEAN {mean} polls {poll_hours}: pairs P "
                  f"{groups.pair_precision:.3f} R {groups.pair_recall:.3f}, one item "
                  f"{groups.one_item}/{groups.stories}; related P@3 {found.precision:.3f} "
                  f"({found.results_per_query:.2f} per query)")
            if "-v" in sys.argv:
                print("  wrong merges:", groups.wrong_merges)
                print("  split events:", groups.split_events)


if __name__ == "__main__":
    main()
