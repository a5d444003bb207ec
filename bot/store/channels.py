"""Channels: settings changed from chat (they win over the file), last digest, pauses, and
the secret addresses of the channels published on the web."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.model import Channel
from bot.store.db import Database, from_ts, to_ts

_SETTABLE = ("feeds", "filter", "digest", "timezone", "max_items")


class ChannelStore:
    """Queries on the channels table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(self, channel_id: str, now: datetime) -> None:
        """Create the channel's row if it has none yet."""
        await self._db.execute(
            "INSERT INTO channels (id, created) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            (channel_id, to_ts(now)))

    async def stored_ids(self) -> list[str]:
        """Channels that have a row (from the file or created from chat)."""
        return [row[0] for row in await self._db.fetchall("SELECT id FROM channels ORDER BY id")]

    async def apply_overrides(self, channel: Channel) -> Channel:
        """The channel as the file says, with what moderators set from chat on top."""
        row = await self._db.fetchone(
            "SELECT feeds, filter, digest, timezone, max_items FROM channels WHERE id = ?",
            (channel.id,))
        if row is None:
            return channel
        changes: dict[str, object] = {k: row[k] for k in _SETTABLE if row[k] is not None}
        if "feeds" in changes:
            changes["feeds"] = tuple(str(changes["feeds"]).split("\t")) if changes["feeds"] else ()
        return replace(channel, **changes)  # type: ignore[arg-type]

    async def set_setting(self, channel_id: str, key: str, value: str | int | None,
                          now: datetime) -> None:
        """Store one setting changed from chat (None: back to the file's value)."""
        if key not in _SETTABLE:
            raise ValueError(f"unknown channel setting {key!r}")
        await self.ensure(channel_id, now)
        await self._db.execute(f"UPDATE channels SET {key} = ? WHERE id = ?", (value, channel_id))

    async def last_digest(self, channel_id: str) -> datetime | None:
        """The slot of the channel's last composed digest, or None before the first."""
        row = await self._db.fetchone("SELECT last_digest FROM channels WHERE id = ?",
                                      (channel_id,))
        return None if row is None else from_ts(row[0])

    async def last_breaking(self, channel_id: str) -> datetime | None:
        """When breaking news was last posted to the channel."""
        row = await self._db.fetchone("SELECT last_breaking FROM channels WHERE id = ?",
                                      (channel_id,))
        return None if row is None else from_ts(row[0])

    async def created(self, channel_id: str) -> datetime | None:
        """When the channel first got a row."""
        row = await self._db.fetchone("SELECT created FROM channels WHERE id = ?", (channel_id,))
        return None if row is None else from_ts(row[0])

    async def paused_reason(self, channel_id: str) -> str:
        """Why posting to the channel stopped ('' when it is not paused)."""
        row = await self._db.fetchone("SELECT paused_reason FROM channels WHERE id = ?",
                                      (channel_id,))
        return "" if row is None else str(row[0])

    async def set_paused(self, channel_id: str, reason: str) -> None:
        """Pause posting with a reason shown in status ('' resumes)."""
        await self._db.execute("UPDATE channels SET paused_reason = ? WHERE id = ?",
                               (reason, channel_id))

    async def page_token(self, channel_id: str) -> str | None:
        """The secret token of the channel's web page, or None when it is not published."""
        row = await self._db.fetchone("SELECT token FROM channel_pages WHERE channel_id = ?",
                                      (channel_id,))
        return None if row is None or row[0] is None else str(row[0])

    async def set_page_token(self, channel_id: str, token: str | None, now: datetime) -> None:
        """Publish the channel under `token` (replacing any earlier one), or take it down
        (None); a moderator's choice, kept over the config file's."""
        await self._db.execute(
            "INSERT INTO channel_pages (channel_id, token, changed) VALUES (?, ?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET token = excluded.token, "
            "changed = excluded.changed", (channel_id, token, to_ts(now)))

    async def add_page_token(self, channel_id: str, token: str, now: datetime) -> str | None:
        """Publish the channel under `token` unless it was ever published or taken down
        before (the config's `publish = true`); returns the token in effect, if any."""
        await self._db.execute(
            "INSERT INTO channel_pages (channel_id, token, changed) VALUES (?, ?, ?) "
            "ON CONFLICT (channel_id) DO NOTHING", (channel_id, token, to_ts(now)))
        return await self.page_token(channel_id)

    async def channel_of_page(self, token: str) -> str | None:
        """The id of the channel published under this token (None: no such page)."""
        row = await self._db.fetchone("SELECT channel_id FROM channel_pages WHERE token = ?",
                                      (token,))
        return None if row is None else str(row[0])
