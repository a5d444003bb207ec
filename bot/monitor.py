"""The running bot's rounds (poll, deliver, prune, heartbeat), their metrics and stalls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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
POLL_TICK_S = 20  # the longest ticks; on a shared database a third of the lease if shorter
DIGEST_TICK_S = 30
PRUNE_S = 86400
KEYS_KEPT = 2  # dedup keys of pruned stories are kept this many retention periods
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ticks:
    """How often each round starts, in seconds."""

    poll: float = POLL_TICK_S
    digest: float = DIGEST_TICK_S


def ticks_for(lease_s: float, *, shared: bool) -> Ticks:
    """The rounds' ticks. Alone on its database (SQLite) a process polls every 20 s and
    delivers every 30 s. Where processes share the database, each tick is at most a third of
    `[bot] lease`: a dead process's claims run out within a lease of its death, and the next
    tick of the others (a third of a lease later at most) takes its feeds and digests over."""
    if not shared:
        return Ticks()
    return Ticks(poll=min(POLL_TICK_S, lease_s / 3), digest=min(DIGEST_TICK_S, lease_s / 3))


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
        self._ticks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self, pid: int) -> None:
        """Record the start of this process."""
        await self._store.runtime.record_start(pid, self._clock())

    def start_ticks(self, ticks: Ticks) -> None:
        """Run the rounds on their ticks until `stop`: polls and deliveries at `ticks`, the
        heartbeat every HEARTBEAT_S, pruning a minute after start and then daily."""
        for name, work, every, first in (
                ("poll", self.poll_round, ticks.poll, ticks.poll),
                ("digest", self.digest_round, ticks.digest, ticks.digest),
                ("heartbeat", self.beat, HEARTBEAT_S, HEARTBEAT_S),
                ("prune", self.prune, PRUNE_S, 60)):
            self._ticks.append(asyncio.create_task(self._every(name, work, every, first),
                                                   name=f"{name} tick"))

    async def _every(self, name: str, work: Callable[[], Awaitable[None]], every: float,
                     first: float) -> None:
        """Run `work` `first` seconds from now, then every `every` seconds; a run that takes
        longer skips the ticks it overran (rounds never pile up). A failed run is logged."""
        loop = asyncio.get_running_loop()
        due = loop.time() + first
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                await work()
            except Exception:
                log.exception("the %s round failed; the next tick tries again", name)
            due += every * max(1, math.floor((loop.time() - due) / every) + 1)

    async def stop(self, grace_s: float) -> None:
        """End the ticks; cancel a poll round; let a delivery in flight finish (up to
        `grace_s`), then cancel it too (its unsent items stay in the outbox); record the stop.
        No round starts once stopping."""
        self._stopping = True
        for tick in self._ticks:
            tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tick
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
        """Poll what is due; count outcomes; record the round. Nothing while a poll round
        runs already (the start's, or a tick's that overran) or the bot is stopping."""
        outcomes = await self._tracked("poll", self._poller.poll_due)
        if outcomes is not None:
            count_outcomes(self._metrics, outcomes)
            await self._store.runtime.record_round("poll", self._clock())

    async def digest_round(self) -> None:
        """Post what is due and what the outbox holds; record the round. Nothing while a
        digest round runs already: two would claim and send the same outbox digest."""
        if await self._tracked("digest", self._digests.run_due) is not None:
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

    async def _tracked(self, kind: str, work: Callable[[], Awaitable[T]]) -> T | None:
        """Run a round as a task that `stop` can find; None, without running it, while a
        round of this kind runs or the bot is stopping."""
        tasks = self._rounds.setdefault(kind, set())
        if self._stopping or tasks:
            return None
        task = asyncio.ensure_future(work())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return await asyncio.shield(task)  # a cancelled caller leaves it to `stop`


def count_outcomes(metrics: Metrics, outcomes: Sequence[FeedOutcome]) -> None:
    """Fetches by outcome and stories stored, from one round of polls."""
    for outcome in outcomes:
        kind = "error" if outcome.error else "not_modified" if outcome.not_modified else "ok"
        metrics.fetches.labels(kind).inc()
        metrics.articles_stored.inc(outcome.new)
