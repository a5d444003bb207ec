"""A loopback fake of the Telegram Bot API for the real python-telegram-bot.

Usage::

    async with FakeTelegram() as fake:
        alice = fake.add_user("Alice")
        dm = fake.add_private_chat(alice)
        app = Application.builder().token(fake.token).base_url(fake.base_url).build()
        ...
        fake.send_command(dm.id, alice.id, "/latest politics")
        [reply] = await fake.wait_sent(chat_id=dm.id)

The world lives in :mod:`telegram_world`, users' actions in :mod:`telegram_updates`, the
records tests read in :mod:`telegram_records`, the HTML parser in :mod:`telegram_html`, method
handlers in :mod:`telegram_methods` / :mod:`telegram_messages`.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict, deque
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.telegram_files import download
from tests.fakes.telegram_methods import HANDLERS
from tests.fakes.telegram_records import BotRecords
from tests.fakes.telegram_scripting import (
    FLOODED_METHODS,
    RateLimiter,
    Refusal,
    ScriptedFailure,
    too_many_requests,
)
from tests.fakes.telegram_state import ApiError, FakeState, Params, RecordedRequest
from tests.fakes.telegram_updates import UserActions
from tests.fakes.telegram_world import FakeChat, FakeMember, FakeUser, MemberStatus, World

DEFAULT_TOKEN = "123456789:AAFakeTokenForTests_0123456789abcdefg"
TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
RATE_LIMITED_METHODS = frozenset({"sendmessage"})


class FakeTelegram(UserActions, BotRecords):
    """The fake Bot API server (async context manager on 127.0.0.1, random port).

    What users do comes from :class:`UserActions`, what the bot did from :class:`BotRecords`.
    """

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
        self._refusals: list[Refusal] = []
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
        failure = scripted.popleft() if scripted else None
        if failure is not None and not failure.after:
            await asyncio.sleep(failure.delay)
            error = failure.error()
            if error is not None:
                raise error
        refusal = next((r for r in self._refusals if r.refuses(params)), None)
        if method == "sendmessage" and refusal is not None:
            raise refusal.error()
        chat = self.world.find_chat(params.text("chat_id") or "")
        if chat is not None and method in FLOODED_METHODS and chat.id in self._flooded:
            raise too_many_requests(self._flooded[chat.id])
        limited = self.rate_limits and method in RATE_LIMITED_METHODS and chat is not None
        if limited and chat is not None:
            self._limiter.check(chat)
        result = await handler(self.state, params)
        if limited and chat is not None:
            self._limiter.record(chat.id)
        if failure is not None and failure.after:
            await self.state.signal.wait_until(lambda: self.state.closing, failure.delay)
            if (late := failure.error()) is not None:
                raise late
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

    def fail_after_next(self, method: str, status: int = 502) -> None:
        """Let the next call of ``method`` do its work (a message is created), then answer
        ``status`` instead of the result, so the bot can't know it worked."""
        self._scripted[method.lower()].append(ScriptedFailure(status, 0, None, after=True))

    def hold_answer_next(self, method: str, seconds: float = 3600.0) -> None:
        """Let the next call of ``method`` do its work (a message is created), then keep its
        answer back for ``seconds`` or until the fake closes: a bot killed meanwhile never
        learns that it worked."""
        self._scripted[method.lower()].append(ScriptedFailure(None, 0, None, seconds, True))

    def refuse_text(self, marker: str, description: str, *, plain_too: bool = False) -> None:
        """Refuse with a 400 and ``description`` every sendMessage whose text holds ``marker``:
        only HTML/Markdown ones, or plain ones too with ``plain_too``."""
        self._refusals.append(Refusal(marker, description, plain_too))

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
