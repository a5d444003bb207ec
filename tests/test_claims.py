"""Claims on one real database (an SQLite file, then PostgreSQL) shared by two Store objects
(two processes' views): due feeds, digest slots and outbox digests each go to one holder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.digest.channels import ChannelBook
from bot.digest.service import DigestService
from bot.enrich.stories import Stories
from bot.model import Channel, Claimant, Digest, FeedSpec, NewArticle
from bot.ports import SentCallback
from bot.store.deliveries import SlotTaken
from bot.store.store import Location, Store, open_store
from tests.test_digest_service import RecordingSender

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
A = Claimant("a", LEASE)
B = Claimant("b", LEASE)


@pytest.fixture
async def two(database: Location) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, each with its own connection(s)."""
    async with open_store(database) as first, open_store(database) as second:
        yield first, second


async def _feeds(store: Store, count: int) -> None:
    await store.feeds.sync_config_feeds(
        [FeedSpec(f"http://127.0.0.1:1/{n}.xml") for n in range(count)])


async def test_concurrent_claims_never_share_a_feed(two: tuple[Store, Store]) -> None:
    """Two holders claiming due feeds at the same time, in small batches, never get the same
    feed, and between them claim every due feed."""
    first, second = two
    await _feeds(first, 60)

    async def claim(store: Store, holder: str) -> list[int]:
        got: list[int] = []
        for _ in range(20):
            got += [f.id for f in await store.feeds.claim_due_feeds(holder, NOW, LEASE, 5)]
        return got

    a, b = await asyncio.gather(claim(first, "a"), claim(second, "b"))
    assert not set(a) & set(b)
    assert len(a) == len(set(a)) and len(b) == len(set(b))
    assert len(a) + len(b) == 60


async def test_claimed_feed_is_taken_over_after_the_lease(two: tuple[Store, Store]) -> None:
    """A feed claimed by a holder that never records its poll (a dead process) stays its own
    until the lease runs out, then goes to another holder."""
    first, second = two
    await _feeds(first, 1)
    assert len(await first.feeds.claim_due_feeds("a", NOW, LEASE)) == 1
    assert await second.feeds.claim_due_feeds("b", NOW + LEASE, LEASE) == []
    later = NOW + LEASE + timedelta(seconds=1)
    assert len(await second.feeds.claim_due_feeds("b", later, LEASE)) == 1


async def test_recorded_poll_lets_the_claim_go(two: tuple[Store, Store]) -> None:
    """Recording a poll frees the feed: once due again, any holder claims it at once."""
    first, second = two
    await _feeds(first, 1)
    [feed] = await first.feeds.claim_due_feeds("a", NOW, LEASE)
    await first.feeds.record_fetched(feed.id, etag="", last_modified="", body_hash="h",
                                     title="", now=NOW, next_poll=NOW + timedelta(seconds=5))
    assert await second.feeds.claim_due_feeds("b", NOW + timedelta(seconds=1), LEASE) == []
    due = NOW + timedelta(seconds=6)
    assert [f.id for f in await second.feeds.claim_due_feeds("b", due, LEASE)] == [feed.id]


async def test_renewed_claims_outlast_the_lease(two: tuple[Store, Store]) -> None:
    """Renewing keeps a holder's claims past their first lease; a feed whose poll it
    recorded already, and another holder's claims, are left as they are."""
    first, second = two
    await _feeds(first, 3)
    mine = await first.feeds.claim_due_feeds("a", NOW, LEASE, 2)
    theirs = await second.feeds.claim_due_feeds("b", NOW, LEASE, 1)
    await first.feeds.record_fetched(mine[1].id, etag="", last_modified="", body_hash="h",
                                     title="", now=NOW, next_poll=NOW)
    await first.feeds.renew_claims("a", [f.id for f in mine + theirs], NOW + 2 * LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    taken = await second.feeds.claim_due_feeds("c", later, LEASE)
    assert {f.id for f in taken} == {mine[1].id, theirs[0].id}


async def test_slot_is_written_once(two: tuple[Store, Store]) -> None:
    """Two processes enqueueing a channel's digest for one slot at the same time: one writes
    it, the other is told SlotTaken and writes nothing."""
    first, second = two
    await first.channels.ensure("console", NOW)
    digest = Digest("console", "t", NOW)
    results = await asyncio.gather(
        first.deliveries.enqueue(digest, NOW, claimant=A, now=NOW, once=True),
        second.deliveries.enqueue(digest, NOW, claimant=B, now=NOW, once=True),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["SlotTaken", "int"]
    assert len(await first.deliveries.pending()) == 1
    with pytest.raises(SlotTaken):  # an earlier slot is refused too
        await first.deliveries.enqueue(digest, NOW - timedelta(hours=1), once=True)
    later = NOW + timedelta(hours=1)
    assert await second.deliveries.enqueue(digest, later, claimant=B, now=later, once=True)


async def test_outbox_digest_goes_to_one_sender(two: tuple[Store, Store]) -> None:
    """An unfinished digest is claimed by its writer; another holder gets it only once the
    writer's lease (renewed while sending) has run out."""
    first, second = two
    await first.channels.ensure("console", NOW)
    digest_id = await first.deliveries.enqueue(Digest("console", "t", NOW), NOW, claimant=A,
                                               now=NOW, once=True)
    assert await second.deliveries.claim_pending(B, NOW, ["console"]) == []
    await first.deliveries.renew(digest_id, A, NOW + timedelta(seconds=20))
    assert await second.deliveries.claim_pending(B, NOW + LEASE + timedelta(seconds=1),
                                                 ["console"]) == []
    taken = NOW + timedelta(seconds=51)
    assert [p.id for p in await second.deliveries.claim_pending(B, taken, ["console"])] == [
        digest_id]
    assert await first.deliveries.claim_pending(A, taken, ["console"]) == []
    assert await second.deliveries.claim_pending(B, taken, ["other"]) == []  # not its channel


async def test_concurrent_outbox_claims_never_share_a_digest(
        two: tuple[Store, Store]) -> None:
    """Unclaimed outbox digests (written before a restart) claimed by two holders at the
    same time each go to exactly one of them."""
    first, second = two
    ids = []
    for n in range(20):
        channel = f"c{n}"
        await first.channels.ensure(channel, NOW)
        ids.append(await first.deliveries.enqueue(Digest(channel, "t", NOW), NOW))
    channels = [f"c{n}" for n in range(20)]
    a, b = await asyncio.gather(first.deliveries.claim_pending(A, NOW, channels),
                                second.deliveries.claim_pending(B, NOW, channels))
    got = [p.id for p in a] + [p.id for p in b]
    assert sorted(got) == sorted(ids)


@dataclass
class Moment:
    """A clock the test moves."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class TwoServices:
    """Two processes' digest services for one channel on one database, with their senders
    and their clock."""

    store: Store
    first: DigestService
    second: DigestService
    one: RecordingSender
    other: RecordingSender
    clock: Moment


def _service(store: Store, claimant: Claimant, sender: RecordingSender,
             clock: Callable[[], datetime]) -> DigestService:
    channel = Channel(id="console", digest="every 6h", max_items=5)
    service = DigestService(store, Stories(store.articles, clock),
                            ChannelBook(store.channels, [channel], "UTC"), clock, claimant)
    service.add_sender(sender)
    return service


@pytest.fixture
async def services(two: tuple[Store, Store]) -> TwoServices:
    """A due channel with five stories, and two services (claimants a and b) for it."""
    first, second = two
    await first.feeds.sync_config_feeds([FeedSpec(url="https://x.example/rss", name="X")])
    [feed] = await first.feeds.active_feeds()
    await first.articles.add_articles(feed.id, [
        NewArticle(dedup_key=f"s{i}", url=f"https://x.example/{i}", title=f"Story {i} on t{i}",
                   summary="Words.", published=NOW - timedelta(minutes=i)) for i in range(5)],
        NOW - timedelta(hours=7))
    await first.channels.ensure("console", NOW - timedelta(hours=7))
    clock, one, other = Moment(), RecordingSender(), RecordingSender()
    return TwoServices(first, _service(first, A, one, clock), _service(second, B, other, clock),
                       one, other, clock)


async def test_due_slot_is_posted_by_one_process(services: TwoServices) -> None:
    """Two processes running their digest round at the same moment: the channel's due
    digest goes out once, from one of them, each story once."""
    await asyncio.gather(services.first.run_due(), services.second.run_due())
    sent = services.one.sent_ids + services.other.sent_ids
    assert len(sent) == 5 and len(set(sent)) == 5
    assert len(services.one.digests) + len(services.other.digests) == 1


async def test_killed_senders_digest_is_taken_over_after_the_lease(
        services: TwoServices) -> None:
    """A process that dies after sending its second message but before marking it: the
    other process leaves the digest alone while the lease runs, then sends the rest; only
    the message in flight repeats."""
    services.one.crash_before_mark = 2
    await services.first.run_due()
    services.clock.now = NOW + LEASE - timedelta(seconds=1)
    await services.second.deliver_pending()
    assert services.other.messages == []
    services.clock.now = NOW + LEASE + timedelta(seconds=1)
    await services.second.deliver_pending()
    sent = services.one.sent_ids + services.other.sent_ids
    assert len(sent) == 6 and len(set(sent)) == 5
    assert services.one.sent_ids[1] == services.other.sent_ids[0]  # the one in flight
    assert await services.store.deliveries.pending() == []


async def test_clearing_leases_frees_claims(two: tuple[Store, Store]) -> None:
    """A process alone on the database (SQLite under the run lock) forgets a crashed one's
    claims at start: its feeds and outbox digests are claimable at once."""
    first, second = two
    await _feeds(first, 1)
    await first.channels.ensure("console", NOW)
    await first.deliveries.enqueue(Digest("console", "t", NOW), NOW, claimant=A, now=NOW)
    assert len(await first.feeds.claim_due_feeds("a", NOW, LEASE)) == 1
    await second.leases.clear()
    assert len(await second.feeds.claim_due_feeds("b", NOW, LEASE)) == 1
    assert len(await second.deliveries.claim_pending(B, NOW, ["console"])) == 1


@dataclass
class HeldSender(RecordingSender):
    """A sender whose first message is held up (a platform's flood wait) until released."""

    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        self.held.set()
        await self.release.wait()
        await super().send_digest(channel_id, digest, sent)


async def test_digest_held_up_past_the_lease_stays_claimed(services: TwoServices) -> None:
    """A digest whose message waits longer than the lease (a Telegram flood wait) keeps its
    claim while it waits: the other process does not take it over and post it again."""
    short = timedelta(seconds=0.3)
    held, other = HeldSender(), RecordingSender()
    first = _service(services.store, Claimant("a", short), held, services.clock)
    second = _service(services.store, Claimant("b", short), other, services.clock)
    sending = asyncio.create_task(first.run_due())
    await asyncio.wait_for(held.held.wait(), 10)
    services.clock.now = NOW + timedelta(minutes=5)  # long past the claim's first lease
    await asyncio.sleep(0.35)  # the sender renews its claim every third of the lease
    assert await second.deliver_pending() == 0
    held.release.set()
    assert await sending == 1
    assert other.messages == [] and len(held.sent_ids) == 5
    assert await services.store.deliveries.pending() == []
