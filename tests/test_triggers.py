"""The bot's own schedule forms give APScheduler's slots, instant, wall clock and fold, around
every DST change of several zones (those with a 30-minute shift or a change at midnight too)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger as ApsInterval

from bot.digest.triggers import DailyTrigger, IntervalTrigger, Trigger

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
         "America/Havana", "Asia/Kolkata"]
TIMES = [(0, 0), (0, 30), (1, 0), (1, 30), (2, 0), (2, 15), (2, 30), (3, 0), (8, 0), (23, 59)]
DAYS = {None: "*", frozenset(range(5)): "mon-fri", frozenset({5, 6}): "sat,sun"}
MINUTES = [5, 7, 45, 90, 360, 420, 1440, 4320, 44640]
ANCHOR = datetime(2000, 1, 3)  # as bot/digest/schedule.py counts "every N" slots


def triggers(zone: ZoneInfo) -> Iterator[tuple[Trigger, Trigger]]:
    """Ours and APScheduler's, for every daily form and interval in the tables above."""
    for (hour, minute) in TIMES:
        for days, text in DAYS.items():
            yield (DailyTrigger(days, hour, minute, zone),
                   CronTrigger(day_of_week=text, hour=hour, minute=minute, timezone=zone))
    start = ANCHOR.replace(tzinfo=zone)
    for minutes in MINUTES:
        yield (IntervalTrigger(minutes, start, zone),
               ApsInterval(minutes=minutes, start_date=start, timezone=zone))


def transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """The UTC hours in `year` at which the zone's offset changes (none for UTC)."""
    hour = datetime(year, 1, 1, tzinfo=UTC)
    found = []
    while hour.year == year:
        after = hour + timedelta(hours=1)
        if hour.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            found.append(after)
        hour = after
    return found


def moments(zone: ZoneInfo, step: timedelta) -> list[datetime]:
    """Moments a day and a bit either side of each DST change in 2018 and 2026 (and of
    New Year, for zones without DST), on and off whole seconds, in the zone and in UTC."""
    changes = transitions(zone, 2018) + transitions(zone, 2026) or [datetime(2026, 1, 1,
                                                                              tzinfo=UTC)]
    found = []
    for change in changes:
        moment = change - timedelta(hours=26)
        while moment < change + timedelta(hours=26):
            found += [moment, (moment + timedelta(microseconds=1)).astimezone(zone)]
            moment += step
    return found


def slot(found: datetime | None) -> tuple[datetime, datetime, int] | None:
    """A slot as the instant, the wall clock and the fold, so that all three are compared."""
    return None if found is None else (found.astimezone(UTC), found.replace(tzinfo=None),
                                       found.fold)


def assert_same_slots(zone_name: str, step: timedelta) -> None:
    """Ours and APScheduler's next slot agree after every moment."""
    zone = ZoneInfo(zone_name)
    pairs = list(triggers(zone))
    for moment in moments(zone, step):
        for ours, theirs in pairs:
            assert slot(ours.get_next_fire_time(None, moment)) == slot(
                theirs.get_next_fire_time(None, moment)), (zone_name, moment, theirs)


def test_slots_equal_apschedulers_across_a_berlin_dst_change() -> None:
    """Around Berlin's DST changes, every 5 hours and 7 minutes: the same slots as
    APScheduler."""
    assert_same_slots("Europe/Berlin", timedelta(minutes=307))


@pytest.mark.slow  # about 100,000 slots from each implementation
@pytest.mark.parametrize("zone_name", ZONES)
def test_slots_equal_apschedulers_around_every_dst_change(zone_name: str) -> None:
    """Around every DST change in 2018 and 2026, every 41 minutes: the same slots as
    APScheduler, for daily, weekday and weekend times in and next to the skipped and
    repeated hours, and for intervals from 5 minutes to 31 days."""
    assert_same_slots(zone_name, timedelta(minutes=41))
