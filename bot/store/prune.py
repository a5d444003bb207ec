"""Pruning: old articles go, their dedup keys stay (for longer) so nothing is posted twice."""

from __future__ import annotations

from datetime import datetime

from bot.store.db import Database, to_ts

_CHUNK = 500


class PruneStore:
    """Queries on seen_keys, the dedup memory of pruned articles."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def prune_articles(self, before: datetime) -> int:
        """Delete articles first seen before `before`, keeping their keys; returns deleted."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO seen_keys (feed_id, dedup_key, seen) "
                "SELECT feed_id, dedup_key, first_seen FROM articles WHERE first_seen < ? "
                "ON CONFLICT (feed_id, dedup_key) DO NOTHING", (to_ts(before),))
            await tx.execute("DELETE FROM digests WHERE done IS NOT NULL AND created < ?",
                             (to_ts(before),))
            return await tx.execute("DELETE FROM articles WHERE first_seen < ?",
                                    (to_ts(before),))

    async def forget_keys(self, before: datetime) -> int:
        """Drop the dedup memory of articles first seen before `before`; returns dropped."""
        return await self._db.execute("DELETE FROM seen_keys WHERE seen < ?", (to_ts(before),))
