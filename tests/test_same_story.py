"""Tests for bot.enrich.same_story and bot.enrich.story_index: which story an article joins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from bot.enrich import vectors
from bot.enrich.same_story import Candidate, choose_story, same_story_probability
from bot.enrich.story_index import StoryIndex
from bot.model import StoryPoint

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
    found = choose_story(1, [Candidate(10, 2, -10, 0.6), Candidate(11, 3, 77, 0.9),
                             Candidate(12, 4, 77, 0.8)])
    assert found is not None and found.story == 77


def test_one_article_per_outlet_per_story() -> None:
    """A story that already has an article from this outlet is not joined."""
    assert choose_story(1, [Candidate(10, 1, 5, 0.99), Candidate(11, 2, 5, 0.99)]) is None


def test_no_chaining_through_one_member() -> None:
    """Matching one member of a story but none of the others is not enough."""
    members = [Candidate(10, 2, 5, 0.95), Candidate(11, 3, 5, 0.02), Candidate(12, 4, 5, 0.02),
               Candidate(13, 6, 5, 0.02)]
    assert choose_story(1, members) is None


def test_below_the_threshold_stands_alone() -> None:
    """A weak match is no match."""
    assert choose_story(1, [Candidate(10, 2, -10, 0.2)]) is None


def _point(article_id: int, hours: float, vector: list[float] | None = None,
           cluster: int = 0, anchors: str = "") -> StoryPoint:
    packed = vectors.pack(np.array(vector or [1.0] + [0.0] * 255)) if vector is not None \
        else b""
    return StoryPoint(article_id, article_id % 3, cluster, NOW + timedelta(hours=hours),
                      NOW + timedelta(hours=hours), anchors, packed)


def test_index_finds_nearby_articles_by_meaning_or_anchor() -> None:
    """Near in time and close in meaning, or sharing a heavy anchor, from another outlet: a
    candidate story."""
    index = StoryIndex()
    east = [1.0, 0.0] + [0.0] * 254
    north = [0.0, 1.0] + [0.0] * 254
    index.add([_point(1, 0, east), _point(2, 1, east), _point(3, 2, north, anchors="x:3"),
               _point(4, 100, east), _point(5, 3, north, anchors="x:3")])
    item = index.get(5)
    assert item is not None
    assert index.near_stories(item, 48 * 3600, 0.5, index.cosines([item])) == {-3}
    first = index.get(1)
    assert first is not None
    assert index.near_stories(first, 48 * 3600, 0.5, index.cosines([first])) == {-2}
    index.set_story([2, 5], 9)  # a story: its cluster id, whichever member is near
    assert index.near_stories(first, 48 * 3600, 0.5, index.cosines([first])) == {9}


def test_index_keeps_plain_words_apart_from_anchors() -> None:
    """The index reads the stored plain words apart; they find no candidates."""
    index = StoryIndex()
    index.add([_point(1, 0, anchors="kenya:3 +strike:1.8 +airport:1.7"),
               _point(2, 1, anchors="+strike:1.8 +airport:1.7")])
    item = index.get(1)
    assert item is not None
    assert item.anchors == {"kenya": 3.0}
    assert item.plain == {"+strike": 1.8, "+airport": 1.7}
    assert index.near_stories(item, 48 * 3600, 0.5, index.cosines([item])) == set()


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
