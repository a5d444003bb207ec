"""What a published channel shows on the web, read from the store: its digests, stories and
search. Only published channels are found, and only their own stories."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.digest.service import DigestService, subscribed_feed_ids
from bot.enrich.stories import Stories
from bot.filters.parse import Filter, FilterError, parse_filter
from bot.model import Article, Channel
from bot.store.deliveries import PastDigest, PastItem
from bot.store.store import Store

log = logging.getLogger(__name__)
RELATED = 5
SEARCH_CANDIDATES = 100  # matches looked at per search; the channel's filter then sorts them


@dataclass(frozen=True, slots=True)
class Published:
    """A published channel as the web sees it: its page token and what it may show."""

    token: str
    channel: Channel
    feed_ids: frozenset[int]
    flt: Filter | None

    def allows(self, article: Article) -> bool:
        """Whether the story comes from the channel's feeds and passes its filter."""
        return article.feed_id in self.feed_ids and (self.flt is None or self.flt.matches(article))


@dataclass(frozen=True, slots=True)
class PageItem:
    """One story of a digest: its lead article and the other outlets that told it."""

    article: Article
    also: tuple[Article, ...] = ()


@dataclass(frozen=True, slots=True)
class PageDigest:
    """A past digest with the stories still stored."""

    id: int
    title: str
    created: datetime
    items: tuple[PageItem, ...]


@dataclass(frozen=True, slots=True)
class StoryPage:
    """One story: the article, other outlets on the same story, related stories."""

    article: Article
    also: tuple[Article, ...]
    related: tuple[Article, ...]


class Reader:
    """Reads published channels; every method answers None or nothing for what the channel
    may not show."""

    def __init__(self, store: Store, digests: DigestService, stories: Stories) -> None:
        self._store = store
        self._digests = digests
        self._stories = stories

    async def published(self, token: str) -> Published | None:
        """The channel published under this token, or None."""
        channel_id = await self._store.channels.channel_of_page(token)
        if channel_id is None:
            return None
        channel = await self._digests.channel(channel_id)
        feeds = await self._store.feeds.active_feeds()
        return Published(token, channel, frozenset(subscribed_feed_ids(channel, feeds)),
                         _filter(channel))

    async def digests(self, page: Published, *, limit: int,
                      before_id: int | None = None) -> list[PageDigest]:
        """The channel's newest digests (older than `before_id` when given), with stories."""
        past = await self._store.deliveries.past_digests(page.channel.id, limit=limit,
                                                         before_id=before_id)
        return await self._with_items(past)

    async def past_list(self, page: Published, *, limit: int,
                        before_id: int | None = None) -> list[PastDigest]:
        """The channel's digests, newest first, without their stories (for lists)."""
        return await self._store.deliveries.past_digests(page.channel.id, limit=limit,
                                                         before_id=before_id)

    async def digest(self, page: Published, digest_id: int) -> PageDigest | None:
        """One of the channel's digests, or None."""
        past = await self._store.deliveries.past_digest(page.channel.id, digest_id)
        if past is None:
            return None
        return (await self._with_items([past]))[0]

    async def neighbours(self, page: Published, digest_id: int) -> tuple[int | None, int | None]:
        """The ids of the digests just older and just newer than this one (None: none)."""
        older = await self._store.deliveries.past_digests(page.channel.id, limit=1,
                                                          before_id=digest_id)
        newer = await self._store.deliveries.newer_digest(page.channel.id, digest_id)
        return (older[0].id if older else None), newer

    async def _with_items(self, past: Sequence[PastDigest]) -> list[PageDigest]:
        rows = await self._store.deliveries.past_items([d.id for d in past])
        articles = {a.id: a for a in await self._store.articles.by_ids(
            sorted({r.article_id for r in rows}))}
        return [PageDigest(d.id, d.title, d.created, _items([r for r in rows
                                                             if r.digest_id == d.id], articles))
                for d in past]

    async def story(self, page: Published, article_id: int) -> StoryPage | None:
        """A story the channel had in a digest or may show (its feeds, its filter), else None."""
        found = await self._store.articles.by_ids([article_id])
        if not found or not await self._may_show(page, found[0]):
            return None
        article = found[0]
        members = await self._store.articles.story_members(article.cluster_id)
        also = [a for a in members if a.id != article.id and await self._may_show(page, a)]
        related = await self._stories.related_to(article, k=RELATED * 3)
        return StoryPage(article, tuple(also),
                         tuple([a for a in related if page.allows(a)][:RELATED]))

    async def _may_show(self, page: Published, article: Article) -> bool:
        if page.allows(article):
            return True
        return bool(await self._store.deliveries.sent_among(page.channel.id, [article.id]))

    async def search(self, page: Published, words: str, *, limit: int) -> list[Article]:
        """The channel's stories matching every word, best first: its feeds, its filter."""
        found = await self._store.articles.search_feeds(words, sorted(page.feed_ids),
                                                        limit=SEARCH_CANDIDATES)
        return [a for a in found if page.allows(a)][:limit]


def _items(rows: Sequence[PastItem], articles: dict[int, Article]) -> tuple[PageItem, ...]:
    """A digest's rows (by place, lead first) -> its items; articles pruned since are left
    out, and an item whose lead is gone is left out with its other outlets."""
    items: list[PageItem] = []
    lead: Article | None = None
    also: list[Article] = []
    position = -1
    for row in [*rows, PastItem(0, -2, 0, True)]:  # a sentinel closes the last item
        if row.position != position:
            if lead is not None:
                items.append(PageItem(lead, tuple(also)))
            lead, also, position = None, [], row.position
        article = articles.get(row.article_id)
        if article is None:
            continue
        if row.lead:
            lead = article
        else:
            also.append(article)
    return tuple(items)


def _filter(channel: Channel) -> Filter | None:
    """The channel's filter; a broken one is logged and ignored (as digests do)."""
    if not channel.filter.strip():
        return None
    try:
        return parse_filter(channel.filter)
    except FilterError as error:
        log.warning("channel %s: filter %r ignored on the web: %s", channel.id,
                    channel.filter, error)
        return None
