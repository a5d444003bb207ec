"""Digest slots of the bot's own schedule forms (`daily 08:00`, `weekdays 07:30`, `every 6h`),
computed step for step as APScheduler's CronTrigger and IntervalTrigger compute them, DST
quirks included (tests/test_triggers.py compares the two over every transition).

APScheduler reads its own package metadata on import, a sixth of `newsbot check`'s start-up;
it is imported only for a schedule written as a cron expression (bot/digest/schedule.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

# CronTrigger's fields, most significant first; "week" and "day_of_week" are not datetime
# fields (they constrain but are never set).
_NAMES = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_REAL = (True, True, True, False, False, True, True, True)
_MIN = (1970, 1, 1, 1, 0, 0, 0, 0)
_MAX = (9999, 12, 31, 53, 6, 23, 59, 59)
_DAY, _WEEK, _WEEKDAY = 2, 3, 4
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # calendar's import costs more


class Trigger(Protocol):
    """When a schedule fires next (APScheduler's trigger interface, as far as we use it)."""

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        """The first slot at or after `now` (aware), or None when there is none."""


class DailyTrigger:
    """A wall-clock time on some weekdays (Monday = 0; None = every day): CronTrigger with
    day_of_week, hour and minute."""

    def __init__(self, weekdays: frozenset[int] | None, hour: int, minute: int,
                 zone: tzinfo) -> None:
        # The values each field allows; None = any ("*").
        self._allowed: tuple[frozenset[int] | None, ...] = (
            None, None, None, None, weekdays, frozenset({hour}), frozenset({minute}),
            frozenset({0}))
        self._zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        """CronTrigger.get_next_fire_time without a start date, end date or jitter."""
        assert previous_fire_time is None, "slots are always computed from a moment"
        field = 0
        next_date = _ceil(now).astimezone(self._zone)
        while 0 <= field < len(_NAMES):
            current = _value(next_date, field)
            following = self._next_value(next_date, field)
            if following is None:
                next_date, field = self._increment(next_date, field - 1)
            elif following > current:
                if _REAL[field]:
                    next_date = self._set(next_date, field, following)
                    field += 1
                else:
                    next_date, field = self._increment(next_date, field)
            else:
                field += 1
        return next_date if field >= 0 else None

    def _next_value(self, date: datetime, field: int) -> int | None:
        start = max(_value(date, field), _MIN[field])
        top = _max(date, field)
        allowed = self._allowed[field]
        if allowed is None:
            return start if start <= top else None
        return min((v for v in allowed if start <= v <= top), default=None)

    def _increment(self, date: datetime, field: int) -> tuple[datetime, int]:
        """Step `field` up by one and reset the less significant fields to their minimum,
        carrying into more significant fields as needed."""
        values: dict[str, int] = {}
        i = 0
        while i < len(_NAMES):
            if not _REAL[i]:
                if i == field:
                    field -= 1
                    i -= 1
                else:
                    i += 1
                continue
            if i < field:
                values[_NAMES[i]] = _value(date, i)
                i += 1
            elif i > field:
                values[_NAMES[i]] = _MIN[i]
                i += 1
            elif _value(date, i) == _max(date, i):
                field -= 1
                i -= 1
            else:
                values[_NAMES[i]] = _value(date, i) + 1
                i += 1
        difference = _naive(values) - date.replace(tzinfo=None)
        return _utc_add(date, difference), field

    def _set(self, date: datetime, field: int, value: int) -> datetime:
        values = {name: (_value(date, i) if i < field else _MIN[i] if i > field else value)
                  for i, name in enumerate(_NAMES) if _REAL[i]}
        return _naive(values).replace(tzinfo=self._zone, fold=date.fold)


class IntervalTrigger:
    """Every `minutes`, counted from `start` (aware): APScheduler's IntervalTrigger."""

    def __init__(self, minutes: int, start: datetime, zone: tzinfo) -> None:
        self._length = timedelta(minutes=minutes).total_seconds()
        self._start = start
        self._zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        """IntervalTrigger.get_next_fire_time without an end date or jitter."""
        assert previous_fire_time is None, "slots are always computed from a moment"
        if self._start > now:
            slot = self._start.timestamp()
        else:
            passed = now.timestamp() - self._start.timestamp()
            slot = self._start.timestamp() + self._length * math.ceil(passed / self._length)
        return datetime.fromtimestamp(slot, tz=self._zone)


def _value(date: datetime, field: int) -> int:
    if field == _WEEK:
        return date.isocalendar()[1]
    if field == _WEEKDAY:
        return date.weekday()
    value: int = getattr(date, _NAMES[field])
    return value


def _naive(values: dict[str, int]) -> datetime:
    return datetime(values["year"], values["month"], values["day"], values["hour"],
                    values["minute"], values["second"])


def _max(date: datetime, field: int) -> int:
    if field != _DAY:
        return _MAX[field]
    year, month = date.year, date.month
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return _MONTH_DAYS[month - 1] + leap


def _ceil(date: datetime) -> datetime:
    """Up to the next whole second."""
    if date.microsecond > 0:
        return _utc_add(date, timedelta(seconds=1, microseconds=-date.microsecond))
    return date


def _utc_add(date: datetime, delta: timedelta) -> datetime:
    """`date + delta` in UTC (right across DST changes), back in date's timezone."""
    zone = date.tzinfo
    if zone is None:
        return date + delta
    return (date.astimezone(UTC) + delta).astimezone(zone)
