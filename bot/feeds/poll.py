"""Polling: which feeds are due, fetch and parse them with bounded concurrency, back off."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.enrich.fulltext import main_text
from bot.enrich.stories import Stories
from bot.feeds.caps import cap_content
from bot.feeds.errors import ParseError
from bot.feeds.failures import FailurePolicy, FeedFailures
from bot.feeds.fetch import Fetcher, FetchResult
from bot.feeds.worker import ParseWorker, WorkerFailure
from bot.logs import FEED_FAILURE, bind
from bot.model import Claimant, Entry, FeedState, UnchangedPoll
from bot.ports import Clock
from bot.store.db import StoreError
from bot.store.store import Store

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=24)
FULL_TEXT_BELOW = 400  # a feed body shorter than this (HTML characters) is worth a page fetch
FULL_TEXT_CONCURRENCY = 4
CLAIM_BATCH_PER_LANE = 4  # due feeds claimed at a time, per lane of concurrency


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How polling behaves."""

    concurrency: int = 16
    max_entries: int = 200
    aliases: Mapping[str, str] = field(default_factory=dict)
    claimant: Claimant = field(default_factory=Claimant)  # who claims due feeds, how long


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one poll of one feed did."""

    feed: FeedState
    new: int = 0
    seen: int = 0
    not_modified: bool = False
    error: str = ""
    unanswered: bool = False  # no HTTP answer: the error is for the log, not for chat


def _sha256(body: bytes) -> str:
    """The body's SHA-256, hex: whether it changed since the last poll."""
    return hashlib.sha256(body).hexdigest()


def next_poll_after_failure(feed: FeedState, failures: int, now: datetime,
                            retry_after_s: float | None) -> datetime:
    """Exponential backoff from the feed's interval, capped at 24 h; Retry-After wins."""
    backoff = timedelta(seconds=feed.interval_s * 2 ** min(failures, 12))
    if retry_after_s is not None:
        backoff = max(backoff, timedelta(seconds=retry_after_s))
    return now + min(backoff, MAX_BACKOFF)


class Poller:
    """Polls feeds into the store."""

    def __init__(self, store: Store, fetcher: Fetcher, worker: ParseWorker, stories: Stories,
                 clock: Clock, settings: PollSettings,
                 failures: FeedFailures | None = None) -> None:
        self._failures = failures or FeedFailures(store, FailurePolicy())
        self._stories = stories
        self._store = store
        self._fetcher = fetcher
        self._worker = worker
        self._clock = clock
        self._settings = settings

    async def poll_due(self) -> list[FeedOutcome]:
        """Poll every feed whose time has come that no other live process has claimed, a
        batch of claims at a time: processes sharing the database split a round's feeds
        between them, and a claim is never held much longer than its feed takes."""
        claimant, start = self._settings.claimant, self._clock()
        outcomes: list[FeedOutcome] = []
        polled: set[int] = set()  # a feed due again at once waits for the next round
        while batch := [feed for feed in await self._claim(claimant, start)
                         if feed.id not in polled]:
            polled.update(feed.id for feed in batch)
            renewing = asyncio.create_task(self._renew_claims([feed.id for feed in batch]))
            try:
                outcomes += await self.poll_feeds(batch)
            finally:
                renewing.cancel()
        return outcomes

    async def _claim(self, claimant: Claimant, start: datetime) -> list[FeedState]:
        """The next batch of due feeds; none when the database can't take the claim now
        (locked by another program, full): the round ends and the next one tries again."""
        try:
            return await self._store.feeds.claim_due_feeds(
                claimant.holder, self._clock(), claimant.lease,
                CLAIM_BATCH_PER_LANE * self._settings.concurrency, due_by=start)
        except StoreError as error:
            log.warning("could not claim due feeds, the next round tries again: %s", error)
            return []

    async def _renew_claims(self, feed_ids: list[int]) -> None:
        """Every third of the lease, renew the claims on a batch being polled: only a process
        that died (or is stuck longer than its lease) loses its feeds to the others."""
        claimant = self._settings.claimant
        while True:
            await asyncio.sleep(claimant.lease.total_seconds() / 3)
            try:
                await self._store.feeds.renew_claims(claimant.holder, feed_ids,
                                                      self._clock() + claimant.lease)
            except StoreError as error:
                log.warning("can't renew the claims on %d feeds being polled: %s",
                            len(feed_ids), error)

    async def poll_feeds(self, feeds: Sequence[FeedState],
                         progress: Callable[[FeedOutcome], None] | None = None
                         ) -> list[FeedOutcome]:
        """Poll these feeds, at most `concurrency` at once; outcomes in the given order.

        `concurrency` lanes take the feeds in turn (not a task per feed: a thousand tasks
        starting in one loop turn would stall it). The unchanged feeds' new state is written
        once, in one batch, when the round ends.
        """
        if any(feed.last_polled is None for feed in feeds):
            self._worker.start()  # feeds never polled will need parsing: start while we fetch
        unchanged: list[UnchangedPoll] = []
        outcomes: dict[int, FeedOutcome] = {}
        queue = iter(enumerate(feeds))  # shared by the lanes: each takes the next feed

        async def lane() -> None:
            for index, feed in queue:
                bind(feed_id=feed.id)  # the lane's log lines name the feed it is on
                outcomes[index] = await self._poll(feed, unchanged)
                if progress is not None:
                    progress(outcomes[index])

        await asyncio.gather(*(lane() for _ in range(min(self._settings.concurrency,
                                                         len(feeds)))))
        await self._record_unchanged(unchanged)
        return [outcomes[index] for index in range(len(feeds))]

    async def poll_feed(self, feed: FeedState) -> FeedOutcome:
        """Fetch, parse and store one feed; every failure is recorded on the feed."""
        unchanged: list[UnchangedPoll] = []
        outcome = await self._poll(feed, unchanged)
        await self._record_unchanged(unchanged)
        return outcome

    async def _poll(self, feed: FeedState, unchanged: list[UnchangedPoll]) -> FeedOutcome:
        """Poll one feed; an unchanged one only joins `unchanged`, for the round's one write."""
        try:
            result = await self._fetcher.fetch(feed.url, etag=feed.etag,
                                               last_modified=feed.last_modified)
            if result.error:
                return await self._failed(feed, result.error, result)
            if result.not_modified:
                unchanged.append(self._unchanged(feed, result))
                return FeedOutcome(feed, not_modified=True)
            return await self._ingest(feed, result, unchanged)
        except ParseError as error:
            return await self._failed(feed, str(error), None)
        except Exception as error:  # a bug must cost one feed one poll, not the poller
            log.exception("polling %s failed", feed.url)
            return await self._failed(feed, f"internal error: {type(error).__name__}", None)

    async def _ingest(self, feed: FeedState, result: FetchResult,
                      unchanged: list[UnchangedPoll]) -> FeedOutcome:
        body_hash = await asyncio.to_thread(_sha256, result.body)  # 5 MiB: not on the loop
        if body_hash == feed.body_hash:
            unchanged.append(self._unchanged(feed, result))
            return FeedOutcome(feed, not_modified=True)
        if body_hash == feed.failed_body_hash:  # these bytes failed to parse last time
            return await self._failed(feed, feed.last_error, None, failed_body_hash=body_hash)
        now = self._clock()
        try:
            parsed = await self._worker.parse(result.body, result.final_url or feed.url,
                                              now=now, content_type=result.content_type,
                                              max_entries=self._settings.max_entries)
        except WorkerFailure:
            raise
        except ParseError as error:  # the bytes are broken: they will fail alike next time
            return await self._failed(feed, str(error), None, failed_body_hash=body_hash)
        if parsed.skipped:
            log.warning("feed %s: %d unreadable items skipped; the first: %s", feed.url,
                        len(parsed.skipped), parsed.skipped[0])
        keys = [entry.dedup_key for entry in parsed.entries]
        known = await self._store.articles.known_keys(feed.id, keys)
        fresh = [entry for entry in parsed.entries if entry.dedup_key not in known]
        fresh = await self._store.identity.unseen(feed.id, fresh, now)  # stories re-keyed
        if feed.full_text:
            fresh = await self._with_full_text(fresh)
        added = 0
        if fresh:
            articles = await self._worker.enrich(fresh, feed.tags, self._settings.aliases)
            added = await self._store.articles.add_articles(feed.id, articles, now)
            stored = await self._store.articles.by_keys(feed.id, [a.dedup_key for a in articles])
            await self._stories.assign(stored)
        await self._fetched(feed, result, body_hash, parsed.title)
        if feed.name == feed.url and parsed.title:
            feed = replace(feed, name=parsed.title)
        return FeedOutcome(feed, new=added, seen=len(parsed.entries) - added)

    async def _with_full_text(self, entries: list[Entry]) -> list[Entry]:
        """Entries whose feed gives little text get their page's main text instead."""
        gate = asyncio.Semaphore(FULL_TEXT_CONCURRENCY)

        async def one(entry: Entry) -> Entry:
            if not entry.url or len(entry.content_html) >= FULL_TEXT_BELOW:
                return entry
            async with gate:
                page = await self._fetcher.fetch(entry.url)
            if page.error or not page.body:
                log.info("full text of %s not fetched: %s", entry.url, page.error or "empty")
                return entry
            try:
                text = await self._worker.run(main_text, (page.body, page.final_url))
            except ParseError as error:
                log.info("full text of %s not extracted: %s", entry.url, error)
                return entry
            return replace(entry, content_html=cap_content(text)) if text else entry

        return list(await asyncio.gather(*(one(entry) for entry in entries)))

    async def _fetched(self, feed: FeedState, result: FetchResult, body_hash: str,
                       title: str) -> None:
        now = self._clock()
        await self._store.feeds.record_fetched(
            feed.id, etag=result.etag or feed.etag,
            last_modified=result.last_modified or feed.last_modified, body_hash=body_hash,
            title=title, now=now, next_poll=now + timedelta(seconds=feed.interval_s))

    def _unchanged(self, feed: FeedState, result: FetchResult) -> UnchangedPoll:
        """The state an unchanged poll leaves: validators kept, next poll one interval on."""
        now = self._clock()
        return UnchangedPoll(feed.id, etag=result.etag or feed.etag,
                             last_modified=result.last_modified or feed.last_modified,
                             polled=now, next_poll=now + timedelta(seconds=feed.interval_s))

    async def _record_unchanged(self, polls: list[UnchangedPoll]) -> None:
        """Write the unchanged feeds' state at once; if the store refuses, they stay due."""
        try:
            await self._store.feeds.record_unchanged(polls)
        except StoreError as error:
            log.error("%d unchanged feeds: their poll was not recorded: %s", len(polls), error)

    async def _failed(self, feed: FeedState, error: str, result: FetchResult | None,
                      failed_body_hash: str = "") -> FeedOutcome:
        now = self._clock()
        failures = feed.failures + 1
        retry_after = result.retry_after_s if result is not None else None
        gone = result is not None and result.gone
        log.warning("feed %s failed (%d in a row): %s", feed.url, failures, error,
                    extra={FEED_FAILURE: True})
        try:
            disable = await self._failures.failed(feed, failures, error, now, gone=gone)
            await self._store.feeds.record_failure(
                feed.id, error=error, failures=failures, now=now, disable=disable,
                next_poll=next_poll_after_failure(feed, failures, now, retry_after),
                failed_body_hash=failed_body_hash)
        except StoreError as db_error:  # locked or full: the feed stays due, tried again
            log.error("feed %s: its failure was not recorded: %s", feed.url, db_error)
        return FeedOutcome(feed, error=error + (" (feed disabled: gone for good)" if gone else ""),
                           unanswered=result is not None and result.unanswered)
