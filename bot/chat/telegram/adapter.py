"""The Telegram platform: python-telegram-bot in the bot's loop, commands in, digests out."""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
    Message,
    Update,
)
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.chat.adapter import PlatformError
from bot.chat.commands import Commands
from bot.chat.leased_job import LeasedJob
from bot.chat.request import UserError
from bot.chat.telegram.access import Access, Admins, message_target
from bot.chat.telegram.buttons import Buttons
from bot.chat.telegram.documents import IMPORT_CAPTION, is_import_caption, read_document
from bot.chat.telegram.flood import (
    TELEGRAM_FLOOD_LIMITS,
    TELEGRAM_FLOOD_RETRIES,
    FloodGate,
    FloodLimits,
    FloodRetries,
)
from bot.chat.telegram.lookups import lookup_of
from bot.chat.telegram.render import TelegramMessage, plain_text_of, render_telegram_messages
from bot.chat.telegram.send import Poster, Target, gone_reason, parse_target, refusal_reason
from bot.config import TelegramSection
from bot.model import Digest, Reply
from bot.ports import ChannelGone, Clock, MessageRefused, SentCallback
from bot.store.leases import LeaseStore

log = logging.getLogger(__name__)
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
CONCURRENT_UPDATES = 8  # a slow command (a feed's first fetch) doesn't hold up other chats
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
POLLER_LEASE = "telegram-poller"  # Telegram allows one long poll per bot token at a time
TARGETABLE = ("digest", "status")  # public commands that take a named chat in private chats
DESCRIPTIONS = {
    "latest": "The newest stories, optionally with one tag",
    "search": "Stories matching every word",
    "related": "Stories related to a link or some words",
    "why": "Why a story was in this chat's digest",
    "digest": "This chat's digest, now",
    "status": "Feeds, failures and the next digest",
    "help": "What the bot can do",
    "feed": "Moderators: list, add, remove, import or export feeds",
    "filter": "Moderators: show, set, clear or test the topic filter",
    "schedule": "Moderators: show or set when the digest comes",
    "subscribe": "Moderators: follow a feed",
    "unsubscribe": "Moderators: stop following a feed",
    "publish": "Moderators: put the digests on the web (on, off, new)",
}


def menu(names: Sequence[str]) -> list[BotCommand]:
    """The command menu entries for these command names."""
    return [BotCommand(name, DESCRIPTIONS.get(name, f"/{name}")) for name in names]


def file_url(api_base_url: str) -> str:
    """The file download base matching an API base (`.../bot` -> `.../file/bot`)."""
    head, slash, tail = api_base_url.rstrip("/").rpartition("/")
    return f"{head}{slash}file/{tail}"


def probe_listen(host: str, port: int) -> None:
    """Bind host:port and let go at once; OSError when that's impossible (in use, no such IP)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    with socket.create_server((host, port), family=family[0][0]):
        pass


class TelegramAdapter:
    """Takes commands and button presses from Telegram; posts digests to chats and topics.

    Updates come by long polling, or by webhook when `webhook_url` is set. Of several
    processes sharing the database, the one holding the poller lease polls; every process
    sends, and with a webhook every process takes the updates posted to it.
    """

    def __init__(self, settings: TelegramSection, token: str, commands: Commands,
                 clock: Clock, *, leases: LeaseStore,
                 limits: FloodLimits = TELEGRAM_FLOOD_LIMITS,
                 retries: FloodRetries = TELEGRAM_FLOOD_RETRIES,
                 poll_timeout: timedelta = timedelta(seconds=10),
                 webhook_secret: str = "") -> None:
        self._settings = settings
        self._commands = commands
        self._leases = leases
        self._clock = clock
        self._updates = AsyncExitStack()
        self._poller: LeasedJob | None = None
        self._poll_timeout = poll_timeout
        # Without a configured secret, a new random one each start: setWebhook hands it to
        # Telegram then, and nothing else needs to know it.
        self._webhook_secret = webhook_secret or secrets.token_urlsafe(32)
        self._app: TelegramApp = (
            Application.builder().token(token).base_url(settings.api_base_url)
            .base_file_url(file_url(settings.api_base_url))
            .concurrent_updates(CONCURRENT_UPDATES).build())
        bot: Bot = self._app.bot
        self._poster = Poster(bot, FloodGate(limits), retries)
        targeted = [*commands.moderator_names, *TARGETABLE]
        self._access = Access(bot, Admins(bot, clock), targeted)
        self._buttons = Buttons(commands, self._access, self._poster)

    async def __aenter__(self) -> Self:
        """Check the token, publish the command menu and start taking updates."""
        # httpx logs every request URL at INFO, and Bot API URLs carry the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        if self._settings.webhook_url:
            self._check_listen()
        await self._initialize()
        try:
            self._add_handlers()
            await self._publish_menu()
            await self._app.start()
            await self._start_updates()
        except (TelegramError, OSError) as error:
            await self._updates.aclose()
            if self._app.running:
                await self._app.stop()
            await self._app.shutdown()
            raise PlatformError(f"telegram: can't start: {error}") from error
        log.info("telegram: connected as @%s", self._app.bot.username)
        return self

    def _check_listen(self) -> None:
        """Fail early, with the address, when the webhook server couldn't listen there."""
        host, port = self._settings.listen_address
        try:
            probe_listen(host, port)
        except OSError as error:
            raise PlatformError(f"telegram: can't listen on {self._settings.webhook_listen} "
                                f"for the webhook: {error.strerror or error}") from error

    @property
    def polling(self) -> bool:
        """Whether this process takes the updates by long polling now (it holds the lease)."""
        return self._poller is not None and self._poller.running

    async def _start_updates(self) -> None:
        """Long polling while this process holds the poller lease, or a webhook server when
        a public URL is configured."""
        updater = self._app.updater
        assert updater is not None
        url = self._settings.webhook_url
        if not url:
            self._poller = await self._updates.enter_async_context(LeasedJob(
                self._leases, POLLER_LEASE, timedelta(seconds=self._settings.poller_lease),
                self._clock, self._start_polling, updater.stop))
            if not self._poller.running:
                log.info("telegram: another process polls for updates; this one sends, and "
                         "polls if that one stops")
            return
        host, port = self._settings.listen_address
        await updater.start_webhook(
            listen=host, port=port, url_path=urlsplit(url).path, webhook_url=url,
            secret_token=self._webhook_secret, allowed_updates=ALLOWED_UPDATES)
        log.info("telegram: taking updates by webhook on %s", self._settings.webhook_listen)

    async def _start_polling(self) -> None:
        updater = self._app.updater
        assert updater is not None
        await updater.start_polling(timeout=self._poll_timeout, allowed_updates=ALLOWED_UPDATES)

    async def _initialize(self) -> None:
        try:
            await self._app.initialize()
        except InvalidToken as error:
            await self._app.bot.shutdown()
            raise PlatformError("telegram: the token was refused; check TELEGRAM_TOKEN "
                                "(BotFather's /token shows it)") from error
        except TelegramError as error:
            await self._app.bot.shutdown()
            raise PlatformError(f"telegram: can't reach {self._settings.api_base_url}: "
                                f"{error}") from error

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        """Stop polling (letting the poller lease go), let running commands finish, then
        close the connection."""
        await self._updates.aclose()
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()

    def _add_handlers(self) -> None:
        names = ["start", *self._commands.public_names, *self._commands.moderator_names]
        only_new = filters.UpdateType.MESSAGE  # an edited command is not run again
        self._app.add_handler(CommandHandler(names, self._on_command, filters=only_new))
        imports = only_new & filters.Document.ALL & filters.CaptionRegex(IMPORT_CAPTION)
        self._app.add_handler(MessageHandler(imports, self._on_document))
        self._app.add_handler(CallbackQueryHandler(self._on_button))
        self._app.add_error_handler(self._on_error)

    async def _publish_menu(self) -> None:
        public = menu(self._commands.public_names)
        everything = menu([*self._commands.public_names, *self._commands.moderator_names])
        bot = self._app.bot
        await bot.set_my_commands(public)
        await bot.set_my_commands(everything, scope=BotCommandScopeAllChatAdministrators())
        await bot.set_my_commands(everything, scope=BotCommandScopeAllPrivateChats())

    def handles(self, channel_id: str) -> bool:
        """`telegram:<chat id>` and `telegram:<chat id>/<topic id>`."""
        return parse_target(channel_id) is not None

    async def owns(self, channel_id: str) -> bool:
        """Any process may post to any chat: the Bot API has no shards."""
        return True

    async def send_digest(self, channel_id: str, digest: Digest, sent: SentCallback) -> None:
        """Post the digest in as many messages as it needs, marking each one sent.

        ChannelGone when the bot can't post there any more; MessageRefused when a message is
        refused as HTML and then as plain text; any other TelegramError (among them
        FloodLimited, when flood control holds a message up too long) leaves the messages
        not yet sent in the outbox for a later round.
        """
        target = parse_target(channel_id)
        if target is None:
            raise ValueError(f"not a Telegram channel: {channel_id}")
        for message in render_telegram_messages(digest):
            try:
                message_id = await self._post_digest_message(target, message)
            except TelegramError as error:
                if (gone := gone_reason(error)) is not None:
                    raise ChannelGone(gone) from error
                if (refused := refusal_reason(error)) is not None:
                    raise MessageRefused(refused) from error
                raise
            await sent(message.items, str(message_id))

    async def _post_digest_message(self, target: Target, message: TelegramMessage) -> int:
        """Post one message as HTML; when Telegram refuses it for good, once more as plain
        text, so readers still get the stories."""
        try:
            return await self._poster.post(target, message.html)
        except TelegramError as error:
            reason = refusal_reason(error)
            if reason is None:
                raise
            log.warning("telegram: %s refused a digest message (%s); sending it as plain text",
                        target.channel_id, reason)
        return await self._poster.post_plain(target, plain_text_of(message.html))

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        try:
            caller, text = await self._access.caller(message)
        except UserError as error:
            await self._reply(message, Reply(text=str(error), ephemeral=True))
            return
        reply = await self._commands.handle(caller, text)
        await self._buttons.post(message_target(message), message.message_id, reply,
                                 lookup_of(message.chat.id, text, reply))

    async def _on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A document captioned `/feed import`: the OPML file to import."""
        message = update.effective_message
        if (message is None or message.document is None
                or not is_import_caption(message.caption, context.bot.username)):
            return
        try:
            caller, text = await self._access.caller(message)
            attachment = await read_document(context.bot, caller, message.document)
        except UserError as error:
            await self._reply(message, Reply(text=str(error), ephemeral=True))
            return
        await self._reply(message, await self._commands.handle(caller, text, attachment))

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await self._buttons.press(update.callback_query)

    async def _reply(self, message: Message, reply: Reply) -> None:
        await self._buttons.post(message_target(message), message.message_id, reply)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handling an update failed", exc_info=context.error)
