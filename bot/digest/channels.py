"""The channels as they stand: the config file's and those made from chat, chat settings on top."""

from __future__ import annotations

from collections.abc import Sequence

from bot.model import Channel
from bot.store.channels import ChannelStore


class ChannelBook:
    """Reads channels: the file's defaults (or the default timezone), then what moderators set
    from chat. Needs only the database, so `status` and `check` read it without the digest
    service."""

    def __init__(self, store: ChannelStore, configured: Sequence[Channel],
                 default_timezone: str) -> None:
        self._store = store
        self._configured = {c.id: c for c in configured}
        self._timezone = default_timezone

    @property
    def configured_ids(self) -> list[str]:
        """The ids of the config file's channels, in its order."""
        return list(self._configured)

    async def channels(self) -> list[Channel]:
        """Every channel: from the file and created from chat, with chat settings on top."""
        ids = sorted(set(self._configured) | set(await self._store.stored_ids()))
        return [await self.channel(channel_id) for channel_id in ids]

    async def channel(self, channel_id: str) -> Channel:
        """One channel as it stands now (file defaults, chat settings on top)."""
        base = self._configured.get(channel_id) or Channel(id=channel_id, timezone=self._timezone)
        return await self._store.apply_overrides(base)
