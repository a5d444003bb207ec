"""The running bot's heartbeat: start time, last poll and delivery rounds, clean stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.store.db import Database, from_ts, to_ts

Round = Literal["poll", "digest"]


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """What the running (or last) bot process wrote about itself."""

    pid: int
    started: datetime
    heartbeat: datetime
    last_poll: datetime | None
    last_digest: datetime | None
    stopped: datetime | None


class RuntimeStore:
    """Queries on the one-row runtime table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_start(self, pid: int, now: datetime) -> None:
        """A bot process started: a fresh row, no rounds yet."""
        await self._db.execute(
            "INSERT INTO runtime (id, pid, started, heartbeat) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started = excluded.started, "
            "heartbeat = excluded.heartbeat, last_poll = NULL, last_digest = NULL, "
            "stopped = NULL",
            (pid, to_ts(now), to_ts(now)))

    async def record_beat(self, now: datetime) -> None:
        """The bot is alive now."""
        await self._db.execute("UPDATE runtime SET heartbeat = ? WHERE id = 1", (to_ts(now),))

    async def record_round(self, kind: Round, now: datetime) -> None:
        """A poll or delivery round finished now."""
        column = "last_poll" if kind == "poll" else "last_digest"
        await self._db.execute(f"UPDATE runtime SET {column} = ?, heartbeat = ? WHERE id = 1",
                               (to_ts(now), to_ts(now)))

    async def record_stop(self, now: datetime) -> None:
        """The bot stopped cleanly."""
        await self._db.execute("UPDATE runtime SET stopped = ? WHERE id = 1", (to_ts(now),))

    async def heartbeat(self) -> Heartbeat | None:
        """The last bot process's row, if a bot ever ran on this database."""
        row = await self._db.fetchone(
            "SELECT pid, started, heartbeat, last_poll, last_digest, stopped FROM runtime "
            "WHERE id = 1")
        if row is None:
            return None
        started, beat = from_ts(row["started"]), from_ts(row["heartbeat"])
        assert started is not None and beat is not None
        return Heartbeat(pid=row["pid"], started=started, heartbeat=beat,
                         last_poll=from_ts(row["last_poll"]),
                         last_digest=from_ts(row["last_digest"]), stopped=from_ts(row["stopped"]))
