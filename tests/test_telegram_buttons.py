"""Inline "More" and "Related" buttons under lookups, each press checked for whoever pressed."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import open_core
from bot.chat.telegram.adapter import TelegramAdapter
from bot.chat.telegram.lookups import Lookup, Lookups, lookup_of
from bot.config import load_config
from bot.model import Article, DigestItem, Reply
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_state import SentMessage
from tests.fakes.telegram_world import FakeChat, FakeUser
from tests.test_telegram_adapter import FAST, NOW, QUICK_POLL, STORIES, add_stories, config_text

pytestmark = pytest.mark.slow  # drives the fake Telegram end to end

OpenBot = Callable[..., contextlib.AbstractAsyncContextManager[FakeTelegram]]
STORY_COUNT = 12


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods (the int ones warn, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def group(fake: FakeTelegram) -> FakeChat:
    """A supergroup where Ann (the first user) administers and Rob (the second) reads."""
    chat = fake.add_supergroup("Newsroom")
    fake.set_member(chat, fake.add_user("Ann"), "administrator")
    fake.set_member(chat, fake.add_user("Rob"), "member")
    return chat


def person(fake: FakeTelegram, name: str) -> FakeUser:
    """The user with this first name."""
    return next(u for u in fake.world.users.values() if u.first_name == name)


@pytest.fixture
def open_bot(fake: FakeTelegram, write_config: Callable[[str], Path]) -> OpenBot:
    """Runs the bot (long polling) with a dozen stories stored."""

    @contextlib.asynccontextmanager
    async def open_() -> AsyncIterator[FakeTelegram]:
        config = load_config(write_config(config_text(fake)), {"TELEGRAM_TOKEN": fake.token})
        assert config.model.telegram is not None
        async with open_core(config) as core:
            await add_stories(core, STORY_COUNT)
            async with TelegramAdapter(config.model.telegram, fake.token, core.commands,
                                       lambda: NOW, leases=core.store.leases, limits=FAST,
                                       poll_timeout=QUICK_POLL):
                yield fake

    return open_


async def ask(fake: FakeTelegram, chat: FakeChat, user: FakeUser, command: str) -> SentMessage:
    """Send a command and return the bot's (last) reply message."""
    before = len(fake.sent_to(chat.id))
    update = fake.send_command(chat.id, user.id, command)
    await fake.wait_confirmed(update)
    await fake.wait_sent(before + 1, chat_id=chat.id)
    return fake.sent_to(chat.id)[-1]


def buttons(message: SentMessage) -> dict[str, str]:
    """The inline buttons under a message: label -> callback data."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def press(fake: FakeTelegram, chat: FakeChat, user: FakeUser, message: SentMessage,
                label: str) -> str | None:
    """Press a button; return the text of the callback answer (None for a silent one)."""
    answered = len(fake.callback_answers)
    fake.press_button(chat.id, user.id, message.message_id, buttons(message)[label])
    await fake.wait_for(lambda: len(fake.callback_answers) > answered)
    return fake.callback_answers[answered].text


def numbers(message: SentMessage) -> list[int]:
    """The story numbers heading the lines of a message."""
    return [int(n) for n in re.findall(r"^(\d+)\. ", message.text, re.MULTILINE)]


BUTTONS_BY_COMMAND = {
    "/latest": ["More", "Related"],
    "/latest #trade": ["Related"],  # fewer stories than asked for: no "More"
    "/search japan tariffs": ["Related"],  # /search takes no count yet
    "/related japan tariffs": [],
    "/help": [],
}


async def test_lookups_carry_their_buttons(fake: FakeTelegram, group: FakeChat,
                                           open_bot: OpenBot) -> None:
    """/latest offers More and Related, /search Related; data stays within 64 bytes."""
    async with open_bot():
        replies = {command: await ask(fake, group, person(fake, "Ann"), command)
                   for command in BUTTONS_BY_COMMAND}
    assert {command: list(buttons(reply)) for command, reply in replies.items()} == \
        BUTTONS_BY_COMMAND
    data = [d for reply in replies.values() for d in buttons(reply).values()]
    assert data and all(len(d.encode()) <= 64 for d in data)


async def test_buttons_go_under_the_last_message_of_a_long_reply(
        fake: FakeTelegram, group: FakeChat, open_bot: OpenBot) -> None:
    """A lookup too long for one message carries its buttons under its last part only."""
    async with open_bot():
        fake.send_command(group.id, person(fake, "Rob").id, f"/latest {STORY_COUNT}")
        await fake.wait_for(lambda: any(m.reply_markup for m in fake.sent_to(group.id)))
    *parts, last = fake.sent_to(group.id)
    assert parts and all(buttons(part) == {} for part in parts)
    assert list(buttons(last)) == ["More", "Related"]


async def test_more_posts_the_next_page_and_retires_its_button(
        fake: FakeTelegram, group: FakeChat, open_bot: OpenBot) -> None:
    """More answers the press, posts stories 6-10 under the lookup with their own buttons,
    and leaves only Related under the first page."""
    rob = person(fake, "Rob")
    async with open_bot():
        first = await ask(fake, group, rob, "/latest")
        assert await press(fake, group, rob, first, "More") is None
        await fake.wait_for(lambda: "More" not in buttons(fake.sent_to(group.id)[0]))
    first_page, second_page = fake.sent_to(group.id)
    assert numbers(first) == [1, 2, 3, 4, 5] and numbers(second_page) == [6, 7, 8, 9, 10]
    assert second_page.reply_to_message_id == first.message_id
    assert list(buttons(second_page)) == ["More", "Related"]
    assert list(buttons(first_page)) == ["Related"]


async def test_related_posts_the_stories_related_to_the_first_one(
        fake: FakeTelegram, group: FakeChat, open_bot: OpenBot) -> None:
    """Related runs /related on the lookup's first story, for whoever pressed it."""
    async with open_bot():
        first = await ask(fake, group, person(fake, "Rob"), "/search japan tariffs")
        assert await press(fake, group, person(fake, "Ann"), first, "Related") is None
        [_, related] = await fake.wait_sent(2, chat_id=group.id)
    assert related.text.startswith(f"Related to “{STORIES[0][0]}”")
    assert buttons(related) == {}


async def test_a_stranger_may_not_press(fake: FakeTelegram, group: FakeChat,
                                        open_bot: OpenBot) -> None:
    """Someone who is not in the chat is told so and nothing is posted."""
    stranger = fake.add_user("Eve")
    async with open_bot():
        first = await ask(fake, group, person(fake, "Rob"), "/latest")
        answer = await press(fake, group, stranger, first, "More")
    assert answer == "Only members of this chat can use its buttons."
    assert len(fake.sent_to(group.id)) == 1 and fake.edits == []


async def test_presses_are_rate_limited_per_presser(fake: FakeTelegram, group: FakeChat,
                                                    open_bot: OpenBot) -> None:
    """A reader who used up their lookups is slowed down on press; a moderator is not."""
    rob, ann = person(fake, "Rob"), person(fake, "Ann")
    async with open_bot():
        for _ in range(5):
            await ask(fake, group, rob, "/search markets")
        first = await ask(fake, group, rob, "/latest")
        refused = await press(fake, group, rob, first, "More")
        accepted = await press(fake, group, ann, first, "More")
        await fake.wait_sent(7, chat_id=group.id)
    assert refused is not None and refused.startswith("Slow down")
    assert accepted is None
    assert numbers(fake.sent_to(group.id)[-1]) == [6, 7, 8, 9, 10]


async def test_a_button_works_once(fake: FakeTelegram, group: FakeChat,
                                   open_bot: OpenBot) -> None:
    """Two presses of the same button at once post one page; the other is told why."""
    rob, ann = person(fake, "Rob"), person(fake, "Ann")
    async with open_bot():
        first = await ask(fake, group, rob, "/latest")
        data = buttons(first)["More"]
        fake.press_button(group.id, rob.id, first.message_id, data)
        fake.press_button(group.id, ann.id, first.message_id, data)
        await fake.wait_for(lambda: len(fake.callback_answers) == 2)
        await fake.wait_sent(2, chat_id=group.id)
    assert sorted(str(a.text) for a in fake.callback_answers) == [
        "None", "Someone pressed this button already."]
    assert len(fake.sent_to(group.id)) == 2


def story(number: int) -> DigestItem:
    """A stored story with a link."""
    when = datetime(2026, 11, 24, tzinfo=UTC)
    return DigestItem(Article(number, 1, "Example", f"https://news.example.org/{number}",
                              f"Story {number}", "", when))


def test_lookup_of_a_latest_page_knows_whether_more_may_come() -> None:
    """A full page of /latest may have more; a short one has not; pages go on from there."""
    full = Reply(text="Latest stories", items=tuple(story(n) for n in range(5)))
    lookup = lookup_of(-100, "/latest #trade", full)
    assert lookup == Lookup(-100, "latest", "#trade", 5, True, "https://news.example.org/0")
    assert lookup.more_command() == ("latest", "#trade 10")
    short = Reply(text="Latest stories", items=full.items[:3])
    assert lookup_of(-100, "/latest", short) == Lookup(-100, "latest", "", 3, False,
                                                       "https://news.example.org/0")
    longer = Reply(text="Latest stories", items=tuple(story(n) for n in range(8)))
    found = lookup.next_page(longer)
    assert found is not None
    page, following = found
    assert [i.article.id for i in page.items] == [5, 6, 7]
    assert following.shown == 8 and not following.has_more
    assert following.first_url == "https://news.example.org/5"


def test_lookups_forget_the_oldest_and_keep_keys_to_their_chat() -> None:
    """The memory is bounded; a key names nothing in another chat; a button is claimed once."""
    lookups = Lookups(capacity=2)
    first = Lookup(-1, "latest", "", 5, True, "https://news.example.org/0")
    keys = [lookups.remember(first) for _ in range(3)]
    assert lookups.find(f"more:{keys[0]}", -1) is None
    assert lookups.find(f"more:{keys[2]}", -2) is None
    assert lookups.find(f"more:{keys[2]}", -1) == ("more", keys[2], first)
    assert lookups.claim(keys[2], "more") and not lookups.claim(keys[2], "more")
    lookups.release(keys[2], "more")
    assert lookups.claim(keys[2], "more")
