"""Digests through the outbox: due slots, crash between send and mark, paused channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.digest.channels import ChannelBook
from bot.digest.service import LANES, REFUSED_ROUNDS, DigestService
from bot.enrich.stories import Stories
from bot.model import Channel, Digest, FeedSpec, NewArticle
from bot.ports import ChannelGone, MessageRefused, SentCallback
from bot.store.store import Location, Store, open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class RecordingSender:
    """A chat platform at the seam: posts one message per item, can fail on cue."""

    messages: list[list[int]] = field(default_factory=list)  # article ids per message
    titles: list[str] = field(default_factory=list)  # every digest it was handed
    digests: list[Digest] = field(default_factory=list)
    crash_before_mark: int | None = None  # message number whose mark never happens
    gone: bool = False
    refuse: str = ""  # the reason it refuses every digest with stories, for good
    refused: int = 0  # how many digests it refused
    owner: bool = True  # False: another process posts to the channel

    def handles(self, channel_id: str) -> bool:
        return channel_id == "console"

    async def owns(self, channel_id: str) -> bool:
        return self.owner

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        if self.gone:
            raise ChannelGone("Missing Access")
        if self.refuse and digest.items:
            self.refused += 1
            raise MessageRefused(self.refuse)
        self.titles.append(digest.title)
        self.digests.append(digest)
        for index, item in enumerate(digest.items):
            if self.crash_before_mark and len(self.messages) >= self.crash_before_mark:
                raise RuntimeError("this process is dead")
            self.messages.append([item.article.id])
            if len(self.messages) == self.crash_before_mark:
                raise RuntimeError("killed between send and mark")
            await sent([index], f"m{len(self.messages)}")

    @property
    def sent_ids(self) -> list[int]:
        return [i for message in self.messages for i in message]


@dataclass
class Rig:
    """A real store with one feed and a clock the test moves."""

    store: Store
    feed_id: int
    now: datetime = NOW

    def service(self, channel: Channel, sender: RecordingSender) -> DigestService:
        service = DigestService(self.store, Stories(self.store.articles, self.clock),
                                ChannelBook(self.store.channels, [channel], "UTC"), self.clock)
        service.add_sender(sender)
        return service

    def clock(self) -> datetime:
        return self.now

    async def add(self, count: int, prefix: str = "s") -> None:
        items = [NewArticle(dedup_key=f"{prefix}{i}", url=f"https://x.example/{prefix}{i}",
                            title=f"Story {prefix}{i} about topic{i}", summary="Words.",
                            published=self.now - timedelta(minutes=i)) for i in range(count)]
        await self.store.articles.add_articles(self.feed_id, items, self.now)


@pytest.fixture
async def rig(database: Location) -> AsyncIterator[Rig]:
    """A store (on each engine) with one feed."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://x.example/rss", name="X")])
        [feed] = await store.feeds.active_feeds()
        yield Rig(store, feed.id)


CHANNEL = Channel(id="console", digest="every 6h", max_items=5)


async def test_due_digest_is_posted_once(rig: Rig) -> None:
    """A due slot posts one digest; running again before the next slot posts nothing."""
    sender = RecordingSender()
    service = rig.service(CHANNEL, sender)
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(3)
    assert await service.run_due() == 1
    assert await service.run_due() == 0
    assert len(sender.sent_ids) == 3


async def test_channel_of_another_process_is_left_to_it(rig: Rig) -> None:
    """A due channel this process does not own gets no digest here, not even in the
    outbox; the owning process posts it."""
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(3)
    elsewhere = RecordingSender(owner=False)
    assert await rig.service(CHANNEL, elsewhere).run_due() == 0
    assert elsewhere.titles == [] and await rig.store.deliveries.pending() == []
    owner = RecordingSender()
    assert await rig.service(CHANNEL, owner).run_due() == 1
    assert len(owner.sent_ids) == 3


async def test_outbox_of_another_process_is_left_to_it(rig: Rig) -> None:
    """A digest left in the outbox is resent only by the process owning its channel."""
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(2)
    await rig.service(CHANNEL, RecordingSender(crash_before_mark=1)).run_due()
    elsewhere = RecordingSender(owner=False)
    assert await rig.service(CHANNEL, elsewhere).deliver_pending() == 0
    assert elsewhere.messages == [] and len(await rig.store.deliveries.pending()) == 1
    assert await rig.service(CHANNEL, RecordingSender()).deliver_pending() == 1


async def test_notice_goes_out_from_a_process_not_owning_the_channel(rig: Rig) -> None:
    """A notice (a feed failing in the poll of this process) is posted whoever owns the
    channel: only this process knows of it."""
    elsewhere = RecordingSender(owner=False)
    assert await rig.service(CHANNEL, elsewhere).notify("console", "The feed failed.") == 1
    assert elsewhere.titles == ["The feed failed."]


async def test_first_digest_never_floods(rig: Rig) -> None:
    """A new channel's first digest holds at most max_items of 500 stories."""
    sender = RecordingSender()
    service = rig.service(CHANNEL, sender)
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(500)
    await service.run_due()
    assert len(sender.sent_ids) == 5


async def test_later_flood_is_capped_with_more(rig: Rig) -> None:
    """300 new stories after the first digest give max_items and "+295 more"."""
    sender = RecordingSender()
    service = rig.service(CHANNEL, sender)
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(1, prefix="first")
    await service.run_due()
    rig.now = NOW + timedelta(hours=6, minutes=1)
    await rig.add(300)
    digest = await service.compose(CHANNEL, rig.now)
    assert (len(digest.items), digest.more) == (5, 295)


async def test_crash_between_send_and_mark_loses_nothing(rig: Rig) -> None:
    """Killed after sending message 2 but before marking it: the restart sends 2 again
    (the one message in flight) and the rest, and never an item marked sent."""
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(4)
    crashing = RecordingSender(crash_before_mark=2)
    await rig.service(CHANNEL, crashing).run_due()
    assert len(crashing.messages) == 2
    restarted = RecordingSender()
    await rig.service(CHANNEL, restarted).deliver_pending()
    marked, in_flight = crashing.sent_ids
    assert restarted.sent_ids[0] == in_flight and marked not in restarted.sent_ids
    assert len(set(crashing.sent_ids) | set(restarted.sent_ids)) == 4
    assert await rig.store.deliveries.pending() == []


async def test_resent_digest_keeps_its_more_feeds_and_timezone(rig: Rig) -> None:
    """A digest resent from the outbox after a crash still says which feeds its "+N more"
    stories came from, and shows times in the channel's zone."""
    channel = Channel(id="console", digest="every 6h", max_items=2, timezone="Europe/Berlin")
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(1, prefix="first")
    await rig.service(channel, RecordingSender()).run_due()
    rig.now = NOW + timedelta(hours=6, minutes=1)
    await rig.add(5)
    await rig.service(channel, RecordingSender(crash_before_mark=1)).run_due()
    restarted = RecordingSender()
    await rig.service(channel, restarted).deliver_pending()
    [digest] = restarted.digests
    assert (digest.more, digest.more_from, digest.timezone) == (3, (("X", 3),), "Europe/Berlin")


async def test_gone_channel_is_paused_and_keeps_its_digest(rig: Rig) -> None:
    """A channel the platform refuses is paused with the reason; its digest stays queued."""
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(2)
    await rig.service(CHANNEL, RecordingSender(gone=True)).run_due()
    assert await rig.store.channels.paused_reason("console") == "Missing Access"
    assert len(await rig.store.deliveries.pending()) == 1


async def test_filter_decides_what_is_composed(rig: Rig) -> None:
    """Only stories passing the channel's filter are in its digest."""
    await rig.add(3)
    channel = Channel(id="console", filter="title:topic1", max_items=5)
    digest = await rig.service(channel, RecordingSender()).compose(channel, NOW)
    assert [item.article.title for item in digest.items] == ["Story s1 about topic1"]




async def test_breaking_news_is_posted_as_it_arrives_batched(rig: Rig) -> None:
    """Stories matching the breaking filter go out at once, at most one post per 5 minutes,
    and are not repeated in the next digest."""
    channel = Channel(id="console", digest="daily 08:00", breaking="title:topic1 or title:topic2")
    sender = RecordingSender()
    service = rig.service(channel, sender)
    await rig.store.channels.ensure("console", NOW - timedelta(minutes=1))
    await rig.add(3)
    assert await service.run_due() == 1
    assert len(sender.sent_ids) == 2
    rig.now = NOW + timedelta(minutes=2)
    await rig.add(3, prefix="b")
    assert await service.run_due() == 0  # too soon after the last breaking post
    rig.now = NOW + timedelta(minutes=6)
    assert await service.run_due() == 1
    digest = await service.compose(channel, rig.now)
    assert {i.article.title for i in digest.items} == {"Story s0 about topic0",
                                                      "Story b0 about topic0"}


async def test_breaking_title_shows_the_channel_local_time(rig: Rig) -> None:
    """A breaking post in a Europe/Berlin channel says the Berlin time, not UTC."""
    channel = Channel(id="console", breaking="title:topic0", timezone="Europe/Berlin")
    sender = RecordingSender()
    await rig.store.channels.ensure("console", NOW - timedelta(minutes=1))
    await rig.add(1)
    await rig.service(channel, sender).run_due()
    assert sender.titles == ["Breaking — 13:00 CET"]


async def test_empty_digest_can_say_nothing_new(rig: Rig) -> None:
    """With post_empty, an empty digest still posts one "nothing new" line."""
    channel = Channel(id="console", digest="every 6h", post_empty=True)
    sender = RecordingSender()
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    assert await rig.service(channel, sender).run_due() == 1
    assert sender.titles == ["News digest — Wed 25 Nov 2026: nothing new since the last digest"]


async def test_refused_digest_fails_after_the_bound_and_tells_once(rig: Rig) -> None:
    """A digest refused for good is tried REFUSED_ROUNDS rounds, then failed: it leaves the
    outbox, is never tried again, and exactly one notice tells the channel why."""
    sender = RecordingSender(refuse="Telegram: Bad Request: can't parse entities")
    service = rig.service(CHANNEL, sender)
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(2)
    for _ in range(REFUSED_ROUNDS + 2):
        await service.run_due()
    assert sender.refused == REFUSED_ROUNDS
    assert await rig.store.deliveries.pending() == []
    assert await rig.store.deliveries.failed_counts() == {"console": 1}
    assert sender.titles == ["A digest message could not be posted here: Telegram: Bad "
                             "Request: can't parse entities. Its stories were skipped; the "
                             "next digest comes as usual."]


async def test_refusal_below_the_bound_keeps_the_digest_for_the_next_round(rig: Rig) -> None:
    """One refused round leaves the digest in the outbox; once accepted it is delivered
    whole, with no notice and nothing failed."""
    sender = RecordingSender(refuse="Discord: 400 Invalid Form Body")
    service = rig.service(CHANNEL, sender)
    await rig.store.channels.ensure("console", NOW - timedelta(hours=7))
    await rig.add(2)
    await service.run_due()
    kept = await rig.store.deliveries.pending()
    sender.refuse = ""
    await service.run_due()
    assert [p.channel_id for p in kept] == ["console"] and sender.refused == 1
    assert len(sender.sent_ids) == 2 and await rig.store.deliveries.pending() == []
    assert await rig.store.deliveries.failed_counts() == {}
    assert not any(t.startswith("A digest message") for t in sender.titles)


@dataclass
class SlowRooms:
    """Chat rooms whose every digest takes a while to post; counts posts in flight."""

    posted: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    def handles(self, channel_id: str) -> bool:
        return channel_id.startswith("room")

    async def owns(self, channel_id: str) -> bool:
        return True

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.05)  # a platform's round trip
        await sent(list(range(len(digest.items))), f"m-{channel_id}")
        self.posted.append(channel_id)
        self.in_flight -= 1


async def test_due_digests_of_several_channels_are_sent_side_by_side(rig: Rig) -> None:
    """A round's due digests go out several channels at a time (a slow platform answer
    holds up one channel, not all), each digest once, at most LANES at once."""
    rooms = [Channel(id=f"room{i}", digest="every 6h", max_items=5) for i in range(12)]
    for room in rooms:
        await rig.store.channels.ensure(room.id, NOW - timedelta(hours=7))
    await rig.add(3)
    service = DigestService(rig.store, Stories(rig.store.articles, rig.clock),
                            ChannelBook(rig.store.channels, rooms, "UTC"), rig.clock)
    sender = SlowRooms()
    service.add_sender(sender)
    assert await service.run_due() == 12
    assert sorted(sender.posted) == sorted(room.id for room in rooms)
    assert 1 < sender.most_in_flight <= LANES
    assert await service.run_due() == 0
