"""Tests for composing a digest: filtering, grouping by story, ranking and capping."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from bot.digest.compose import compose_digest, digest_title, recency
from bot.filters.parse import Filter, parse_filter
from bot.model import Article, Channel, Digest, Fairness, Link

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FEEDS = {1: "Reuters", 2: "BBC", 3: "Tabloid", 4: "AP"}
FEEDS.update({n: f"Tech blog {n}" for n in range(10, 20)})


def article(
    id: int,
    *,
    hours_ago: float = 1.0,
    feed: int = 1,
    cluster: int = 0,
    summary: str = "A summary.",
    tags: tuple[str, ...] = (),
) -> Article:
    """A story `hours_ago` before NOW from feed number `feed`."""
    return Article(
        id=id,
        feed_id=feed,
        feed_name=FEEDS[feed],
        url=f"https://example.org/{id}",
        title=f"Story {id}",
        summary=summary,
        first_seen=NOW - timedelta(hours=hours_ago),
        tags=tags,
        cluster_id=cluster,
    )


def compose(
    candidates: list[Article],
    *,
    max_items: int = 10,
    first: bool = False,
    flt: Filter | None = None,
    feed_weights: Mapping[int, float] = MappingProxyType({}),
    related: Mapping[int, Sequence[Link]] = MappingProxyType({}),
    fairness: Fairness = "round-robin",
) -> Digest:
    """compose_digest for a console channel at NOW."""
    return compose_digest(
        Channel("console", max_items=max_items, fairness=fairness),
        candidates,
        now=NOW,
        title="Digest",
        flt=flt,
        first=first,
        feed_weights=feed_weights,
        related=related,
    )


def lead_ids(digest: Digest) -> list[int]:
    """The lead article ids of a digest's items, in order."""
    return [item.article.id for item in digest.items]


def test_cluster_becomes_one_item_with_other_outlets_as_also_links() -> None:
    """A cluster's articles form one item; other feeds appear once each as `also` links."""
    digest = compose(
        [
            article(1, hours_ago=3, feed=1, cluster=9),
            article(2, hours_ago=2, feed=2, cluster=9),
            article(3, hours_ago=1, feed=2, cluster=9),
            article(4, hours_ago=1, feed=4, cluster=9),
        ]
    )
    (item,) = digest.items
    assert (item.article.id, item.also) == (
        1,
        (
            Link("Story 2", "https://example.org/2", source="BBC"),
            Link("Story 4", "https://example.org/4", source="AP"),
        ),
    )


def test_unclustered_articles_are_separate_items() -> None:
    """Articles with cluster id 0 are never grouped together."""
    digest = compose([article(1), article(2, feed=2)])
    assert sorted(lead_ids(digest)) == [1, 2]


def test_lead_is_the_earliest_article_with_a_summary() -> None:
    """A title-only first report gives way to the earliest outlet with a summary."""
    digest = compose(
        [
            article(1, hours_ago=5, feed=1, cluster=3, summary=""),
            article(2, hours_ago=2, feed=2, cluster=3),
            article(3, hours_ago=4, feed=4, cluster=3),
        ]
    )
    assert lead_ids(digest) == [3]


def test_filter_drops_articles_that_fail_it() -> None:
    """Only candidates passing the channel's filter reach the digest."""
    candidates = [article(1, tags=("Politics",)), article(2, tags=("Sport",))]
    digest = compose(candidates, flt=parse_filter("tag:politics"))
    assert lead_ids(digest) == [1]


def test_story_covered_by_more_outlets_ranks_first() -> None:
    """At equal age, a story three outlets cover ranks above a single-outlet story."""
    candidates = [
        article(1, feed=1),
        article(2, feed=1, cluster=5),
        article(3, feed=2, cluster=5),
        article(4, feed=4, cluster=5),
    ]
    assert lead_ids(compose(candidates)) == [2, 1]


def test_newer_story_ranks_first_among_equals() -> None:
    """With equal coverage, the more recent story ranks first."""
    candidates = [article(1, hours_ago=8), article(2, hours_ago=2), article(3, hours_ago=5)]
    assert lead_ids(compose(candidates)) == [2, 3, 1]


@pytest.mark.parametrize(
    ("pair_hours_ago", "expected"),
    [(6, [10, 1]), (30, [1, 10])],
)
def test_coverage_is_weighed_against_age(pair_hours_ago: float, expected: list[int]) -> None:
    """Two outlets outweigh a fresh single story until the pair is over a half-life older."""
    candidates = [
        article(1, hours_ago=0),
        article(10, hours_ago=pair_hours_ago, feed=1, cluster=2),
        article(11, hours_ago=pair_hours_ago, feed=2, cluster=2),
    ]
    assert lead_ids(compose(candidates)) == expected


def test_feed_weight_multiplies_the_score() -> None:
    """A heavily weighted feed's older story outranks a newer one from a default feed."""
    candidates = [article(1, hours_ago=1, feed=1), article(2, hours_ago=10, feed=2)]
    assert lead_ids(compose(candidates, feed_weights={2: 3.0})) == [2, 1]


def test_ties_break_by_lower_id() -> None:
    """Stories equal in coverage, age and weight come in id order, deterministically."""
    candidates = [article(3), article(1), article(2)]
    assert lead_ids(compose(candidates)) == [1, 2, 3]


def test_items_are_capped_and_the_rest_counted_as_more() -> None:
    """At most max_items stories are shown; `more` counts the ones left out."""
    digest = compose([article(i, hours_ago=i) for i in range(1, 16)], max_items=10)
    assert (lead_ids(digest), digest.more) == (list(range(1, 11)), 5)


def ten_feeds_one_prolific() -> list[Article]:
    """Ten tech feeds: feed 10 has 50 fresh stories, the nine others 3 older ones each."""
    candidates = [article(i, hours_ago=i / 100, feed=10) for i in range(1, 51)]
    candidates += [article(100 + 10 * feed + n, hours_ago=2 + n, feed=feed)
                   for feed in range(11, 20) for n in range(3)]
    return candidates


def test_one_prolific_feed_does_not_dominate_the_digest() -> None:
    """Over ten feeds, one with 50 stories gets its fair share (2 of 20), not the digest."""
    digest = compose(ten_feeds_one_prolific(), max_items=20)
    per_feed = Counter(item.article.feed_id for item in digest.items)
    assert len(digest.items) == 20
    assert set(per_feed) == set(range(10, 20))
    assert max(per_feed.values()) == 2


def test_fair_digest_keeps_the_ranked_order() -> None:
    """The stories fairness picks are shown best first, as ranked."""
    digest = compose(ten_feeds_one_prolific(), max_items=10)
    shown = [item.article.when for item in digest.items]
    assert shown == sorted(shown, reverse=True)
    assert lead_ids(digest)[0] == 1


def test_a_feed_fills_places_no_other_feed_wants() -> None:
    """When the other feeds run out of stories, the prolific feed takes the free places."""
    candidates = [article(i, hours_ago=i, feed=1) for i in range(1, 9)]
    candidates += [article(20, hours_ago=30, feed=2)]
    digest = compose(candidates, max_items=5)
    assert lead_ids(digest) == [1, 2, 3, 4, 20]


def test_more_says_which_feeds_the_rest_came_from() -> None:
    """The stories left out are counted per feed, most first, in `more_from`."""
    digest = compose(ten_feeds_one_prolific(), max_items=20)
    assert digest.more == 50 + 27 - 20
    assert digest.more_from[0] == ("Tech blog 10", 48)
    assert dict(digest.more_from)["Tech blog 11"] == 1
    assert sum(count for _, count in digest.more_from) == digest.more


def test_fairness_none_lets_the_best_ranked_stories_in() -> None:
    """With fairness "none" the digest is the top of the ranking, whatever its feeds."""
    digest = compose(ten_feeds_one_prolific(), max_items=20, fairness="none")
    assert lead_ids(digest) == list(range(1, 21))
    others = [(f"Tech blog {n}", 3) for n in range(11, 20)]
    assert digest.more_from == (("Tech blog 10", 30), *others)


def test_digest_carries_the_channel_timezone() -> None:
    """The composed digest knows its channel's zone, so renderers show local times."""
    channel = Channel("console", timezone="Europe/Berlin")
    digest = compose_digest(channel, [article(1)], now=NOW, title="D", flt=None, first=False)
    assert digest.timezone == "Europe/Berlin"


def test_first_subscription_gets_only_the_newest_stories() -> None:
    """A brand-new subscription with 500 candidates gets the max_items newest, newest first,
    and no "+N more": a new channel's backlog is not news."""
    candidates = [article(i, hours_ago=i / 10, feed=1 + i % 4) for i in range(1, 501)]
    candidates += [article(1000, hours_ago=99, feed=1, cluster=7)]
    candidates += [article(1001, hours_ago=99, feed=2, cluster=7)]
    digest = compose(candidates, max_items=10, first=True)
    assert (lead_ids(digest), digest.more) == (list(range(1, 11)), 0)


def test_related_links_are_attached_to_the_lead() -> None:
    """Related stories given for the lead article's id are attached to its item."""
    links = [Link("Background", "https://example.org/bg")]
    digest = compose([article(1)], related={1: links})
    assert digest.items[0].related == tuple(links)


def test_digest_carries_channel_title_and_time() -> None:
    """The digest is addressed to the channel, titled as asked and stamped with `now`."""
    digest = compose([])
    assert (digest.channel_id, digest.title, digest.created, digest.items) == (
        "console",
        "Digest",
        NOW,
        (),
    )


def test_recency_halves_every_twelve_hours() -> None:
    """A story 12 hours old counts half as much as one from now."""
    assert recency(NOW - timedelta(hours=12), NOW) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("UTC", "News digest — Wed 25 Nov 2026"),
        ("Pacific/Auckland", "News digest — Thu 26 Nov 2026"),
        ("America/Los_Angeles", "News digest — Wed 25 Nov 2026"),
    ],
)
def test_digest_title_uses_the_local_date(tz: str, expected: str) -> None:
    """The digest title names the date as it is in the channel's timezone."""
    assert digest_title(NOW, tz) == expected


def test_digest_title_refuses_naive_time() -> None:
    """A naive datetime is refused rather than read as the machine's local time."""
    with pytest.raises(ValueError, match="aware"):
        digest_title(datetime(2026, 11, 25), "UTC")
