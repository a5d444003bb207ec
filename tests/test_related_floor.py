"""Related stories below a floor are not shown; a digest's links ask for a higher one."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.enrich.anchors import Overlap
from bot.enrich.related import DIGEST_FLOOR, FLOOR, RelatedCandidate, rank_related, related_score
from bot.model import Article

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
NOTHING = Overlap(0.0, 0.0, 0.0, 0.0)


def _candidate(article_id: int, cosine: float, text: float) -> RelatedCandidate:
    article = Article(id=article_id, feed_id=1, feed_name="F", url=f"https://x.example/{article_id}",
                      title=f"Story {article_id}", summary="", first_seen=NOW)
    return RelatedCandidate(article, cosine, 0.0, NOTHING, text)


def test_digest_links_need_the_higher_floor() -> None:
    """A candidate between the two floors answers /related but is no digest link; a strong
    one is both."""
    strong, middling = _candidate(1, 0.9, 1.0), _candidate(2, 0.55, 0.2)
    score = related_score(middling, (), NOW, is_article=True)
    assert FLOOR <= score < DIGEST_FLOOR <= related_score(strong, (), NOW, is_article=True)
    asked = rank_related([strong, middling], query_tags=(), now=NOW, exclude_id=99)
    linked = rank_related([strong, middling], query_tags=(), now=NOW, exclude_id=99,
                          floor=DIGEST_FLOOR)
    assert [a.id for a in asked] == [1, 2] and [a.id for a in linked] == [1]
