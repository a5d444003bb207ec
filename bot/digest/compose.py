"""Composing a digest: filter a channel's candidates, group them by story, rank and cap them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bot.filters.parse import Filter
from bot.model import Article, Channel, Digest, DigestItem, Link

HALF_LIFE_HOURS = 12.0
_NO_WEIGHTS: Mapping[int, float] = MappingProxyType({})
_NO_RELATED: Mapping[int, Sequence[Link]] = MappingProxyType({})
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Story:
    """The articles of one story (one cluster, or one unclustered article), lead first."""

    lead: Article
    others: tuple[Article, ...]  # the other articles, oldest first
    outlets: int  # distinct feeds covering the story
    newest: datetime  # the latest `when` among its articles

    @property
    def also(self) -> tuple[Link, ...]:
        """One link per other outlet: each feed's first article, lead's feed left out."""
        return other_outlets(self.lead, self.others)


def other_outlets(lead: Article, others: Sequence[Article]) -> tuple[Link, ...]:
    """One link per outlet other than the lead's: each feed's first article of `others`."""
    seen = {lead.feed_id}
    links: list[Link] = []
    for article in others:
        if article.feed_id not in seen:
            seen.add(article.feed_id)
            links.append(Link(article.title, article.url, source=article.feed_name))
    return tuple(links)


def compose_digest(
    channel: Channel,
    candidates: Sequence[Article],
    *,
    now: datetime,
    title: str,
    flt: Filter | None,
    first: bool,
    feed_weights: Mapping[int, float] = _NO_WEIGHTS,
    related: Mapping[int, Sequence[Link]] = _NO_RELATED,
) -> Digest:
    """The channel's digest of `candidates` passing `flt`, best stories first, capped.

    With the channel's "round-robin" fairness, feeds take turns for the places (see
    `take_fairly`). A brand-new subscription (`first`) gets only its newest `max_items`
    stories, newest first, so it never floods the channel.
    """
    kept = candidates if flt is None else [a for a in candidates if flt.matches(a)]
    stories = group_stories(kept)
    if first:
        ranked = sorted(stories, key=_newest_first)
    else:
        ranked = rank_stories(stories, now=now, feed_weights=feed_weights)
    limit = max(channel.max_items, 0)
    shown = take_fairly(ranked, limit) if channel.fairness == "round-robin" else ranked[:limit]
    items = tuple(
        DigestItem(s.lead, also=s.also, related=tuple(related.get(s.lead.id, ())),
                   also_ids=tuple(a.id for a in s.others))
        for s in shown
    )
    picked = {id(s) for s in shown}
    left = [] if first else [s for s in ranked if id(s) not in picked]  # a backlog is not news
    return Digest(channel.id, title, now, items, more=len(left), more_from=count_by_feed(left),
                  timezone=channel.timezone)


def take_fairly(ranked: Sequence[Story], limit: int) -> list[Story]:
    """Up to `limit` stories taken round-robin by feed, shown in their ranked order.

    Each round gives every feed its next best story, feeds in the order of those stories'
    ranks; so no feed gets a second place while another feed still has a story waiting.
    """
    turns: Counter[int] = Counter()
    keyed: list[tuple[int, int]] = []  # (the story's turn within its feed, its rank)
    for rank, story in enumerate(ranked):
        keyed.append((turns[story.lead.feed_id], rank))
        turns[story.lead.feed_id] += 1
    taken = sorted(rank for _, rank in sorted(keyed)[:limit])
    return [ranked[rank] for rank in taken]


def count_by_feed(stories: Sequence[Story]) -> tuple[tuple[str, int], ...]:
    """How many of `stories` each feed leads, most first, ties by feed name."""
    counts = Counter(story.lead.feed_name for story in stories)
    return tuple(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def one_per_story(found: Sequence[Article], members: Mapping[int, Sequence[Article]],
                  limit: int) -> tuple[DigestItem, ...]:
    """Lookup results (a search, the latest stories) as at most `limit` items, one per story,
    in the order the stories first come up: the first article found of each is shown and the
    story's other outlets (`members`: its stored articles by cluster id) are its "also"."""
    items: list[DigestItem] = []
    seen: set[int] = set()
    for article in found:
        if len(items) == limit:
            break
        if article.cluster_id in seen:
            continue
        if article.cluster_id:
            seen.add(article.cluster_id)
        others = sorted((a for a in members.get(article.cluster_id, ()) if a.id != article.id),
                        key=lambda a: (a.when, a.id))
        items.append(DigestItem(article, also=other_outlets(article, others)))
    return tuple(items)


def group_stories(articles: Sequence[Article]) -> list[Story]:
    """One Story per cluster id; each unclustered article (cluster 0) is a story of its own."""
    clusters: dict[int, list[Article]] = {}
    singles: list[Story] = []
    for article in articles:
        if article.cluster_id == 0:
            singles.append(Story(article, (), 1, article.when))
        else:
            clusters.setdefault(article.cluster_id, []).append(article)
    return singles + [_story(members) for members in clusters.values()]


def _story(members: list[Article]) -> Story:
    """The lead is the earliest article with a summary, else the earliest one."""
    lead = min(members, key=lambda a: (a.summary == "", a.when, a.id))
    others = sorted((a for a in members if a is not lead), key=lambda a: (a.when, a.id))
    outlets = len({a.feed_id for a in members})
    return Story(lead, tuple(others), outlets, max(a.when for a in members))


def rank_stories(
    stories: Sequence[Story], *, now: datetime, feed_weights: Mapping[int, float] = _NO_WEIGHTS
) -> list[Story]:
    """Best first: outlets x recency decay x the best feed weight; ties newer, then lower id."""

    def key(story: Story) -> tuple[float, float, int]:
        score = story.outlets * recency(story.newest, now) * _weight(story, feed_weights)
        return (-score, -story.newest.timestamp(), story.lead.id)

    return sorted(stories, key=key)


def recency(when: datetime, now: datetime, half_life_hours: float = HALF_LIFE_HOURS) -> float:
    """1.0 for a story from `now` (or the future), halving every `half_life_hours` before it."""
    age_hours = max((now - when).total_seconds(), 0.0) / 3600.0
    return float(0.5 ** (age_hours / half_life_hours))


def _weight(story: Story, feed_weights: Mapping[int, float]) -> float:
    feeds = {story.lead.feed_id, *(a.feed_id for a in story.others)}
    return max(feed_weights.get(feed_id, 1.0) for feed_id in feeds)


def _newest_first(story: Story) -> tuple[float, int]:
    return (-story.newest.timestamp(), story.lead.id)


def digest_title(now: datetime, tz: str) -> str:
    """The digest's heading for the local date in `tz`, e.g. "News digest — Wed 25 Nov 2026".

    Day and month names are English whatever the process locale.
    """
    if now.tzinfo is None:
        raise ValueError("digest_title needs an aware datetime")
    local = now.astimezone(ZoneInfo(tz))
    day, month = _DAYS[local.weekday()], _MONTHS[local.month - 1]
    return f"News digest — {day} {local.day} {month} {local.year}"
