"""A job run by one holder of a lease at a time, on a real SQLite file shared by two Stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.chat.leased_job import LeasedJob, holder_id
from bot.store.store import Store, open_store
from tests.conftest import wait_until

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=0.3)  # tries every 0.1 s
NAME = "job"


@dataclass
class Job:
    """What a job's start and stop did, in order."""

    events: list[str] = field(default_factory=list)

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database file (two processes' connections)."""
    async with open_store(tmp_path / "bot.db") as first, open_store(tmp_path / "bot.db") as second:
        yield first, second


def leased(store: Store, job: Job, now: datetime = NOW) -> LeasedJob:
    """The job under the lease NAME, judged by a clock standing at `now`."""
    return LeasedJob(store.leases, NAME, TTL, lambda: now, job.start, job.stop)


async def test_first_holder_starts_at_once_and_stops_on_leaving(
        stores: tuple[Store, Store]) -> None:
    """Entering takes the free lease and starts the job; leaving stops it and frees the
    lease."""
    job = Job()
    async with leased(stores[0], job) as running:
        assert running.running and job.events == ["start"]
    assert job.events == ["start", "stop"]
    assert await stores[1].leases.holder(NAME, NOW) is None


async def test_second_holder_waits_then_takes_over_a_released_lease(
        stores: tuple[Store, Store]) -> None:
    """While the first runs the job the second does not; once the first leaves, the second
    starts at its next try (the clock standing still: the lease was released, not expired)."""
    first, second = Job(), Job()
    async with AsyncExitStack() as stack:
        first_process = await stack.enter_async_context(AsyncExitStack())
        await first_process.enter_async_context(leased(stores[0], first))
        waiting = await stack.enter_async_context(leased(stores[1], second))
        assert not waiting.running and second.events == []
        await first_process.aclose()
        await wait_until(lambda: waiting.running)
        assert first.events == ["start", "stop"] and second.events == ["start"]


async def test_lost_lease_stops_the_job(stores: tuple[Store, Store]) -> None:
    """A holder whose lease another took (its clock lagged past the expiry) stops the job at
    its next try."""
    lagging, ahead = Job(), Job()
    async with leased(stores[0], lagging) as first, \
            leased(stores[1], ahead, NOW + TTL * 2) as second:
        assert second.running
        await wait_until(lambda: not first.running)
        assert lagging.events == ["start", "stop"]
    assert lagging.events == ["start", "stop"] and ahead.events == ["start", "stop"]


async def test_failed_start_lets_the_lease_go(stores: tuple[Store, Store]) -> None:
    """When the job can't start on entering, the error is raised and the lease is free."""
    async def fail() -> None:
        raise OSError("cannot start")

    job = LeasedJob(stores[0].leases, NAME, TTL, lambda: NOW, fail, Job().stop)
    with pytest.raises(OSError, match="cannot start"):
        await job.__aenter__()
    assert await stores[1].leases.holder(NAME, NOW) is None


def test_holder_ids_differ_within_one_process() -> None:
    """Two holders in one process get different ids, both naming host and pid."""
    first, second = holder_id(), holder_id()
    assert first != second and first.rsplit(":", 1)[0] == second.rsplit(":", 1)[0]
