"""The running bot's ticks: how often rounds start, that they never overlap, and a quiet stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.config import load_config
from bot.model import Digest
from bot.monitor import Monitor, Ticks, ticks_for
from bot.ports import SentCallback
from tests.conftest import wait_until


@pytest.mark.parametrize(("lease", "shared", "poll", "digest"), [
    (30, False, 20, 30),  # SQLite: one process, nobody to take over from
    (3, False, 20, 30),
    (30, True, 10, 10),  # a third of the lease
    (9, True, 3, 3),
    (90, True, 20, 30),  # never slower than alone
    (3600, True, 20, 30),
])
def test_ticks_follow_the_lease_on_a_shared_database(lease: int, shared: bool, poll: float,
                                                     digest: float) -> None:
    """Alone on SQLite a process polls every 20 s and delivers every 30 s; on a shared
    database each tick is at most a third of the lease, and never longer than alone."""
    assert ticks_for(lease, shared=shared) == Ticks(poll=poll, digest=digest)


class HeldSender:
    """A chat platform at the seam whose messages never get an answer."""

    def __init__(self) -> None:
        self.started = 0  # digests handed to it

    def handles(self, channel_id: str) -> bool:
        return channel_id == "console"

    async def owns(self, channel_id: str) -> bool:
        return True

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        self.started += 1
        await asyncio.Event().wait()


@pytest.fixture
async def core(write_config: Callable[[str], Path]) -> AsyncIterator[Core]:
    """The real core on SQLite; the console channel's digest is due and would post even
    empty, through a sender that never finishes."""
    path = write_config('[[channels]]\nid = "console"\ndigest = "* * * * *"\n'
                        "post_empty = true\n")
    async with open_core(load_config(path, environ={})) as core:
        await core.store.channels.ensure("console", datetime.now(UTC) - timedelta(hours=1))
        yield core


def _monitor(core: Core) -> Monitor:
    return Monitor(core.store, core.poller, core.digests, core.metrics, core.clock,
                   timedelta(days=90))


async def test_a_digest_round_never_runs_twice_at_once(core: Core) -> None:
    """A digest round started while one is delivering does nothing (two would claim and send
    the same outbox digest)."""
    sender = HeldSender()
    core.digests.add_sender(sender)
    monitor = _monitor(core)
    first = asyncio.create_task(monitor.digest_round())
    await wait_until(lambda: sender.started == 1)
    await monitor.digest_round()
    assert sender.started == 1
    first.cancel()
    await monitor.stop(grace_s=0)


async def test_stopping_during_a_ticked_delivery_is_quiet(
        core: Core, caplog: pytest.LogCaptureFixture) -> None:
    """Stopped while a tick's delivery hangs, the monitor waits out the grace, cancels the
    delivery (its digest stays in the outbox) and ends every tick without an error logged."""
    sender = HeldSender()
    core.digests.add_sender(sender)
    monitor = _monitor(core)
    with caplog.at_level(logging.INFO):
        monitor.start_ticks(Ticks(poll=3600, digest=0.01))
        await wait_until(lambda: sender.started == 1)
        await monitor.stop(grace_s=0.05)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert len(await core.store.deliveries.pending()) == 1
    assert sender.started == 1
