"""When a channel's digest is due: parse schedule text into a trigger, compute slots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.digest.triggers import DailyTrigger, IntervalTrigger, Trigger

_DAILY = re.compile(r"(daily|weekdays|weekends)\s+(\S+)", re.IGNORECASE)
_EVERY = re.compile(r"every\s+(\d+)\s*(m|min|minutes?|h|hours?|d|days?)", re.IGNORECASE)
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DAYS = {"daily": None, "weekdays": frozenset(range(5)), "weekends": frozenset({5, 6})}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler's order
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}
_ANCHOR = datetime(2000, 1, 3)  # a Monday: "every N" slots are counted from here
# Windows searched for the newest missed slot, small first so the walk stays short.
_WINDOWS = (timedelta(hours=1), timedelta(days=1), timedelta(days=32), timedelta(days=400))


class ScheduleError(ValueError):
    """A schedule or timezone the bot cannot follow; the message is shown to users."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed digest schedule in one timezone."""

    text: str
    timezone: str
    trigger: Trigger

    def next_after(self, moment: datetime) -> datetime | None:
        """The first slot strictly after `moment` (aware), in UTC."""
        slot = self.trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        return _to_utc(slot)

    def latest_due(self, since: datetime, now: datetime) -> datetime | None:
        """The newest slot in (since, now], or None: missed slots collapse into one."""
        for window in _WINDOWS:
            slot = self.next_after(max(since, now - window))
            if slot is not None and slot <= now:
                return self._last_before(slot, now)
        return None

    def _last_before(self, slot: datetime, now: datetime) -> datetime:
        while (following := self.next_after(slot)) is not None and following <= now:
            slot = following
        return slot


def load_zone(name: str) -> tzinfo:
    """An IANA timezone by name, or a ScheduleError that says what is wrong."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f'"{name}" is not a known timezone (use an IANA name such as '
                            '"Europe/Berlin")') from None


def parse_schedule(text: str, timezone: str = "UTC") -> Schedule:
    """Parse `daily 08:00`, `weekdays 07:30`, `every 6h`, `every 30m` or a 5-field cron."""
    zone = load_zone(timezone)
    spec = " ".join(text.split())
    trigger = _daily(spec, zone) or _every(spec, zone) or _cron(spec, zone)
    return Schedule(text=spec, timezone=timezone, trigger=trigger)


def _daily(spec: str, zone: tzinfo) -> Trigger | None:
    match = _DAILY.fullmatch(spec)
    if match is None:
        return None
    hour, minute = _time_of_day(match.group(2))
    days = _DAYS[match.group(1).lower()]
    return DailyTrigger(days, hour, minute, zone)


def _time_of_day(text: str) -> tuple[int, int]:
    match = _TIME.fullmatch(text)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ScheduleError(f'"{text}" is not a time of day (use HH:MM, 00:00 to 23:59)')
    return int(match.group(1)), int(match.group(2))


def _every(spec: str, zone: tzinfo) -> Trigger | None:
    match = _EVERY.fullmatch(spec)
    if match is None:
        if spec.lower().startswith("every"):
            raise ScheduleError(f'"{spec}" is not an interval (use "every 6h" or "every 30m")')
        return None
    minutes = int(match.group(1)) * _UNIT_MINUTES[match.group(2)[0].lower()]
    if minutes < 5:
        raise ScheduleError(f'"{spec}" is too frequent (the shortest interval is 5 minutes)')
    if minutes > 60 * 24 * 31:
        raise ScheduleError(f'"{spec}" is too rare (the longest interval is 31 days)')
    start = _ANCHOR.replace(tzinfo=zone)
    return IntervalTrigger(minutes, start, zone)


def _cron(spec: str, zone: tzinfo) -> Trigger:
    if len(spec.split()) != 5:
        raise ScheduleError(f'"{spec}" is not a schedule (use "daily 08:00", "weekdays 07:30", '
                            '"every 6h" or a cron expression such as "0 8 * * 1-5")')
    minute, hour, day, month, weekdays = spec.split()
    from apscheduler.triggers.cron import CronTrigger  # slow to import: only for cron text

    try:
        trigger: Trigger = CronTrigger(minute=minute, hour=hour, day=day, month=month,
                                       day_of_week=cron_weekdays(weekdays), timezone=zone)
    except ValueError as error:
        raise ScheduleError(f'"{spec}" is not a valid cron expression: {error}') from None
    return trigger


def cron_weekdays(field: str) -> str:
    """Cron's day-of-week numbers (0 or 7 = Sunday) as names; APScheduler counts from Monday."""
    return ",".join(_weekday_part(part) for part in field.split(","))


def _weekday_part(part: str) -> str:
    base, slash, step = part.partition("/")
    numbers = base.split("-")
    if not all(n.isdigit() for n in numbers):
        return part  # "*" or names, which APScheduler reads as cron does
    if len(numbers) > 2 or any(int(n) > 7 for n in numbers):
        raise ScheduleError(f'"{part}" is not a valid day of the week (0-7, 0 and 7 = Sunday)')
    days = [(int(n) - 1) % 7 for n in numbers]  # cron's Sunday (0 or 7) is our last day
    if len(days) == 1:
        names = _WEEKDAYS[days[0]]
    elif days[0] <= days[1]:
        names = f"{_WEEKDAYS[days[0]]}-{_WEEKDAYS[days[1]]}"
    else:  # a range starting on Sunday: Sunday, then Monday onwards
        names = f"sun,mon-{_WEEKDAYS[days[1]]}" if days[1] else "sun,mon"
    return names + slash + step


def _to_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)
