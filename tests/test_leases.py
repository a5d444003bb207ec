"""Named leases on one real database (an SQLite file, then PostgreSQL) shared by two Store
objects (two processes' views)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.store.store import Location, Store, open_store

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
NAME = "telegram-poller"


@pytest.fixture
async def two(database: Location) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, each with its own connection(s)."""
    async with open_store(database) as first, open_store(database) as second:
        yield first, second


async def test_free_lease_is_taken(two: tuple[Store, Store]) -> None:
    """A lease nobody holds goes to the first who asks, until now + ttl."""
    first, second = two
    assert await first.leases.acquire(NAME, "a", TTL, NOW)
    assert await second.leases.holder(NAME, NOW + TTL) == "a"
    assert await second.leases.holder(NAME, NOW + TTL + timedelta(seconds=1)) is None


async def test_held_lease_is_refused_to_another_holder(two: tuple[Store, Store]) -> None:
    """While one holder's lease runs, another holder's acquire fails and changes nothing."""
    first, second = two
    await first.leases.acquire(NAME, "a", TTL, NOW)
    assert not await second.leases.acquire(NAME, "b", TTL, NOW + timedelta(seconds=10))
    assert await first.leases.holder(NAME, NOW + TTL) == "a"


async def test_holder_renews_its_own_lease(two: tuple[Store, Store]) -> None:
    """Acquiring again as the holder extends the lease from the new time."""
    first, second = two
    await first.leases.acquire(NAME, "a", TTL, NOW)
    assert await first.leases.acquire(NAME, "a", TTL, NOW + timedelta(seconds=20))
    later = NOW + timedelta(seconds=45)
    assert not await second.leases.acquire(NAME, "b", TTL, later)
    assert await second.leases.holder(NAME, later) == "a"


async def test_expired_lease_is_taken_over(two: tuple[Store, Store]) -> None:
    """A holder that stops renewing (a dead process) loses the lease once it expires."""
    first, second = two
    await first.leases.acquire(NAME, "a", TTL, NOW)
    after = NOW + TTL + timedelta(seconds=1)
    assert await second.leases.acquire(NAME, "b", TTL, after)
    assert not await first.leases.acquire(NAME, "a", TTL, after)
    assert await first.leases.holder(NAME, after) == "b"


async def test_release_frees_the_lease_at_once(two: tuple[Store, Store]) -> None:
    """A released lease can be taken by another holder before its expiry."""
    first, second = two
    await first.leases.acquire(NAME, "a", TTL, NOW)
    await first.leases.release(NAME, "a")
    assert await second.leases.holder(NAME, NOW) is None
    assert await second.leases.acquire(NAME, "b", TTL, NOW)


async def test_release_by_another_holder_changes_nothing(two: tuple[Store, Store]) -> None:
    """Only the holder can release: a late release by the previous holder is ignored."""
    first, second = two
    await first.leases.acquire(NAME, "b", TTL, NOW)
    await second.leases.release(NAME, "a")
    assert await second.leases.holder(NAME, NOW) == "b"


async def test_clear_forgets_a_dead_processs_leases(two: tuple[Store, Store]) -> None:
    """After clear (the one process of a database starting), every lease is free."""
    first, second = two
    await first.leases.acquire(NAME, "dead", TTL, NOW)
    await second.leases.clear()
    assert await second.leases.acquire(NAME, "b", TTL, NOW)


async def test_leases_are_independent_by_name(two: tuple[Store, Store]) -> None:
    """Holding one lease says nothing about another name."""
    first, second = two
    await first.leases.acquire(NAME, "a", TTL, NOW)
    assert await second.leases.acquire("other-job", "b", TTL, NOW)
