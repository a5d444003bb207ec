"""Mutable state of the fake Telegram server: records, update queue, commands, signals."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_world import JSON, FakeUser, World

DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description, optional response parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSON:
        """The error body exactly as the Bot API sends it."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


class Params:
    """Request parameters: form values are strings (nested ones JSON-encoded), JSON are typed."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        """True if the parameter was sent and is not empty."""
        return self.raw.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        """The parameter as text, or None."""
        value = self.raw.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        """The parameter as an integer, or None; garbage answers 400 like Telegram."""
        value = self.raw.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """The parameter as a boolean (absent means False)."""
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def decoded(self, name: str, what: str | None = None) -> Any:
        """The parameter decoded from JSON (if it came as a string), or None."""
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None


class Signal:
    """Wakes every waiter when anything changes; usable from sync code on the loop thread."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool:
        """Wait until ``predicate()`` holds or ``within`` seconds elapse; return its last value."""
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


@dataclass
class SentMessage:
    """A message the bot sent (or its state after an edit)."""

    chat_id: int
    message_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[JSON]
    thread_id: int | None = None
    link_preview_disabled: bool = False
    reply_markup: JSON | None = None
    reply_to_message_id: int | None = None
    disable_notification: bool = False


@dataclass(frozen=True)
class StoredFile:
    """A file a user sent, kept for getFile and the download route."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent (sendDocument), with the uploaded file's name and bytes."""

    chat_id: int
    message_id: int
    filename: str
    data: bytes
    caption: str = ""
    thread_id: int | None = None
    reply_to_message_id: int | None = None


@dataclass
class CallbackAnswer:
    """A bot's answerCallbackQuery call."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class IssuedQuery:
    """A callback query the fake injected and whether it has been answered."""

    user: FakeUser
    issued_at: float
    answered: bool = False


@dataclass
class Webhook:
    """The webhook setWebhook registered: where updates go and the secret they carry."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None = None
    max_connections: int = 40


@dataclass
class RecordedRequest:
    """One HTTP call the bot made: method name as called, decoded parameters, HTTP status."""

    method: str
    params: dict[str, Any]
    status: int = 200


@dataclass
class UpdateQueue:
    """Pending updates with Telegram's getUpdates semantics."""

    pending: list[JSON] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(700_000_001))
    allowed: frozenset[str] | None = None
    dropped: list[JSON] = field(default_factory=list)
    delivered: list[JSON] = field(default_factory=list)
    confirmed_below: int = 0
    poll_generation: int = 0

    def accepts(self, kind: str) -> bool:
        """Whether the current allowed_updates setting lets Telegram store ``kind`` updates."""
        if self.allowed is None or not self.allowed:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self.allowed

    def push(self, kind: str, payload: JSON) -> JSON:
        """Queue an update of ``kind`` (dropped if not allowed) and return it."""
        update: JSON = {"update_id": next(self.ids), kind: payload}
        if self.accepts(kind):
            self.pending.append(update)
        else:
            self.dropped.append(update)
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            self.confirmed_below = max(self.confirmed_below, offset)
        elif offset < 0:
            self.pending = self.pending[offset:]

    def clear(self) -> None:
        """Drop everything pending (deleteWebhook with drop_pending_updates)."""
        self.dropped.extend(self.pending)
        self.pending.clear()


@dataclass
class FakeState:
    """Everything the method handlers read and change."""

    world: World
    signal: Signal = field(default_factory=Signal)
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    sent: list[SentMessage] = field(default_factory=list)
    edits: list[SentMessage] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    documents: list[SentDocument] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)  # file_paths the bot fetched
    deleted: list[tuple[int, int]] = field(default_factory=list)
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    queries: dict[str, IssuedQuery] = field(default_factory=dict)
    commands: dict[tuple[tuple[Any, ...], str], list[JSON]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    closing: bool = False
    callback_timeout: float = 15.0
    webhook: Webhook | None = None
