"""Helpers shared by the end-to-end tests that run `newsbot run` against fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.store import open_store


async def make_due(database: Path, *channel_ids: str) -> None:
    """Give channels rows made an hour ago, so that their digest is due at start."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    async with open_store(database) as store:
        for channel_id in channel_ids:
            await store.channels.ensure(channel_id, an_hour_ago)
