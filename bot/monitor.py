"""The running bot's rounds (poll, deliver, prune, heartbeat), their metrics and stalls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import TypeVar

from bot.digest.service import DigestService
from bot.feeds.poll import FeedOutcome, Poller
from bot.liveness import stalls
from bot.metrics import Metrics
from bot.ports import Clock
from bot.store.store import Store

log = logging.getLogger(__name__)
HEARTBEAT_S = 30
KEYS_KEPT = 2  # dedup keys of pruned stories are kept this many retention periods
T = TypeVar("T")


class Monitor:
    """Runs the scheduled rounds, records them for `status`, counts them, and drains at stop."""

    def __init__(self, store: Store, poller: Poller, digests: DigestService, metrics: Metrics,
                 clock: Clock, retention: timedelta) -> None:
        self._store = store
        self._poller = poller
        self._digests = digests
        self._metrics = metrics
        self._clock = clock
        self._retention = retention
        self._stalled: set[str] = set()
        self._rounds: dict[str, set[asyncio.Task[object]]] = {}

    async def start(self, pid: int) -> None:
        """Record the start of this process."""
        await self._store.runtime.record_start(pid, self._clock())

    async def stop(self, grace_s: float) -> None:
        """Cancel a poll round; let a delivery in flight finish (up to `grace_s`), then
        cancel it too (its unsent items stay in the outbox); record the stop."""
        for task in self._rounds.get("poll", set()):
            task.cancel()
        delivering = [t for t in self._rounds.get("digest", set()) if not t.done()]
        if delivering:
            log.info("waiting up to %g s for the delivery in flight", grace_s)
            await asyncio.wait(delivering, timeout=grace_s)
        for task in [t for tasks in self._rounds.values() for t in tasks]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._store.runtime.record_stop(self._clock())

    async def poll_round(self) -> None:
        """Poll what is due; count outcomes; record the round."""
        outcomes = await self._tracked("poll", self._poller.poll_due())
        count_outcomes(self._metrics, outcomes)
        await self._store.runtime.record_round("poll", self._clock())

    async def digest_round(self) -> None:
        """Post what is due and what the outbox holds; record the round."""
        await self._tracked("digest", self._digests.run_due())
        await self._store.runtime.record_round("digest", self._clock())

    async def beat(self) -> None:
        """Write the heartbeat; log each stall once when it starts and once when it ends."""
        now = self._clock()
        await self._store.runtime.record_beat(now)
        beat = await self._store.runtime.heartbeat()
        found = set(stalls(beat, now)) if beat else set()
        kinds = {text.split(" stalled", 1)[0] for text in found}
        for text in sorted(found):
            if text.split(" stalled", 1)[0] not in self._stalled:
                log.warning("%s", text)
        for kind in self._stalled - kinds:
            log.info("%s is working again", kind)
        self._stalled = kinds

    async def prune(self) -> None:
        """Delete stories past the retention; forget their keys after twice as long."""
        now = self._clock()
        deleted = await self._store.pruned.prune_articles(now - self._retention)
        forgotten = await self._store.pruned.forget_keys(now - KEYS_KEPT * self._retention)
        if deleted or forgotten:
            log.info("pruned %d stories older than %d days; forgot %d older keys", deleted,
                     self._retention.days, forgotten)

    async def _tracked(self, kind: str, work: Awaitable[T]) -> T:
        """Run a round as a task that `stop` can find."""
        task = asyncio.ensure_future(work)
        tasks = self._rounds.setdefault(kind, set())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return await asyncio.shield(task)  # a cancelled caller leaves it to `stop`


def count_outcomes(metrics: Metrics, outcomes: Sequence[FeedOutcome]) -> None:
    """Fetches by outcome and stories stored, from one round of polls."""
    for outcome in outcomes:
        kind = "error" if outcome.error else "not_modified" if outcome.not_modified else "ok"
        metrics.fetches.labels(kind).inc()
        metrics.articles_stored.inc(outcome.new)
