"""Since when each feed has been failing without a break (to disable long-dead feeds)."""

from __future__ import annotations

from datetime import datetime

from bot.store.db import Database, from_ts, to_ts


class FailingStore:
    """Queries on the start of a feed's run of failures."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def failing_since(self, feed_id: int, *, first: bool, now: datetime) -> datetime:
        """When the feed's current run of failures began; `first` starts a new run now."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE feeds SET failing_since = ? WHERE id = ? AND (? OR failing_since IS NULL)",
                (to_ts(now), feed_id, first))
            row = await tx.fetchone("SELECT failing_since FROM feeds WHERE id = ?", (feed_id,))
        since = from_ts(row[0]) if row is not None else None
        return since or now
