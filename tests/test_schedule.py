"""Digest schedules: parsing, timezones, DST changes, and missed slots after downtime."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.digest.schedule import ScheduleError, cron_weekdays, parse_schedule


@pytest.mark.parametrize(("text", "tz", "after", "expected"), [
    ("daily 08:00", "UTC", datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
     datetime(2026, 11, 26, 8, 0, tzinfo=UTC)),
    ("daily 08:00", "Europe/Berlin", datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
     datetime(2026, 11, 25, 7, 0, tzinfo=UTC)),
    ("weekdays 07:30", "UTC", datetime(2026, 11, 27, 8, 0, tzinfo=UTC),  # a Friday
     datetime(2026, 11, 30, 7, 30, tzinfo=UTC)),
    ("every 6h", "UTC", datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
     datetime(2026, 11, 25, 12, 0, tzinfo=UTC)),
    ("0 8 * * 1-5", "UTC", datetime(2026, 11, 28, 0, 0, tzinfo=UTC),  # a Saturday
     datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
])
def test_next_slot(text: str, tz: str, after: datetime, expected: datetime) -> None:
    """Each schedule form gives the next slot in its timezone, returned in UTC."""
    assert parse_schedule(text, tz).next_after(after) == expected


def test_daily_time_follows_local_clock_across_dst() -> None:
    """`daily 08:00` in Berlin is 07:00 UTC in winter and 06:00 UTC in summer."""
    schedule = parse_schedule("daily 08:00", "Europe/Berlin")
    before = schedule.next_after(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    after = schedule.next_after(datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert before == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # the morning of the change
    assert after == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    autumn = schedule.next_after(datetime(2026, 10, 25, 0, 0, tzinfo=UTC))
    assert autumn == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)


def test_missed_slots_collapse_into_the_newest() -> None:
    """After three days down, only the newest missed slot is due, once."""
    schedule = parse_schedule("daily 08:00", "UTC")
    down = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert schedule.latest_due(down, now) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert schedule.latest_due(now, now) is None


def test_missed_slot_of_a_frequent_schedule_after_a_year_is_quick() -> None:
    """A year of missed 5-minute slots is found without walking every slot."""
    schedule = parse_schedule("every 5m", "UTC")
    slot = schedule.latest_due(datetime(2025, 11, 25, tzinfo=UTC),
                               datetime(2026, 11, 25, 12, 3, tzinfo=UTC))
    assert slot == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "tz", "message"), [
    ("daily 25:00", "UTC", '"25:00" is not a time of day'),
    ("every 1m", "UTC", "too frequent"),
    ("every 40d", "UTC", "too rare"),
    ("often", "UTC", "is not a schedule"),
    ("61 * * * *", "UTC", "not a valid cron expression"),
    ("daily 08:00", "Atlantis/Capital", "not a known timezone"),
])
def test_bad_schedules_say_why(text: str, tz: str, message: str) -> None:
    """A schedule or timezone the bot can't follow is a ScheduleError saying why."""
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text, tz)


@pytest.mark.parametrize(("field", "names"), [
    ("1-5", "mon-fri"), ("0", "sun"), ("7", "sun"), ("0-2", "sun,mon-tue"),
    ("5-7", "fri-sun"), ("1,3,5", "mon,wed,fri"), ("*/2", "*/2"), ("mon-fri", "mon-fri"),
])
def test_cron_weekdays_count_from_sunday(field: str, names: str) -> None:
    """Cron day numbers (0 and 7 = Sunday) mean what they mean in cron."""
    assert cron_weekdays(field) == names
