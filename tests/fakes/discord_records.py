"""What the fake remembers: messages, interaction callbacks, requests, scripted failures."""

from __future__ import annotations

import asyncio
import fnmatch
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord_world import JSON, iso_now

EPHEMERAL = 1 << 6
LOADING = 1 << 7
CROSSPOSTED = 1 << 0


@dataclass
class StoredMessage:
    """A message the bot created (in a channel, a forum post, or via an interaction).

    ``source`` is ``"channel"``, ``"forum_post"``, ``"interaction"`` (an initial response)
    or ``"followup"``. Edits update the fields in place and bump ``edits``.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author: JSON
    content: str
    embeds: list[JSON]
    allowed_mentions: JSON | None
    nonce: str | int | None
    flags: int
    source: str
    interaction_id: int | None = None
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    #: Uploaded files as (filename, bytes), in upload order.
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    edits: int = 0
    deleted: bool = False
    edited_at: str | None = None
    created_at: str = field(default_factory=iso_now)

    @property
    def ephemeral(self) -> bool:
        """Whether the message carries the EPHEMERAL flag."""
        return bool(self.flags & EPHEMERAL)

    def apply_edit(self, body: JSON) -> None:
        """Apply a PATCH body (only the fields present)."""
        if "content" in body:
            self.content = body["content"] or ""
        if "embeds" in body:
            self.embeds = list(body["embeds"] or [])
        if "allowed_mentions" in body:
            self.allowed_mentions = body["allowed_mentions"]
        if "components" in body:
            self.components = list(body["components"] or [])
        self.flags &= ~LOADING
        self.edits += 1
        self.edited_at = iso_now()

    def payload(self) -> JSON:
        """Message object as sent on the wire."""
        data: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": 0 if self.interaction_id is None else 20,
            "author": self.author,
            "content": self.content,
            "embeds": self.embeds,
            "attachments": self.attachments,
            "components": self.components,
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": self.created_at,
            "edited_timestamp": self.edited_at,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        return data


@dataclass(frozen=True)
class Upload:
    """A file a user attaches to a slash command option of type ATTACHMENT."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class InteractionCallback:
    """One POST /interactions/{id}/{token}/callback the bot made."""

    interaction_id: int
    token: str
    type: int
    data: JSON

    @property
    def flags(self) -> int:
        """``data.flags`` (64 = ephemeral)."""
        return int(self.data.get("flags") or 0)

    @property
    def content(self) -> str | None:
        """``data.content`` if any."""
        value = self.data.get("content")
        return value if isinstance(value, str) else None

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices (type 8)."""
        return list(self.data.get("choices") or [])


@dataclass
class SentInteraction:
    """An interaction the fake dispatched; await :meth:`wait_response` for the bot's answer."""

    id: int
    token: str
    type: int
    payload: JSON
    guild_id: int | None
    channel_id: int
    created: float = field(default_factory=time.monotonic)
    callback: InteractionCallback | None = None
    original_message_id: int | None = None
    _answered: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledge(self, callback: InteractionCallback) -> None:
        """Record the bot's (single allowed) callback."""
        self.callback = callback
        self._answered.set()

    async def wait_response(self, seconds: float = 3.0) -> InteractionCallback:
        """Wait for the bot's initial response (Discord's own deadline is 3 s)."""
        async with asyncio.timeout(seconds):
            await self._answered.wait()
        assert self.callback is not None
        return self.callback


@dataclass(frozen=True)
class RequestRecord:
    """One REST request as the fake saw it (path is relative to ``/api/v10``)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class ScriptedFailure:
    """A failure the test asked for with ``fail_next``."""

    pattern: str
    status: int
    retry_after: float
    times: int
    is_global: bool = False

    def matches(self, method: str, path: str) -> bool:
        """Whether ``METHOD /path`` matches (patterns starting with '/' match any method)."""
        if self.pattern.startswith("/"):
            return fnmatch.fnmatchcase(path, self.pattern)
        return fnmatch.fnmatchcase(f"{method} {path}", self.pattern)

    def body(self) -> JSON:
        """Discord's error body for this failure."""
        if self.status == 429:
            return {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
                "code": 0,
            }
        return {"message": f"{self.status}: fake server error", "code": 0}
