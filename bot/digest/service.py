"""Digests end to end: which channels are due, compose, write the outbox, deliver."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest.channels import ChannelBook
from bot.digest.compose import compose_digest, digest_title
from bot.digest.schedule import ScheduleError, parse_schedule
from bot.enrich.related import DIGEST_FLOOR
from bot.enrich.stories import Stories
from bot.filters.parse import Filter, FilterError, parse_filter
from bot.model import Article, Channel, Claimant, Digest, DigestItem, FeedState, Link
from bot.ports import ChannelGone, Clock, MessageRefused, Sender
from bot.store.db import StoreError
from bot.store.deliveries import PendingDigest, SlotTaken
from bot.store.store import Store

log = logging.getLogger(__name__)
CANDIDATES = 300  # newest stories considered per digest (a digest shows ten)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RELATED_PER_ITEM = 2
BREAKING_GAP = timedelta(minutes=5)  # at most one breaking-news post per channel this often
REFUSED_ROUNDS = 3  # rounds a platform may refuse a digest message for good before it fails
LANES = 8  # digests of different channels sent at once (each platform paces its own calls)


@dataclass(frozen=True, slots=True)
class DueDigest:
    """A channel whose digest slot has come."""

    channel: Channel
    slot: datetime


class DigestService:
    """Composes digests for channels and delivers them through the outbox."""

    def __init__(self, store: Store, stories: Stories, channels: ChannelBook,
                 clock: Clock, claimant: Claimant | None = None) -> None:
        self._store = store
        self._stories = stories
        self._book = channels
        self._clock = clock
        self._claimant = claimant or Claimant()
        self._senders: list[Sender] = []
        self._related: dict[int, tuple[Link, ...]] = {}
        self._recent: dict[tuple[tuple[int, ...], datetime | None], list[Article]] = {}
        self._feeds: list[FeedState] | None = None

    def add_sender(self, sender: Sender) -> None:
        """Let a platform adapter receive digests for its channels."""
        self._senders.append(sender)

    async def channels(self) -> list[Channel]:
        """Every channel: from the file and created from chat, with chat settings on top."""
        return await self._book.channels()

    async def channel(self, channel_id: str) -> Channel:
        """One channel as it stands now (file defaults, chat settings on top)."""
        return await self._book.channel(channel_id)

    async def start(self) -> None:
        """Give every configured channel its row, so its first digest slot is counted."""
        for channel_id in self._book.configured_ids:
            await self._store.channels.ensure(channel_id, self._clock())

    async def due(self, now: datetime) -> list[DueDigest]:
        """Channels whose newest slot since their last digest has come, oldest slot first."""
        found = []
        for channel in await self.channels():
            since = (await self._store.channels.last_digest(channel.id)
                     or await self._store.channels.created(channel.id) or now)
            try:
                slot = parse_schedule(channel.digest, channel.timezone).latest_due(since, now)
            except ScheduleError as error:
                log.warning("channel %s: bad schedule: %s", channel.id, error)
                continue
            if slot is not None and await self._sender(channel.id) is not None:
                found.append(DueDigest(channel, slot))
        return sorted(found, key=lambda d: (d.slot, d.channel.id))

    async def _sender(self, channel_id: str, *, owned: bool = True) -> Sender | None:
        """The platform that posts to this channel unless it is paused; with `owned`, only
        when this process owns the channel (each digest goes out from one process, while a
        notice goes out from the process that has the news)."""
        sender = next((s for s in self._senders if s.handles(channel_id)), None)
        if sender is None or (owned and not await sender.owns(channel_id)):
            return None
        return None if await self._store.channels.paused_reason(channel_id) else sender

    async def compose(self, channel: Channel, now: datetime) -> Digest:
        """The channel's next digest as it would be now (nothing is recorded)."""
        last = await self._store.channels.last_digest(channel.id)
        candidates = await self._candidates(channel, last)
        flt = _filter(channel.id, channel.filter)
        digest = compose_digest(channel, candidates, now=now, flt=flt, first=last is None,
                                title=digest_title(now, channel.timezone))
        return replace(digest, items=tuple([await self._with_related(i) for i in digest.items]))

    async def _candidates(self, channel: Channel, since: datetime | None) -> list[Article]:
        """The channel's undelivered stories; channels following the same feeds since the
        same slot share one query per round, then drop what each has already had."""
        if self._feeds is None:
            self._feeds = await self._store.feeds.active_feeds()
        key = (tuple(subscribed_feed_ids(channel, self._feeds)), since)
        if key not in self._recent:
            self._recent[key] = await self._store.articles.recent(
                key[0], since=since or EPOCH, limit=CANDIDATES)
        recent = self._recent[key]
        sent = await self._store.deliveries.sent_among(channel.id, [a.id for a in recent])
        return [a for a in recent if a.id not in sent]

    def _new_round(self) -> None:
        """Forget what one round of digests shared (stories and related links)."""
        self._recent.clear()
        self._related.clear()
        self._feeds = None

    async def _with_related(self, item: DigestItem) -> DigestItem:
        links = self._related.get(item.article.id)
        if links is None:  # many channels share top stories: look each up once per round
            found = await self._stories.related_to(item.article, k=RELATED_PER_ITEM,
                                                   floor=DIGEST_FLOOR)
            links = tuple(Link(a.title, a.url, source=a.feed_name) for a in found if a.url)
            self._related[item.article.id] = links
        return replace(item, related=links)

    async def run_due(self) -> int:
        """Send what earlier rounds left in the outbox (each digest tried once a round), then
        breaking news and every due digest; returns how many posts went out."""
        now = self._clock()
        self._new_round()
        sent = await self.deliver_pending()
        sent += await self.run_breaking(now)
        return sent + await _in_lanes([self._post_due(due, now) for due in await self.due(now)])

    async def _post_due(self, due: DueDigest, now: datetime) -> int:
        return await self._post(due.channel, await self.compose(due.channel, now), due.slot)

    async def post_now(self, channel_id: str) -> Digest:
        """Compose and deliver this channel's digest right away (the `digest` command)."""
        channel = await self.channel(channel_id)
        self._new_round()
        digest = await self.compose(channel, self._clock())
        await self._post(channel, digest, self._clock(), once=False)
        return digest

    async def run_breaking(self, now: datetime) -> int:
        """Post stories matching a channel's `breaking` filter as they arrive, batched."""
        sent = 0
        feeds = await self._store.feeds.active_feeds()
        for channel in await self.channels():
            breaking = _filter(channel.id, channel.breaking)
            last = await self._store.channels.last_breaking(channel.id)
            if breaking is None or (last and now - last < BREAKING_GAP):
                continue
            if await self._sender(channel.id) is None:
                continue
            since = last or await self._store.channels.created(channel.id)
            found = await self._store.articles.undelivered(
                channel.id, subscribed_feed_ids(channel, feeds), since=since, limit=CANDIDATES)
            flt = _filter(channel.id, channel.filter)
            urgent = [a for a in found if breaking.matches(a) and (flt is None or flt.matches(a))]
            if urgent:
                digest = compose_digest(channel, urgent, now=now, flt=None, first=False,
                                        title=breaking_title(now, channel.timezone))
                sent += await self._post(channel, digest, now, breaking=True)
        return sent

    async def _post(self, channel: Channel, digest: Digest, slot: datetime,
                    breaking: bool = False, once: bool = True) -> int:
        """Write the digest to the outbox, then deliver it (or close it when empty); with
        `once`, only when no process has written the channel's digest for `slot` yet."""
        await self._store.channels.ensure(channel.id, self._clock())
        if not digest.items and channel.post_empty:
            digest = replace(digest, title=f"{digest.title}: nothing new since the last digest")
        try:
            digest_id = await self._store.deliveries.enqueue(
                digest, slot, breaking=breaking, claimant=self._claimant, now=self._clock(),
                once=once)
        except SlotTaken:  # another process composed this slot first: it sends it
            return 0
        if digest.items or channel.post_empty:
            return await self._deliver(digest_id, digest, tuple(range(len(digest.items))))
        await self._store.deliveries.finish(digest_id, self._clock())
        return 0

    async def deliver_pending(self) -> int:
        """Send what the outbox still holds (after a crash, restart or platform error): the
        digests of channels this process owns that no live process has claimed."""
        owned = [channel_id for channel_id in await self._store.deliveries.pending_channels()
                 if await self._sender(channel_id) is not None]  # not another's, not paused
        claimed = await self._store.deliveries.claim_pending(self._claimant, self._clock(),
                                                             owned)
        return await _in_lanes([self._redeliver(pending) for pending in claimed])

    async def _redeliver(self, pending: PendingDigest) -> int:
        return await self._deliver(pending.id, await self._rebuild(pending),
                                   tuple(item.position for item in pending.items))

    async def _rebuild(self, pending: PendingDigest) -> Digest:
        ids = [item.article_id for item in pending.items]
        articles = {a.id: a for a in await self._store.articles.by_ids(ids)}
        items = tuple(DigestItem(articles[i]) for i in ids if i in articles)
        channel = await self.channel(pending.channel_id)
        return Digest(channel_id=pending.channel_id, title=pending.title,
                      created=pending.created, items=items, more=pending.more,
                      more_from=pending.more_from, timezone=channel.timezone)

    async def _deliver(self, digest_id: int, digest: Digest, positions: tuple[int, ...]) -> int:
        sender = await self._sender(digest.channel_id)
        if sender is None:
            return 0

        async def sent(indices: Sequence[int], message_id: str) -> None:
            await self._store.deliveries.mark_sent(
                digest_id, [positions[i] for i in indices], message_id, self._clock())

        renewing = asyncio.create_task(self._keep_claim(digest_id))
        try:
            await sender.send_digest(digest.channel_id, digest, sent)
        except ChannelGone as error:
            log.warning("channel %s paused: %s", digest.channel_id, error)
            await self._store.channels.set_paused(digest.channel_id, str(error))
            return 0
        except MessageRefused as error:
            await self._refused(digest_id, digest.channel_id, str(error))
            return 0
        except Exception:
            log.exception("delivering a digest to %s failed; it stays in the outbox",
                          digest.channel_id)
            return 0
        finally:
            renewing.cancel()
        await self._store.deliveries.finish(digest_id, self._clock())
        return 1

    async def _keep_claim(self, digest_id: int) -> None:
        """Every third of the lease, renew the claim on a digest being sent: a message held
        up longer than the lease (a platform's flood wait) never lets another process take
        the digest over and post it again; only a process that died loses it."""
        while True:
            await asyncio.sleep(self._claimant.lease.total_seconds() / 3)
            try:
                await self._store.deliveries.renew(digest_id, self._claimant, self._clock())
            except StoreError as error:
                log.warning("can't renew the claim on the digest being sent: %s", error)

    async def _refused(self, digest_id: int, channel_id: str, reason: str) -> None:
        """Count a refused round; at REFUSED_ROUNDS the digest fails and, once, the channel's
        moderators are told why (a failed digest is never tried again)."""
        rounds = await self._store.deliveries.count_refusal(digest_id, reason)
        if rounds < REFUSED_ROUNDS:
            log.warning("channel %s refused a digest message (round %d of %d, tried again "
                        "next round): %s", channel_id, rounds, REFUSED_ROUNDS, reason)
            return
        await self._store.deliveries.mark_failed(digest_id, reason, self._clock())
        log.error("channel %s refused a digest message in %d rounds; the digest is "
                  "given up: %s", channel_id, rounds, reason)
        await self.notify(channel_id, "A digest message could not be posted here: "
                          f"{reason.rstrip('.')}. "
                          "Its stories were skipped; the next digest comes as usual.")

    async def notify_feed(self, feed: FeedState, text: str) -> int:
        """Post a notice about a feed to every channel following it; how many were told."""
        feeds = await self._store.feeds.active_feeds()
        told = 0
        for channel in await self.channels():
            if feed.id in subscribed_feed_ids(channel, feeds):
                told += await self.notify(channel.id, text)
        return told

    async def notify(self, channel_id: str, text: str) -> int:
        """Post a one-line notice (a digest title without stories); 1 if it went out. Any
        process may: notices come from one process's event (a feed it polled failing)."""
        sender = await self._sender(channel_id, owned=False)
        if sender is None:
            return 0

        async def sent(indices: Sequence[int], message_id: str) -> None:
            return None  # a notice is not in the outbox: nothing to mark

        try:
            await sender.send_digest(channel_id, Digest(channel_id, text, self._clock()), sent)
        except Exception:
            log.exception("a notice to %s was not delivered", channel_id)
            return 0
        return 1


def breaking_title(now: datetime, timezone: str) -> str:
    """A breaking post's heading, the time in the channel's zone: "Breaking — 13:05 CET"."""
    return f"Breaking — {now.astimezone(ZoneInfo(timezone)):%H:%M %Z}"


def _filter(channel_id: str, text: str) -> Filter | None:
    """A channel's stored filter; a broken one is logged and ignored, never fatal."""
    if not text.strip():
        return None
    try:
        return parse_filter(text)
    except FilterError as error:
        log.warning("channel %s: filter %r ignored: %s", channel_id, text, error)
        return None


def subscribed_feed_ids(channel: Channel, feeds: Sequence[FeedState]) -> list[int]:
    """The ids of the active feeds a channel follows, by name or URL.

    "*" means every feed of the config file plus those this channel added: a feed that
    another community added from its chat never shows up here uninvited.
    """
    wanted = set(channel.feeds)
    every = "*" in wanted
    return [feed.id for feed in feeds
            if feed.name in wanted or feed.url in wanted
            or (every and feed.origin in ("config", channel.id))]


async def _in_lanes(posts: Sequence[Coroutine[Any, Any, int]]) -> int:
    """Run the posts of different channels, LANES at a time; how many went out. A failure
    (the database gone) fails the round once the others are done, as one post alone would."""
    lanes = asyncio.Semaphore(LANES)

    async def one(post: Coroutine[Any, Any, int]) -> int:
        async with lanes:
            return await post

    done = await asyncio.gather(*(one(post) for post in posts), return_exceptions=True)
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    return sum(outcome for outcome in done if isinstance(outcome, int))
