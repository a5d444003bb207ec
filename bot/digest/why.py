"""Why a story was or was not in a channel's digest, in words a moderator can act on."""

from __future__ import annotations

from bot.digest.local_time import format_local
from bot.digest.schedule import parse_schedule
from bot.digest.service import DigestService, subscribed_feed_ids
from bot.feeds.canonical import canonical_url
from bot.filters.parse import FilterError, explain, parse_filter
from bot.model import Article, Channel
from bot.ports import Clock
from bot.store.store import Store


class Why:
    """Explains one article's fate in one channel."""

    def __init__(self, store: Store, digests: DigestService, clock: Clock) -> None:
        self._store = store
        self._digests = digests
        self._clock = clock

    async def explain_url(self, channel_id: str, url: str) -> str:
        """The reasons for the story behind `url` in this channel, times in its timezone."""
        article = await self._store.articles.by_url(canonical_url(url) or url.strip())
        if article is None:
            return "I have no story with that link. Is its feed one I poll? See /feed list."
        channel = await self._digests.channel(channel_id)
        return f"“{article.title}” ({article.feed_name}): {await self._reason(channel, article)}"

    async def _reason(self, channel: Channel, article: Article) -> str:
        deliveries = self._store.deliveries
        sent = await deliveries.delivered_at(channel.id, article.id)
        if sent is not None:
            return f"posted here on {format_local(sent, channel.timezone)}."
        feeds = await self._store.feeds.active_feeds()
        if article.feed_id not in subscribed_feed_ids(channel, feeds):
            return "this channel does not follow its feed. /subscribe adds it."
        if article.cluster_id:
            twin = await deliveries.delivered_in_cluster(channel.id, article.cluster_id)
            if twin is not None:
                [other] = await self._store.articles.by_ids([twin])
                return f"the same story was already posted here from {other.feed_name}."
        verdict = self._filter_verdict(channel, article)
        if verdict:
            return verdict
        last = await self._store.channels.last_digest(channel.id)
        if last is not None and article.first_seen <= last:
            turns = "; feeds take turns for the places" if channel.fairness != "none" else ""
            return ("it arrived before the last digest but did not make its top "
                    f"{channel.max_items} (it was among the “more” stories{turns}).")
        upcoming = parse_schedule(channel.digest, channel.timezone).next_after(self._clock())
        when = format_local(upcoming, channel.timezone) if upcoming else "the next digest"
        return f"it passes and is waiting for the next digest ({when}), if it ranks high enough."

    @staticmethod
    def _filter_verdict(channel: Channel, article: Article) -> str:
        if not channel.filter.strip():
            return ""
        try:
            result = explain(parse_filter(channel.filter), article)
        except FilterError as error:
            return f"the channel's filter is broken and ignored: {error}"
        return "" if result.passed else f"the channel's filter left it out: {result}."
