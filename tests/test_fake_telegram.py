"""The fake Telegram Bot API, exercised through the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChatAdministrators,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.conftest import wait_until
from tests.fakes.telegram_html import EntityParseError, parse_html
from tests.fakes.telegram_scripting import too_many_requests
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_world import FakeChat, FakeUser

pytestmark = pytest.mark.slow  # drives the fake Telegram end to end with python-telegram-bot

AnyApp = Application[Any, Any, Any, Any, Any, Any]


@contextlib.asynccontextmanager
async def polling(app: AnyApp) -> AsyncIterator[None]:
    """Run ``app`` the way production does (start + long polling), short timeouts."""
    assert app.updater is not None
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=1))
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods (the int ones warn, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A running fake server."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A real, initialised ``telegram.Bot`` pointed at the fake."""
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


@pytest.fixture
def alice_dm(fake: FakeTelegram) -> tuple[FakeUser, FakeChat]:
    """A user and her private chat with the bot."""
    alice = fake.add_user("Alice", username="alice")
    return alice, fake.add_private_chat(alice)


async def test_get_me(bot: Bot, fake: FakeTelegram) -> None:
    """getMe answers with the bot user PTB needs to initialise."""
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "newsbot_test_bot"
    assert me.id == int(fake.token.split(":")[0])


async def test_wrong_token_and_unknown_method(fake: FakeTelegram, bot: Bot) -> None:
    """A wrong token is 401 Unauthorized; an unknown method is 404 Not Found."""
    wrong = Bot("42:not-the-token", base_url=fake.base_url)
    try:
        with pytest.raises(InvalidToken, match="rejected") as caught:
            await wrong.initialize()
    finally:
        await wrong.shutdown()
    assert str(caught.value.__cause__) == "Unauthorized"
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")
    assert fake.calls("sendTelepathy")[0].status == 404


async def test_html_message_is_recorded(
    bot: Bot, fake: FakeTelegram, alice_dm: tuple[FakeUser, FakeChat]
) -> None:
    """Valid HTML is parsed into entities and the message is recorded with its options."""
    _, dm = alice_dm
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
    message = await bot.send_message(
        dm.id,
        '<b>Top</b> &amp; <a href="https://example.org">story</a> <pre><code '
        'class="language-py">x = 1</code></pre>',
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=keyboard,
    )
    assert message.text == "Top & story x = 1"
    kinds = [(e.type, e.offset, e.length) for e in message.entities]
    assert kinds == [("bold", 0, 3), ("text_link", 6, 5), ("pre", 12, 5)]
    assert message.entities[2].language == "py"
    [record] = fake.sent_to(dm.id)
    assert record.parse_mode == "HTML"
    assert record.link_preview_disabled
    assert record.reply_markup == keyboard.to_dict()
    assert record.message_id == message.message_id


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<foo>x</foo>", 'unsupported start tag "foo" at byte offset 0'),
        ("é <blink>", 'unsupported start tag "blink" at byte offset 3'),
        ("a < b", 'unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ('<span class="x">y</span>', 'tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_invalid_html_is_refused(
    bot: Bot, fake: FakeTelegram, alice_dm: tuple[FakeUser, FakeChat], text: str, error: str
) -> None:
    """Bad HTML raises BadRequest "can't parse entities" with tdlib's wording and offsets."""
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alice_dm[1].id, text, parse_mode=ParseMode.HTML)
    assert caught.value.message.lower() == f"can't parse entities: {error}".lower()
    assert fake.sent == []


async def test_length_counts_utf16_after_parsing(
    bot: Bot, alice_dm: tuple[FakeUser, FakeChat]
) -> None:
    """4096 UTF-16 units after entity parsing pass; one more, or empty text, is refused."""
    dm = alice_dm[1]
    await bot.send_message(dm.id, "&amp;" * 4096, parse_mode=ParseMode.HTML)
    await bot.send_message(dm.id, "😀" * 2048)
    for text in ("x" * 4097, "😀" * 2048 + "x"):
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(dm.id, text)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(dm.id, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_scripted_429_and_5xx(
    bot: Bot,
    fake: FakeTelegram,
    alice_dm: tuple[FakeUser, FakeChat],
) -> None:
    """fail_next makes the next calls fail with RetryAfter / NetworkError, then recovers."""
    dm = alice_dm[1]
    fake.fail_next("sendMessage", retry_after=7)
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(dm.id, "one")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(dm.id, "two")
    await bot.send_message(dm.id, "three")
    assert [m.text for m in fake.sent] == ["three"]
    assert [r.status for r in fake.calls("sendMessage")] == [429, 502, 200]


async def test_flooded_chat_answers_429_until_the_flood_ends(
    bot: Bot,
    fake: FakeTelegram,
    alice_dm: tuple[FakeUser, FakeChat],
) -> None:
    """flood_chat answers every message to one chat with the Bot API's 429 body (retry_after
    in its parameters), however often it is tried; other chats post; end_flood lets it go."""
    dm, group = alice_dm[1], fake.add_supergroup("Newsroom")
    fake.flood_chat(dm, retry_after=3)
    for _ in range(3):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(dm.id, "again")
        assert caught.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(group.id, "elsewhere")
    fake.end_flood(dm)
    await bot.send_message(dm.id, "through")
    assert [m.text for m in fake.sent] == ["elsewhere", "through"]
    assert [r.status for r in fake.calls("sendMessage")] == [429, 429, 429, 200, 200]
    body = too_many_requests(3).to_json()
    assert body == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                    "after 3", "parameters": {"retry_after": 3}}


async def test_rate_limit_simulation(
    fake: FakeTelegram, bot: Bot, alice_dm: tuple[FakeUser, FakeChat]
) -> None:
    """With rate limits on, a second message to a private chat within 1 s gets a 429."""
    fake.rate_limits = True
    await bot.send_message(alice_dm[1].id, "first")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice_dm[1].id, "second")


async def test_forum_topic_and_unreachable_chats(bot: Bot, fake: FakeTelegram) -> None:
    """Topic sends keep the thread id; bad threads, unknown, blocking and kicked chats fail."""
    forum = fake.add_supergroup("Desk", is_forum=True)
    politics = fake.add_topic(forum, "Politics")
    message = await bot.send_message(forum.id, "news", message_thread_id=politics)
    assert message.is_topic_message
    assert fake.sent_to(forum.id, thread_id=politics)[0].thread_id == politics
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(forum.id, "x", message_thread_id=politics + 50)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-42, "x")
    bob = fake.add_user("Bob")
    dm = fake.add_private_chat(bob)
    fake.block_bot(dm)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(dm.id, "x")
    group = fake.add_group("Old")
    fake.kick_bot(group)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "x")


async def test_application_polling_commands(fake: FakeTelegram) -> None:
    """A polling Application gets injected commands; /latest@otherbot arrives but is filtered."""
    alice = fake.add_user("Alice")
    forum = fake.add_supergroup("Desk", is_forum=True)
    topic = fake.add_topic(forum, "Politics")
    seen: list[str] = []

    async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"latest: {' '.join(context.args or [])}")

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.effective_message.text or "" if update.effective_message else "")

    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("latest", latest))
    app.add_handler(MessageHandler(filters.ALL, record), group=1)
    async with app, polling(app):
        fake.send_command(forum.id, alice.id, "/latest politics", thread_id=topic)
        fake.send_command(forum.id, alice.id, "/latest@newsbot_test_bot tech", thread_id=topic)
        other = fake.send_command(forum.id, alice.id, "/latest@otherbot sport", thread_id=topic)
        await fake.wait_confirmed(other)
        await fake.wait_sent(2)
    assert [(m.text, m.thread_id) for m in fake.sent] == [
        ("latest: politics", topic),
        ("latest: tech", topic),
    ]
    assert seen == ["/latest politics", "/latest@newsbot_test_bot tech", "/latest@otherbot sport"]


async def test_button_press_round_trip(fake: FakeTelegram) -> None:
    """A pressed inline button reaches CallbackQueryHandler, which answers and edits."""
    alice = fake.add_user("Alice")
    dm = fake.add_private_chat(alice)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"pressed {query.data}")

    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CallbackQueryHandler(on_press))
    async with app:
        button = InlineKeyboardButton("Go", callback_data="go")
        sent = await app.bot.send_message(
            dm.id, "pick", reply_markup=InlineKeyboardMarkup([[button]])
        )
        async with polling(app):
            fake.press_button(dm.id, alice.id, sent.message_id, "go")
            await fake.wait_for(lambda: bool(fake.edits))
        with pytest.raises(BadRequest, match="not modified"):
            await app.bot.edit_message_text("pressed go", dm.id, sent.message_id)
    assert [a.text for a in fake.callback_answers] == ["ok"]
    assert fake.sent[0].text == "pressed go"
    assert fake.sent[0].reply_markup is None
    with pytest.raises(LookupError):
        fake.press_button(dm.id, alice.id, sent.message_id, "nope")


async def test_get_updates_semantics(
    bot: Bot, fake: FakeTelegram, alice_dm: tuple[FakeUser, FakeChat]
) -> None:
    """offset confirms, limit caps, allowed_updates filters new updates; with a timeout an
    empty queue answers nothing once it expires, and a call already waiting is answered
    with an update that arrives while it waits."""
    alice, dm = alice_dm
    first = fake.send_text(dm.id, alice.id, "hello /start")
    fake.send_text(dm.id, alice.id, "two")
    [update] = await bot.get_updates(limit=1)
    assert update.update_id == first["update_id"]
    assert update.message is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].offset == 6
    rest = await bot.get_updates(offset=update.update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["two"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=1) == ()
    await bot.get_updates(allowed_updates=["message"])
    fake.post_in_channel(fake.add_channel().id, "not wanted")
    assert "channel_post" in fake.dropped_updates[-1]
    polls = len(fake.calls("getUpdates"))
    waiting = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_until(lambda: len(fake.calls("getUpdates")) > polls)
    fake.send_text(dm.id, alice.id, "late")  # after the fake received the call
    woken = await waiting
    assert [u.message.text for u in woken if u.message] == ["late"]


async def test_concurrent_get_updates_conflict(bot: Bot, fake: FakeTelegram) -> None:
    """A second poller terminates the waiting getUpdates with 409 Conflict, like Telegram,
    long before that call's own timeout would have ended it."""
    waiting = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_until(lambda: len(fake.calls("getUpdates")) == 1)
    async with Bot(fake.token, base_url=fake.base_url) as second:
        await second.get_updates()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await waiting


async def test_webhook_methods(bot: Bot, fake: FakeTelegram) -> None:
    """setWebhook records URL and secret and blocks getUpdates; deleteWebhook undoes it."""
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("https://bot.example.org/hook", secret_token="no:colons")
    await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret",
                          allowed_updates=["message"])
    assert fake.webhook is not None and fake.webhook.secret_token == "s3cret"
    info = await bot.get_webhook_info()
    assert (info.url, info.allowed_updates) == ("https://bot.example.org/hook", ("message",))
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert fake.webhook is None and (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_edit_reply_markup(bot: Bot, fake: FakeTelegram,
                                 alice_dm: tuple[FakeUser, FakeChat]) -> None:
    """editMessageReplyMarkup swaps or removes the buttons; an unchanged keyboard is a 400."""
    _, dm = alice_dm
    two = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a"),
                                 InlineKeyboardButton("B", callback_data="b")]])
    sent = await bot.send_message(dm.id, "pick", reply_markup=two)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(dm.id, sent.message_id, reply_markup=two)
    one = InlineKeyboardMarkup([[InlineKeyboardButton("B", callback_data="b")]])
    await bot.edit_message_reply_markup(dm.id, sent.message_id, reply_markup=one)
    assert fake.sent[0].reply_markup == one.to_dict()
    await bot.edit_message_reply_markup(dm.id, sent.message_id)
    assert fake.sent[0].reply_markup is None
    with pytest.raises(LookupError):
        fake.press_button(dm.id, dm.id, sent.message_id, "b")


async def test_commands_per_scope(bot: Bot, fake: FakeTelegram) -> None:
    """setMyCommands is stored per scope and language; the menu resolution follows Telegram."""
    group = fake.add_supergroup("Desk")
    admin, reader = fake.add_user("Ann"), fake.add_user("Rob")
    fake.set_member(group, admin, "administrator")
    scope = BotCommandScopeChatAdministrators(group.id)
    admin_cmds = [BotCommand("mute", "Mute a feed")]
    await bot.set_my_commands([BotCommand("latest", "Latest news")])
    await bot.set_my_commands(admin_cmds, scope=scope, language_code="en")
    assert await bot.get_my_commands(scope=scope, language_code="en") == tuple(admin_cmds)
    assert await bot.get_my_commands(scope=scope) == ()
    stored = fake.commands({"type": "chat_administrators", "chat_id": group.id}, "en")
    assert stored == [{"command": "mute", "description": "Mute a feed"}]
    assert fake.visible_commands(group.id, admin.id, "en")[0]["command"] == "mute"
    assert fake.visible_commands(group.id, reader.id, "en")[0]["command"] == "latest"
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_chat_members(bot: Bot, fake: FakeTelegram) -> None:
    """getChatMember returns each status as the right PTB class; admins list anonymous ones."""
    group = fake.add_supergroup("Desk", is_forum=True)
    owner, admin, member, banned, stranger = (fake.add_user(n) for n in "OAMBS")
    fake.set_member(group, owner, "creator")
    fake.set_member(group, admin, "administrator", is_anonymous=True, can_promote_members=False)
    fake.set_member(group, member, "member")
    fake.set_member(group, banned, "kicked")
    expected = [
        (owner, ChatMemberOwner),
        (admin, ChatMemberAdministrator),
        (member, ChatMemberMember),
        (banned, ChatMemberBanned),
        (stranger, ChatMemberLeft),
    ]
    for user, kind in expected:
        assert type(await bot.get_chat_member(group.id, user.id)) is kind
    admins = await bot.get_chat_administrators(group.id)
    assert {a.user.id for a in admins} == {owner.id, admin.id}
    anonymous = next(a for a in admins if isinstance(a, ChatMemberAdministrator))
    assert anonymous.is_anonymous
    assert not anonymous.can_promote_members
    assert (await bot.get_chat(group.id)).is_forum
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(group.id, 999)


def test_html_parser_details() -> None:
    """Unknown entities stay literal, numeric ones decode, offsets count UTF-16 units."""
    text, entities = parse_html("&nbsp;&#65;&#x1F600;<i>x</i><tg-spoiler>s</tg-spoiler>")
    assert text == "&nbsp;A😀xs"
    assert [(e.type, e.offset) for e in entities] == [("italic", 9), ("spoiler", 10)]
    _, quote = parse_html("<blockquote expandable>q</blockquote>")
    assert quote[0].type == "expandable_blockquote"
    with pytest.raises(EntityParseError, match="Unclosed start tag"):
        parse_html("<b")
