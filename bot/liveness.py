"""Whether the bot runs, judged from the heartbeat row it writes: down, stalled or healthy.

Apart from bot/monitor.py (which writes the heartbeat) so that `status --check` judges it
without loading the poller, the digest service or the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.runtime import Heartbeat

NOT_RUNNING_AFTER = timedelta(minutes=3)  # no heartbeat for this long: the bot is down
STALL_AFTER = {"poll": timedelta(minutes=10), "digest": timedelta(minutes=10)}
LOOP_NAMES = {"poll": "poller", "digest": "delivery loop"}


@dataclass(frozen=True, slots=True)
class Liveness:
    """Whether the bot is running, and which of its loops stalled."""

    running: bool
    stalls: tuple[str, ...]
    reason: str  # why it is not healthy; "" when running without stalls

    @property
    def healthy(self) -> bool:
        """Running, and every loop did its work recently."""
        return self.running and not self.stalls


def stalls(beat: Heartbeat, now: datetime) -> tuple[str, ...]:
    """Each loop with no finished round for far longer than scheduled, in words."""
    found = []
    for kind, limit in STALL_AFTER.items():
        last: datetime | None = beat.last_poll if kind == "poll" else beat.last_digest
        quiet = now - (last or beat.started)
        if quiet > limit:
            found.append(f"{LOOP_NAMES[kind]} stalled: no round finished for {_minutes(quiet)} min "
                         f"(limit {_minutes(limit)} min)")
    return tuple(found)


def liveness(beat: Heartbeat | None, now: datetime) -> Liveness:
    """Judge the heartbeat row a bot process writes."""
    if beat is None:
        return Liveness(False, (), "the bot has never run on this database")
    if beat.stopped is not None:
        return Liveness(False, (), f"the bot stopped at {beat.stopped:%Y-%m-%d %H:%M} UTC")
    silent = now - beat.heartbeat
    if silent > NOT_RUNNING_AFTER:
        return Liveness(False, (), f"no heartbeat for {_minutes(silent)} min: the bot is not "
                                   "running (or its loop is blocked)")
    found = stalls(beat, now)
    return Liveness(True, found, "; ".join(found))


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
