"""Named leases: one holder at a time for a job several processes could do (polling Telegram).

The SQL is the subset SQLite and PostgreSQL share: taking, renewing and checking a lease is
one atomic statement, so two processes can never both believe they hold it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.db import Database, to_ts

_ACQUIRE = (
    "INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires "
    "WHERE leases.expires < ? OR leases.holder = ? "
    "RETURNING holder")


class LeaseStore:
    """Queries on the leases table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take the lease, or renew it when `holder` has it already, until `now + ttl`;
        False while another holder's lease runs."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                _ACQUIRE, (name, holder, to_ts(now + ttl), to_ts(now), holder))
        return bool(rows) and rows[0][0] == holder

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up, if `holder` has it, so another process may take it at once."""
        await self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?",
                               (name, holder))

    async def clear(self) -> None:
        """Forget every lease and claim (on feeds and outbox digests): only for a process that
        alone uses the database (SQLite under the run lock), so that those of one that crashed
        don't hold it up until they expire."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM leases")
            await tx.execute("UPDATE feeds SET lease_holder = NULL, lease_until = NULL "
                             "WHERE lease_holder IS NOT NULL")
            await tx.execute("UPDATE digests SET lease_holder = NULL, lease_until = NULL "
                             "WHERE lease_holder IS NOT NULL")

    async def holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease now, or None when it is free (never taken, released, expired)."""
        row = await self._db.fetchone(
            "SELECT holder FROM leases WHERE name = ? AND expires >= ?", (name, to_ts(now)))
        return None if row is None else str(row["holder"])
