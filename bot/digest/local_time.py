"""Moments as a channel shows them: in its timezone, e.g. "2026-11-24 08:15 CET"."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DATE_TIME = "%Y-%m-%d %H:%M %Z"
TIME = "%H:%M %Z"


def zone(name: str) -> tzinfo:
    """The named IANA timezone; UTC for a name this system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def to_local(moment: datetime, timezone: str) -> datetime:
    """`moment` in the named timezone; a naive moment is taken as UTC."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(zone(timezone))


def format_local(moment: datetime, timezone: str, pattern: str = DATE_TIME) -> str:
    """`moment` written in the named timezone: "2026-11-24 08:15 CET" (with TIME, "08:15 CET")."""
    return to_local(moment, timezone).strftime(pattern)
