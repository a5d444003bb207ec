"""A loopback fake of the Telegram Bot API for the real python-telegram-bot.

Usage::

    async with FakeTelegram() as fake:
        alice = fake.add_user("Alice")
        dm = fake.add_private_chat(alice)
        app = Application.builder().token(fake.token).base_url(fake.base_url).build()
        ...
        fake.send_command(dm.id, alice.id, "/latest politics")
        [reply] = await fake.wait_sent(chat_id=dm.id)

The world lives in :mod:`telegram_world`, the HTML parser in :mod:`telegram_html`, method
handlers in :mod:`telegram_methods` / :mod:`telegram_messages`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.telegram_files import document_json, download, store_file, with_caption
from tests.fakes.telegram_methods import HANDLERS, issue_query, visible_commands
from tests.fakes.telegram_scripting import (
    FLOODED_METHODS,
    RateLimiter,
    ScriptedFailure,
    too_many_requests,
)
from tests.fakes.telegram_state import (
    ApiError,
    CallbackAnswer,
    FakeState,
    Params,
    RecordedRequest,
    SentDocument,
    SentMessage,
    Webhook,
)
from tests.fakes.telegram_webhook import deliver
from tests.fakes.telegram_world import (
    JSON,
    FakeChat,
    FakeMember,
    FakeUser,
    MemberStatus,
    World,
    command_entities,
)

DEFAULT_TOKEN = "123456789:AAFakeTokenForTests_0123456789abcdefg"
TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
RATE_LIMITED_METHODS = frozenset({"sendmessage"})


class FakeTelegram:
    """The fake Bot API server (async context manager on 127.0.0.1, random port)."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "newsbot_test_bot",
        bot_name: str = "Newsbot",
        rate_limits: bool = False,
        privacy_mode: bool = False,
    ) -> None:
        self.token = token
        self.world = World(FakeUser(int(token.split(":")[0]), bot_name, bot_username, is_bot=True))
        self.state = FakeState(self.world)
        self.rate_limits = rate_limits
        self.privacy_mode = privacy_mode
        self.internal_errors: list[BaseException] = []
        self._limiter = RateLimiter()
        self._scripted: dict[str, deque[ScriptedFailure]] = defaultdict(deque)
        self._flooded: dict[int, int] = {}  # chat id -> the retry_after of every 429 there
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.state.closing = True
        self.state.signal.fire()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.internal_errors and exc is None:
            raise AssertionError(f"fake Telegram crashed: {self.internal_errors!r}")

    @property
    def base_url(self) -> str:
        """Pass to ``ApplicationBuilder.base_url``; PTB appends the token."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """Pass to ``ApplicationBuilder.base_file_url``; files users sent are served there."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    # ----------------------------------------------------------------- HTTP
    async def _handle(self, request: web.Request) -> web.Response:
        prefix, _, rest = request.path.partition("/bot")
        token, _, method = rest.partition("/")
        if prefix == "/file" and token == self.token and request.method == "GET":
            return download(self.state, method)
        if prefix or not token:
            return _error(ApiError(404, "Not Found"))
        if token != self.token:
            status = 401 if TOKEN_RE.fullmatch(token) else 404
            return _error(ApiError(status, HTTPStatus(status).phrase))
        params = await _read_params(request)
        recorded = RecordedRequest(method, params)
        self.state.requests.append(recorded)
        try:
            result = await self._dispatch(method.lower(), Params(params))
        except ApiError as err:
            recorded.status = err.status
            return _error(err)
        except Exception as err:  # a bug in the fake: answer 500 and fail the test at exit
            self.internal_errors.append(err)
            recorded.status = 500
            return _error(ApiError(500, "Internal Server Error"))
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, method: str, params: Params) -> Any:
        handler = HANDLERS.get(method)
        if handler is None:
            raise ApiError(404, "Not Found")
        scripted = self._scripted[method]
        if scripted:
            failure = scripted.popleft()
            await asyncio.sleep(failure.delay)
            error = failure.error()
            if error is not None:
                raise error
        chat = self.world.find_chat(params.text("chat_id") or "")
        if chat is not None and method in FLOODED_METHODS and chat.id in self._flooded:
            raise too_many_requests(self._flooded[chat.id])
        limited = self.rate_limits and method in RATE_LIMITED_METHODS and chat is not None
        if limited and chat is not None:
            self._limiter.check(chat)
        result = await handler(self.state, params)
        if limited and chat is not None:
            self._limiter.record(chat.id)
        return result

    # ----------------------------------------------------------------- scripting
    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` (429, 5xx, ...)."""
        for _ in range(times):
            failure = ScriptedFailure(status, retry_after, description)
            self._scripted[method.lower()].append(failure)

    def flood_chat(self, chat: FakeChat, retry_after: int = 1) -> None:
        """Answer every message posted to (or edited in) ``chat`` with 429 and this
        ``retry_after``, however often it is tried, until :meth:`end_flood`."""
        self._flooded[chat.id] = retry_after

    def end_flood(self, chat: FakeChat) -> None:
        """Let messages to ``chat`` through again."""
        self._flooded.pop(chat.id, None)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer (normally) after ``seconds``."""
        for _ in range(times):
            self._scripted[method.lower()].append(ScriptedFailure(None, 0, None, seconds))

    # ----------------------------------------------------------------- world builders
    def add_user(self, first_name: str = "User", **kwargs: Any) -> FakeUser:
        """A human user (username=, last_name=, language_code= optional)."""
        return self.world.add_user(first_name, **kwargs)

    def add_private_chat(self, user: FakeUser, **kwargs: Any) -> FakeChat:
        """The private chat with ``user`` (started=, blocked= optional)."""
        return self.world.add_private_chat(user, **kwargs)

    def add_group(self, title: str = "Group", **kwargs: Any) -> FakeChat:
        """A basic group (bot_status= optional)."""
        return self.world.add_group(title, **kwargs)

    def add_supergroup(self, title: str = "Supergroup", **kwargs: Any) -> FakeChat:
        """A supergroup (is_forum=, username=, bot_status= optional)."""
        return self.world.add_supergroup(title, **kwargs)

    def add_channel(self, title: str = "Channel", **kwargs: Any) -> FakeChat:
        """A channel (username=, bot_status= optional; default the bot is administrator)."""
        return self.world.add_channel(title, **kwargs)

    def add_topic(self, chat: FakeChat, name: str) -> int:
        """A forum topic in ``chat``; returns its message_thread_id."""
        return self.world.add_topic(chat, name)

    def set_member(
        self, chat: FakeChat, user: FakeUser, status: MemberStatus, **kwargs: Any
    ) -> FakeMember:
        """Set a status (is_anonymous=, custom_title=, can_*= rights optional)."""
        return self.world.set_member(chat, user, status, **kwargs)

    def block_bot(self, chat: FakeChat) -> None:
        """The private chat's user blocks the bot."""
        chat.blocked = True

    def kick_bot(self, chat: FakeChat) -> None:
        """The bot is removed from a group, supergroup or channel."""
        self.world.set_member(chat, self.world.bot, "kicked")

    # ----------------------------------------------------------------- injecting updates
    def inject(self, kind: str, payload: JSON) -> JSON:
        """Queue a raw update of ``kind`` (e.g. "my_chat_member"); returns the update."""
        update = self.state.updates.push(kind, payload)
        self.state.signal.fire()
        return update

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A user writes ``text`` in a chat; bot_command entities are detected like Telegram."""
        chat = self.world.chats[chat_id]
        message = self.world.user_message(chat, user_id, text, thread_id)
        if reply_to is not None:
            message["reply_to_message"] = chat.messages[reply_to]
        chat.messages[message["message_id"]] = message
        if self.privacy_mode and not self.world.privacy_allows(chat, text):
            update: JSON = {"message": message}
            self.state.updates.dropped.append(update)
            return update
        return self.inject("message", message)

    def send_command(
        self, chat_id: int, user_id: int, command: str, thread_id: int | None = None
    ) -> JSON:
        """A user sends ``/cmd args`` (or ``/cmd@botname``); returns the update."""
        if not command.startswith("/"):
            raise ValueError(f"a command starts with '/': {command!r}")
        return self.send_text(chat_id, user_id, command, thread_id=thread_id)

    def send_document_message(
        self,
        chat_id: int,
        user_id: int,
        filename: str,
        data: bytes,
        caption: str = "",
        *,
        mime_type: str = "application/octet-stream",
        thread_id: int | None = None,
    ) -> JSON:
        """A user sends a file with a caption (e.g. ``/feed import``); returns the update."""
        chat = self.world.chats[chat_id]
        message = with_caption(self.world.user_message(chat, user_id, caption, thread_id))
        if not message["caption"]:
            del message["caption"]
        stored = store_file(self.state, filename, data)
        message["document"] = document_json(stored, filename, mime_type)
        chat.messages[message["message_id"]] = message
        return self.inject("message", message)

    def press_button(self, chat_id: int, user_id: int, message_id: int, data: str) -> JSON:
        """A user presses the inline button carrying ``data`` under a bot message."""
        chat = self.world.chats[chat_id]
        message = chat.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == data for row in rows for button in row):
            raise LookupError(f"message {message_id} has no button with data {data!r}")
        query_id = str(4_000_000_000_000 + len(self.state.queries))
        issue_query(self.state, query_id, user_id)
        query: JSON = {
            "id": query_id,
            "from": self.world.users[user_id].to_json(),
            "message": message,
            "chat_instance": str(abs(chat_id) * 7919 % 10**12),
            "data": data,
        }
        return self.inject("callback_query", query)

    async def deliver_webhook(self, update: JSON, *, secret_token: str | None = None) -> int:
        """POST ``update`` to the registered webhook with its secret header; the HTTP status.

        ``secret_token`` overrides the registered secret (to play an impostor).
        """
        hook = self.state.webhook
        if hook is None:
            raise LookupError("no webhook is set")
        return await deliver(self.state, update, secret_token or hook.secret_token)

    def post_in_channel(self, chat_id: int, text: str) -> JSON:
        """A post appears in a channel; admins bots receive it as ``channel_post``."""
        chat = self.world.chats[chat_id]
        message: JSON = {
            "message_id": chat.new_message_id(),
            "sender_chat": chat.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
            "text": text,
        }
        if entities := command_entities(text):
            message["entities"] = entities
        chat.messages[message["message_id"]] = message
        return self.inject("channel_post", message)

    # ----------------------------------------------------------------- reading records
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
    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``predicate()`` holds after some server activity; TimeoutError if not."""
        if not await self.state.signal.wait_until(predicate, within):
            raise TimeoutError(f"condition not met within {within}s")

    async def wait_sent(
        self, count: int = 1, *, chat_id: int | None = None, within: float = 5.0
    ) -> list[SentMessage]:
        """Wait until at least ``count`` messages were sent (to ``chat_id``); return them."""

        def matching() -> list[SentMessage]:
            return [m for m in self.state.sent if chat_id is None or m.chat_id == chat_id]

        await self.wait_for(lambda: len(matching()) >= count, within)
        return matching()

    async def wait_confirmed(self, update: JSON, within: float = 5.0) -> None:
        """Wait until the bot confirmed ``update`` (a later getUpdates offset passed it)."""
        update_id = update["update_id"]
        await self.wait_for(lambda: self.state.updates.confirmed_below > update_id, within)


def _error(err: ApiError) -> web.Response:
    return web.json_response(err.to_json(), status=err.status)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus body: JSON object, urlencoded or multipart form (as PTB sends)."""
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    params.update(form.items())
    return params
