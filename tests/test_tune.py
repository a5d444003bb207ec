"""Tests for tests/eval/tune.py's cross-validation scoring: each pair counted once."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.eval.tune import fold_pairs
from tests.story_eval import Judged, JudgedArticle

WHEN = datetime(2026, 6, 20, tzinfo=UTC)


def _article(eval_id: str, feed: str, event: str) -> JudgedArticle:
    return JudgedArticle(eval_id, feed, eval_id, "", f"https://x.example/{eval_id}", WHEN, (),
                         event, (), "tune")


def test_fold_pairs_counts_each_pair_in_the_fold_of_its_first_event() -> None:
    """Pairs of one event from other outlets count as right or apart, pairs of two events
    put together as wrong, each only in the fold holding the first of its events; two takes
    of one outlet count for nothing."""
    judged = Judged((_article("a1", "A", "quake"), _article("b1", "B", "quake"),
                     _article("c1", "C", "quake"), _article("a2", "A", "quake"),
                     _article("b2", "B", "rates")), ())
    story = {"a1": 1, "b1": 1, "c1": 2, "a2": 3, "b2": 1}
    assert fold_pairs(judged, story, frozenset({"quake"})) == {"tp": 1, "fn": 4, "fp": 2}
    assert fold_pairs(judged, story, frozenset({"rates"})) == {}
