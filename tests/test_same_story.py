"""Tests for bot.enrich.same_story and bot.enrich.story_index: which story an article joins."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.enrich import vectors
from bot.enrich.anchors import shared_plain
from bot.enrich.same_story import (
    JOIN,
    MERGE_MEAN,
    Candidate,
    choose_stories,
    same_story_probability,
    stories_agree,
)
from bot.enrich.stories import Stories
from bot.enrich.story_index import StoryIndex
from bot.model import FeedSpec, NewArticle, StoryPoint
from bot.store.store import open_store

NOW = datetime(2026, 6, 20, 12, tzinfo=UTC)


def test_shared_names_and_figures_make_the_same_story_likely() -> None:
    """Two takes naming the same people and figures, hours apart, are one story."""
    ishiba = {"ishiba": 6.0, "nato": 3.7, "hague": 4.2, "#25%": 3.0, "japan": 2.4}
    other = {"ishiba": 4.5, "nato": 3.7, "hague": 4.2, "#25%": 3.0, "tokyo": 2.2}
    albanese = {"albanese": 6.0, "nato": 3.7, "hague": 4.2, "australia": 2.4}
    same = same_story_probability(0.65, ishiba, other, 5.0)
    different = same_story_probability(0.6, ishiba, albanese, 5.0)
    assert same > 0.5 > different


def test_time_apart_lowers_the_chance() -> None:
    """The same words two days apart are more likely a follow-up than the same event."""
    anchors = {"kestrel": 4.5, "mobility": 3.0, "#57e6": 3.0}
    assert same_story_probability(0.6, anchors, anchors, 2.0) > same_story_probability(
        0.6, anchors, anchors, 45.0)


def test_shared_plain_words_make_one_line_takes_the_same_story() -> None:
    """Two one-sentence takes that share one place name and close meaning: the plain words
    they share ("airport", "strike") decide."""
    kenya = {"nairobi": 2.96}
    assert same_story_probability(0.7, kenya, kenya, 1.0, plain=2.2) > 0.5 > (
        same_story_probability(0.7, kenya, kenya, 1.0))


def test_without_vectors_names_still_decide() -> None:
    """With no model loaded, shared names and figures still group a story."""
    anchors = {"ishiba": 6.0, "nato": 3.7, "hague": 4.2, "#25%": 3.0}
    assert same_story_probability(None, anchors, anchors, 3.0) > 0.5


def test_joins_the_best_matching_story() -> None:
    """The article joins the story it matches best."""
    found = choose_stories(1, [Candidate(10, 2, -10, 0.6), Candidate(11, 3, 77, 0.9),
                               Candidate(12, 4, 77, 0.8)])
    assert [c.story for c in found] == [77, -10]


def test_one_article_per_outlet_per_story() -> None:
    """A story that already has an article from this outlet is not joined."""
    assert choose_stories(1, [Candidate(10, 1, 5, 0.99), Candidate(11, 2, 5, 0.99)]) == []


def test_no_chaining_through_one_member() -> None:
    """Matching one member of a story but none of the others is not enough."""
    members = [Candidate(10, 2, 5, 0.95), Candidate(11, 3, 5, 0.02), Candidate(12, 4, 5, 0.02),
               Candidate(13, 6, 5, 0.02)]
    assert choose_stories(1, members) == []


def test_below_the_threshold_stands_alone() -> None:
    """A weak match is no match."""
    assert choose_stories(1, [Candidate(10, 2, -10, 0.2)]) == []


def test_stories_sharing_an_outlet_are_not_joined_together() -> None:
    """Of two stories the article qualifies for, the weaker one is left out when it has an
    outlet the better one has too."""
    found = choose_stories(1, [Candidate(10, 2, 7, 0.9), Candidate(11, 3, 7, 0.7),
                               Candidate(12, 3, -12, 0.8), Candidate(13, 4, -13, 0.6)])
    assert [c.story for c in found] == [7, -13]


def test_stories_agree_on_their_mean_probability() -> None:
    """Two stories are one when the pairs of their members reach MERGE_MEAN on average."""
    assert stories_agree([MERGE_MEAN + 0.1, MERGE_MEAN - 0.05])
    assert not stories_agree([MERGE_MEAN - 0.1, MERGE_MEAN + 0.05])
    assert not stories_agree([])


def _take(outlet: str, brake: bool, recall: bool, vector: list[float]) -> NewArticle:
    plain = " ".join(word for word, kept in (("+brake:2", brake), ("+recall:2", recall))
                     if kept)
    return NewArticle(dedup_key=outlet, url=f"https://{outlet}.example/kestrel",
                      title=f"Kestrel recall ({outlet})", summary="", published=NOW,
                      anchors=f"tarvo:4.5^ kestrel:4.5^ {plain}",
                      vector=vectors.pack(np.array(vector + [0.0] * 254)))


async def _stories_of_three_takes(tmp_path: Path, cosine: float) -> set[int]:
    """Outlets a and b tell one recall in takes `cosine` apart in meaning, each sharing one
    plain word with c's take, which comes last; the clusters they end in."""
    half = math.sqrt((1 + cosine) / 2)  # c lies between a and b
    takes = {"a": _take("a", True, False, [1.0, 0.0]),
             "b": _take("b", False, True, [cosine, math.sqrt(1 - cosine ** 2)]),
             "c": _take("c", True, True, [half, math.sqrt(1 - half ** 2)])}
    async with open_store(tmp_path / "news.db") as store:
        await store.feeds.sync_config_feeds(
            [FeedSpec(url=f"https://{name}.example/feed", name=name) for name in takes])
        feeds = {f.name: f.id for f in await store.feeds.active_feeds()}
        stories = Stories(store.articles, lambda: NOW)
        for name, take in takes.items():
            await store.articles.add_articles(feeds[name], [take], NOW)
            await stories.assign(await store.articles.by_keys(feeds[name], [name]))
        return {a.cluster_id or -a.id for a in await store.articles.by_ids([1, 2, 3])}


async def test_an_article_matching_two_stories_of_one_event_joins_them(tmp_path: Path,
                                                                       ) -> None:
    """Two takes too far apart to join each other, but agreeing enough, become one story
    when a third outlet's take matches both."""
    words = {"tarvo": 4.5, "kestrel": 4.5}
    apart = same_story_probability(0.6, words, words, 0.0,
                                   plain=shared_plain({"+brake": 2}, {"+recall": 2}))
    between = same_story_probability(math.sqrt(0.8), words, words, 0.0,
                                     plain=shared_plain({"+brake": 2}, {"+brake": 2, "+recall": 2}))
    assert MERGE_MEAN <= apart < JOIN <= between  # what the case needs of the model
    assert len(await _stories_of_three_takes(tmp_path, 0.6)) == 1


async def test_an_article_matching_two_disagreeing_stories_joins_one(tmp_path: Path) -> None:
    """Two takes that do not agree stay apart: the third joins the one it matches best, so
    two stories are never chained through one vague take."""
    words = {"tarvo": 4.5, "kestrel": 4.5}
    apart = same_story_probability(0.0, words, words, 0.0,
                                   plain=shared_plain({"+brake": 2}, {"+recall": 2}))
    between = same_story_probability(math.sqrt(0.5), words, words, 0.0,
                                     plain=shared_plain({"+brake": 2}, {"+brake": 2, "+recall": 2}))
    assert apart < MERGE_MEAN and between >= JOIN  # what the case needs of the model
    assert len(await _stories_of_three_takes(tmp_path, 0.0)) == 2


def _point(article_id: int, hours: float, vector: list[float] | None = None,
           cluster: int = 0, anchors: str = "") -> StoryPoint:
    packed = vectors.pack(np.array(vector or [1.0] + [0.0] * 255)) if vector is not None \
        else b""
    return StoryPoint(article_id, article_id % 3, cluster, NOW + timedelta(hours=hours),
                      NOW + timedelta(hours=hours), anchors, packed)


def test_index_finds_nearby_articles_by_meaning_or_anchor() -> None:
    """Near in time and close in meaning, or sharing a heavy anchor: a candidate."""
    index = StoryIndex()
    east = [1.0, 0.0] + [0.0] * 254
    north = [0.0, 1.0] + [0.0] * 254
    index.add([_point(1, 0, east), _point(2, 1, east), _point(3, 2, north, anchors="x:3"),
               _point(4, 100, east), _point(5, 3, north, anchors="x:3")])
    item = index.get(5)
    assert item is not None
    near = {other.id for other, _ in index.near_each([item], 48 * 3600, 0.5)[0]}
    assert near == {3}
    first = index.get(1)
    assert first is not None
    assert {o.id for o, _ in index.near_each([first], 48 * 3600, 0.5)[0]} == {2}


def test_index_keeps_plain_words_apart_from_anchors() -> None:
    """The index reads the stored plain words apart; they find no candidates."""
    index = StoryIndex()
    index.add([_point(1, 0, anchors="kenya:3 +strike:1.8 +airport:1.7"),
               _point(2, 1, anchors="+strike:1.8 +airport:1.7")])
    item = index.get(1)
    assert item is not None
    assert item.anchors == {"kenya": 3.0}
    assert item.plain == {"+strike": 1.8, "+airport": 1.7}
    assert index.near_each([item], 48 * 3600, 0.5) == [[]]


def test_index_tracks_stories_and_forgets_the_old() -> None:
    """Members follow cluster changes; the oldest articles are forgotten first."""
    index = StoryIndex(capacity=3)
    index.add([_point(i, i, [1.0] + [0.0] * 255) for i in range(1, 5)])
    assert len(index) == 3 and index.get(1) is None
    index.set_story([2, 3], 2)
    assert [m.id for m in index.members(2)] == [2, 3]
    index.forget_seen_before((NOW + timedelta(hours=3)).timestamp())
    assert [m.id for m in index.members(2)] == [3]
    vector = index.vector_of(4)
    assert vector is not None and abs(float(vector[0]) - 1.0) < 1e-6


def test_packed_vectors_keep_their_direction() -> None:
    """int8 packing keeps cosines to within a hundredth."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=256), rng.normal(size=256)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    matrix, present = vectors.unpack([vectors.pack(a), vectors.pack(b), b""])
    assert list(present) == [True, True, False]
    assert abs(float(matrix[0] @ matrix[1]) - float(a @ b)) < 0.01
    assert vectors.pack(np.zeros(256)) == b""
