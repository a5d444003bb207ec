"""What the bot did in the fake Telegram, as tests read it and wait for it.

:class:`BotRecords` is mixed into :class:`tests.fakes.telegram_server.FakeTelegram`; everything
comes from the recorded :class:`~tests.fakes.telegram_state.FakeState`.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes.telegram_methods import visible_commands
from tests.fakes.telegram_state import (
    CallbackAnswer,
    FakeState,
    RecordedRequest,
    SentDocument,
    SentMessage,
    Webhook,
)
from tests.fakes.telegram_world import JSON


class BotRecords:
    """Sent messages, edits, documents, callback answers, requests, commands and updates."""

    state: FakeState

    @property
    def documents(self) -> list[SentDocument]:
        """Every document the bot sent (sendDocument), with the file's name and bytes."""
        return list(self.state.documents)

    @property
    def downloads(self) -> list[str]:
        """The file paths the bot downloaded, in order."""
        return list(self.state.downloads)

    @property
    def sent(self) -> list[SentMessage]:
        """Every message the bot sent, in order (edited ones show their latest state)."""
        return list(self.state.sent)

    def sent_to(self, chat_id: int, thread_id: int | None = None) -> list[SentMessage]:
        """Messages sent to one chat (and topic, if given)."""
        return [
            m
            for m in self.state.sent
            if m.chat_id == chat_id and (thread_id is None or m.thread_id == thread_id)
        ]

    @property
    def webhook(self) -> Webhook | None:
        """The webhook setWebhook registered (None while the bot polls)."""
        return self.state.webhook

    @property
    def edits(self) -> list[SentMessage]:
        """Every accepted editMessageText, as the message looked after it."""
        return list(self.state.edits)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """Every accepted answerCallbackQuery."""
        return list(self.state.callback_answers)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every authenticated HTTP call, in order, with its answer status."""
        return list(self.state.requests)

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded calls of one method (case-insensitive)."""
        return [r for r in self.state.requests if r.method.lower() == method.lower()]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON] | None:
        """Commands stored by setMyCommands for a scope dict like the Bot API's (None if unset)."""
        scope = scope or {"type": "default"}
        key = tuple(scope[k] for k in ("type", "chat_id", "user_id") if k in scope)
        return self.state.commands.get((key, language_code))

    def visible_commands(self, chat_id: int, user_id: int, language_code: str = "") -> list[JSON]:
        """The menu a user would see, by Telegram's scope resolution order."""
        return visible_commands(self.state, chat_id, user_id, language_code)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates offset."""
        return list(self.state.updates.pending)

    @property
    def dropped_updates(self) -> list[JSON]:
        """Updates Telegram would not deliver (allowed_updates, privacy mode, dropped)."""
        return list(self.state.updates.dropped)

    # ----------------------------------------------------------------- waiting
    async def wait_for(self, predicate: Callable[[], bool], within: float = 30.0) -> None:
        """Wait until ``predicate()`` holds after some server activity; TimeoutError if not."""
        if not await self.state.signal.wait_until(predicate, within):
            raise TimeoutError(f"condition not met within {within}s")

    async def wait_sent(
        self, count: int = 1, *, chat_id: int | None = None, within: float = 30.0
    ) -> list[SentMessage]:
        """Wait until at least ``count`` messages were sent (to ``chat_id``); return them."""

        def matching() -> list[SentMessage]:
            return [m for m in self.state.sent if chat_id is None or m.chat_id == chat_id]

        await self.wait_for(lambda: len(matching()) >= count, within)
        return matching()

    async def wait_confirmed(self, update: JSON, within: float = 30.0) -> None:
        """Wait until the bot confirmed ``update`` (a later getUpdates offset passed it)."""
        update_id = update["update_id"]
        await self.wait_for(lambda: self.state.updates.confirmed_below > update_id, within)
