"""The Telegram adapter against the fake Bot API: commands, moderators, digests, flood control."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.adapter import PlatformError
from bot.chat.commands import LOOKUPS_PER_MINUTE
from bot.chat.telegram.adapter import TelegramAdapter
from bot.chat.telegram.flood import (
    MAX_FLOOD_WAIT_S,
    TELEGRAM_FLOOD_RETRIES,
    FloodGate,
    FloodLimited,
    FloodLimits,
    FloodRetries,
)
from bot.config import Config, TelegramSection, load_config
from bot.digest.service import REFUSED_ROUNDS
from bot.model import FeedSpec, NewArticle
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_world import FakeChat, FakeUser

pytestmark = pytest.mark.slow  # drives the fake Telegram end to end

OpenBot = Callable[..., contextlib.AbstractAsyncContextManager[tuple[Core, TelegramAdapter]]]
FAST = FloodLimits(chat_interval_s=0.0, group_per_minute=1000, overall_per_second=1000)
QUICK_POLL = timedelta(seconds=1)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STORIES = [
    ("Japan and South Korea agree to cut tariffs on semiconductors", "trade"),
    ("Floods force thousands from their homes in northern Italy", "europe"),
    ("Central bank holds interest rates at 3.5 percent", "business"),
]


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods (the int ones warn, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass
class World:
    """The fake server with a group, a forum with a topic, and the people in them."""

    fake: FakeTelegram
    group: FakeChat
    forum: FakeChat
    topic: int
    admin: FakeUser
    reader: FakeUser


@pytest.fixture
async def world() -> AsyncIterator[World]:
    """A fake Telegram with a supergroup and a forum; Ann administers both, Rob reads."""
    async with FakeTelegram() as fake:
        group = fake.add_supergroup("Newsroom")
        forum = fake.add_supergroup("Desk", is_forum=True)
        topic = fake.add_topic(forum, "World")
        admin, reader = fake.add_user("Ann"), fake.add_user("Rob")
        for chat in (group, forum):
            fake.set_member(chat, admin, "administrator")
            fake.set_member(chat, reader, "member")
        yield World(fake, group, forum, topic, admin, reader)


def config_text(fake: FakeTelegram, channels: str = "") -> str:
    """A config reaching the fake, with feeds allowed on loopback."""
    return ('[bot]\ndatabase = "bot.db"\n[fetch]\nallow_private_addresses = true\n'
            f'timeout = "5s"\n[telegram]\napi_base_url = "{fake.base_url}"\n{channels}')


@pytest.fixture
def open_bot(world: World, write_config: Callable[[str], Path]) -> OpenBot:
    """Opens the bot's core and a connected adapter, like `newsbot run` does."""

    @contextlib.asynccontextmanager
    async def open_(channels: str = "", limits: FloodLimits = FAST, stories: int = len(STORIES),
                    retries: FloodRetries = TELEGRAM_FLOOD_RETRIES
                    ) -> AsyncIterator[tuple[Core, TelegramAdapter]]:
        path = write_config(config_text(world.fake, channels))
        config = load_config(path, {"TELEGRAM_TOKEN": world.fake.token})
        assert config.model.telegram is not None
        async with open_core(config) as core:
            await add_stories(core, stories)
            adapter = TelegramAdapter(config.model.telegram, world.fake.token, core.commands,
                                      lambda: NOW, leases=core.store.leases, limits=limits,
                                      retries=retries, poll_timeout=QUICK_POLL)
            async with adapter:
                core.digests.add_sender(adapter)
                yield core, adapter

    return open_


async def add_stories(core: Core, count: int) -> None:
    """Store `count` stories of one configured feed (the first ones about real topics)."""
    feed = await core.store.feeds.add_feed(FeedSpec("https://news.example.org/rss", "Example"),
                                           origin="config")
    now = datetime.now(UTC)
    stories = [*STORIES, *((f"Story number {n} about <b>markets</b> & 😀 @everyone", "misc")
                           for n in range(len(STORIES), count))]
    articles = [NewArticle(
        dedup_key=f"id-{n}", url=f"https://news.example.org/{n}", title=title,
        summary=("A long summary sentence with details & numbers 1 < 2. " * 6).strip(),
        tags=(tag, "News", "Example"), published=now - timedelta(minutes=n))
        for n, (title, tag) in enumerate(stories[:count])]
    await core.store.articles.add_articles(feed.id, articles, now)


async def ask(world: World, chat: FakeChat, user: FakeUser, command: str,
              topic: int | None = None) -> str:
    """Send a command and return the text of the bot's reply to it."""
    before = len(world.fake.sent_to(chat.id))
    world.fake.send_command(chat.id, user.id, command, thread_id=topic)
    replies = await world.fake.wait_sent(before + 1, chat_id=chat.id)
    return replies[before].text


async def test_commands_are_registered_per_scope(world: World, open_bot: OpenBot) -> None:
    """Everyone sees the public commands; chat admins and private chats see moderator ones."""
    async with open_bot() as (core, _):
        public = core.commands.public_names
        everything = public + core.commands.moderator_names
    fake = world.fake
    listed = [c["command"] for c in fake.commands() or []]
    assert listed == public and "feed" not in listed
    for scope in ("all_chat_administrators", "all_private_chats"):
        assert [c["command"] for c in fake.commands({"type": scope}) or []] == everything
    assert fake.visible_commands(world.group.id, world.reader.id)[0]["command"] == public[0]
    assert {c["command"] for c in fake.visible_commands(world.group.id, world.admin.id)} == \
        set(everything)


@pytest.mark.parametrize(("command", "heading"), [("/search japan tariffs", "Search: japan"),
                                                  ("/related japan tariffs", "Related: japan")])
async def test_lookup_answered_in_group_and_in_topic(world: World, open_bot: OpenBot,
                                                     command: str, heading: str) -> None:
    """A lookup is answered in the group, and inside the forum topic it was asked in."""
    async with open_bot():
        in_group = await ask(world, world.group, world.reader, command)
        in_topic = await ask(world, world.forum, world.reader, command, world.topic)
    for text in (in_group, in_topic):
        assert text.startswith(heading) and STORIES[0][0] in text
    [reply] = world.fake.sent_to(world.forum.id)
    assert reply.thread_id == world.topic and reply.link_preview_disabled
    assert reply.parse_mode == "HTML"


async def test_feed_add_is_refused_for_a_reader(world: World, open_bot: OpenBot,
                                                feed_server: FeedServer) -> None:
    """A group member who is not an admin can't add feeds."""
    async with open_bot() as (core, _):
        text = await ask(world, world.group, world.reader,
                         f"/feed add {feed_server.url('world_news.xml')}")
        channel = await core.digests.channel(f"telegram:{world.group.id}")
    assert text == "/feed is for moderators only."
    assert feed_server.requests["world_news.xml"] == 0
    assert channel.feeds == ("*",)


@pytest.mark.parametrize("anonymous", [False, True])
async def test_feed_add_is_accepted_from_an_admin(world: World, open_bot: OpenBot,
                                                  feed_server: FeedServer,
                                                  anonymous: bool) -> None:
    """A group admin adds a feed, also when posting anonymously as the group; checks cache."""
    world.fake.set_member(world.group, world.admin, "administrator", is_anonymous=anonymous)
    url = feed_server.url("world_news.xml")
    async with open_bot():
        added = await ask(world, world.group, world.admin, f"/feed add {url}")
        listed = await ask(world, world.group, world.admin, "/feed list")
    assert added.startswith("Added “Example World News” (4 stories)")
    assert url in listed
    assert len(world.fake.calls("getChatMember")) == (0 if anonymous else 1)


async def test_command_for_another_bot_is_ignored(world: World, open_bot: OpenBot) -> None:
    """/latest@otherbot gets no answer; /latest@ours does."""
    async with open_bot():
        other = world.fake.send_command(world.group.id, world.reader.id, "/latest@otherbot")
        await world.fake.wait_confirmed(other)
        text = await ask(world, world.group, world.reader, "/latest@newsbot_test_bot")
    assert text.startswith("Latest stories")
    assert len(world.fake.sent) == 1


async def test_channel_is_configured_from_a_private_chat_by_its_admin(
        world: World, open_bot: OpenBot) -> None:
    """In a private chat, `/filter @channel set ...` changes the channel if the user runs it."""
    fake = world.fake
    channel = fake.add_channel("World Desk", username="worlddesk")
    fake.set_member(channel, world.admin, "administrator")
    ann, rob = fake.add_private_chat(world.admin), fake.add_private_chat(world.reader)
    async with open_bot() as (core, _):
        accepted = await ask(world, ann, world.admin, "/filter @worlddesk set tag:trade")
        refused = await ask(world, rob, world.reader, "/filter @worlddesk set tag:misc")
        unknown = await ask(world, ann, world.admin, "/schedule @nosuchchat show")
        stored = await core.digests.channel(f"telegram:{channel.id}")
        own = await ask(world, rob, world.reader, "/filter show")
    assert accepted == "Filter set: tag:trade"
    # the renderer defuses every @mention with a zero-width space
    assert refused == "Only administrators of @\u200bworlddesk can change its news."
    assert unknown.startswith("I can't see @\u200bnosuchchat")
    assert stored.filter == "tag:trade"
    assert own.startswith("No filter")  # in his own private chat Rob is the moderator


def numbered(text: str) -> list[int]:
    """The story numbers heading lines of posted digest text, in order."""
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, re.MULTILINE)]


def channel_config(*channel_ids: str) -> str:
    """[[channels]] entries with room for 25 stories each."""
    return "".join(f'[[channels]]\nid = "{cid}"\nmax_items = 25\n' for cid in channel_ids)


async def test_long_digest_is_split_and_every_message_marked_sent(
        world: World, open_bot: OpenBot) -> None:
    """25 stories go out in several valid messages within Telegram's rates; all are marked sent."""
    fake = world.fake
    fake.rate_limits = True  # the fake answers 429 to anything faster than Telegram allows
    channel_id = f"telegram:{world.group.id}"
    async with open_bot(channel_config(channel_id), limits=FloodLimits(), stories=25) as (core, _):
        digest = await core.digests.post_now(channel_id)
        pending = await core.store.deliveries.pending()
    messages = fake.sent_to(world.group.id)
    assert len(digest.items) == 25 and len(messages) > 1
    assert all(m.parse_mode == "HTML" and m.link_preview_disabled for m in messages)
    assert [r.status for r in fake.calls("sendMessage")] == [200] * len(messages)
    text = "\n".join(m.text for m in messages)
    assert numbered(text) == list(range(1, 26))
    assert "@everyone" not in text and "<b>markets</b>" in text
    assert pending == []


async def test_topic_digest_lands_in_its_thread(world: World, open_bot: OpenBot) -> None:
    """A `telegram:<chat>/<topic>` channel's digest is posted into that forum topic."""
    channel_id = f"telegram:{world.forum.id}/{world.topic}"
    async with open_bot(channel_config(channel_id)) as (core, _):
        await core.digests.post_now(channel_id)
    [message] = world.fake.sent_to(world.forum.id)
    assert message.thread_id == world.topic and STORIES[0][0] in message.text


async def test_flood_control_is_waited_out(world: World, open_bot: OpenBot) -> None:
    """A 429 with retry_after is waited out and the message sent again: nothing lost or doubled."""
    channel_id = f"telegram:{world.group.id}"
    async with open_bot(channel_config(channel_id), stories=25) as (core, _):
        world.fake.fail_next("sendMessage", retry_after=1, times=2)
        digest = await core.digests.post_now(channel_id)
        pending = await core.store.deliveries.pending()
    statuses = [r.status for r in world.fake.calls("sendMessage")]
    assert statuses[:3] == [429, 429, 200] and set(statuses[3:]) == {200}
    text = "\n".join(m.text for m in world.fake.sent_to(world.group.id))
    assert numbered(text) == list(range(1, len(digest.items) + 1))
    assert pending == []


def sends_to(fake: FakeTelegram, chat: FakeChat) -> list[int]:
    """The HTTP status of each sendMessage call to chat, in order."""
    return [r.status for r in fake.calls("sendMessage")
            if str(r.params.get("chat_id")) == str(chat.id)]


async def test_endless_flood_control_gives_up_and_keeps_the_digest(
        world: World, open_bot: OpenBot, caplog: pytest.LogCaptureFixture) -> None:
    """A chat answering 429 to every try: the send gives up after the bound, the digest stays
    in the outbox (the channel not paused), the bot answers elsewhere, and a later round
    delivers the digest once the flood is over."""
    fake, channel_id = world.fake, f"telegram:{world.group.id}"
    fake.flood_chat(world.group, retry_after=1)
    async with open_bot(channel_config(channel_id), retries=FloodRetries(attempts=2)) as (core,
                                                                                         _):
        digest = await core.digests.post_now(channel_id)
        kept = await core.store.deliveries.pending()
        paused = await core.store.channels.paused_reason(channel_id)
        answer = await ask(world, world.forum, world.reader, "/latest 1")
        refused = sends_to(fake, world.group)
        fake.end_flood(world.group)
        delivered = await core.digests.deliver_pending()
        left = await core.store.deliveries.pending()
    assert refused == [429, 429]  # two attempts, then the send gave up
    assert [p.channel_id for p in kept] == [channel_id] and paused == ""
    assert f"flood control in {channel_id} after 2 tries" in caplog.text
    assert "it stays in the outbox" in caplog.text
    assert answer.startswith("Latest stories")
    assert delivered == 1 and left == []
    [message] = fake.sent_to(world.group.id)
    assert numbered(message.text) == list(range(1, len(digest.items) + 1))


async def test_retry_after_beyond_the_wait_cap_is_not_waited_out(
        world: World, open_bot: OpenBot, caplog: pytest.LogCaptureFixture) -> None:
    """With the default bounds, a 429 asking for more than MAX_FLOOD_WAIT_S fails the send at
    once, without waiting: one try, the digest kept for a later round."""
    channel_id = f"telegram:{world.group.id}"
    world.fake.flood_chat(world.group, retry_after=int(MAX_FLOOD_WAIT_S) + 1)
    async with open_bot(channel_config(channel_id)) as (core, _):
        await core.digests.post_now(channel_id)
        kept = await core.store.deliveries.pending()
    assert sends_to(world.fake, world.group) == [429]
    assert [p.channel_id for p in kept] == [channel_id]
    assert f"flood control in {channel_id} after 1 tries and 0 s waited" in caplog.text
    assert not [r for r in caplog.records if "waiting" in r.getMessage()]


CANT_PARSE = "Bad Request: can't parse entities: unsupported start tag \"x\" at byte offset 3"


async def test_message_refused_as_html_is_delivered_as_plain_text(
        world: World, open_bot: OpenBot) -> None:
    """A message Telegram refuses with "can't parse entities" is sent once more without a
    parse mode: the same stories, links written out, marked sent, nothing failed."""
    fake, channel_id = world.fake, f"telegram:{world.group.id}"
    fake.refuse_text(STORIES[0][0], CANT_PARSE)
    async with open_bot(channel_config(channel_id)) as (core, _):
        digest = await core.digests.post_now(channel_id)
        pending = await core.store.deliveries.pending()
        failed = await core.store.deliveries.failed_counts()
    [message] = fake.sent_to(world.group.id)
    assert sends_to(fake, world.group) == [400, 200]
    assert message.parse_mode is None and message.link_preview_disabled
    assert numbered(message.text) == list(range(1, len(digest.items) + 1))
    assert f"{STORIES[0][0]} (https://news.example.org/0)" in message.text
    assert "<b>" not in message.text and "&amp;" not in message.text
    assert pending == [] and failed == {}


async def test_message_refused_even_as_plain_text_fails_once_with_one_notice(
        world: World, open_bot: OpenBot) -> None:
    """A message refused as HTML and as plain text is tried REFUSED_ROUNDS rounds, then its
    digest fails: out of the outbox, never tried again, and one notice says why."""
    fake, channel_id = world.fake, f"telegram:{world.group.id}"
    fake.refuse_text(STORIES[0][0], CANT_PARSE, plain_too=True)
    async with open_bot(channel_config(channel_id)) as (core, _):
        await core.digests.post_now(channel_id)
        for _ in range(REFUSED_ROUNDS + 1):
            await core.digests.deliver_pending()
        pending = await core.store.deliveries.pending()
        failed = await core.store.deliveries.failed_counts()
    assert sends_to(fake, world.group) == [400, 400] * REFUSED_ROUNDS + [200]
    [notice] = fake.sent_to(world.group.id)
    assert notice.text.startswith("A digest message could not be posted here: Telegram: "
                                  "Can't parse entities: unsupported start tag")
    assert pending == [] and failed == {channel_id: 1}


async def test_message_created_behind_a_502_is_posted_again(
        world: World, open_bot: OpenBot) -> None:
    """Telegram creates the message but answers 502: the Bot API gives no way to tell, so
    the digest stays in the outbox and the next round posts it again (at least once, as the
    README says); it is a transient error, never a failure."""
    fake, channel_id = world.fake, f"telegram:{world.group.id}"
    fake.fail_after_next("sendMessage", 502)
    async with open_bot(channel_config(channel_id)) as (core, _):
        await core.digests.post_now(channel_id)
        kept = await core.store.deliveries.pending()
        await core.digests.deliver_pending()
        pending = await core.store.deliveries.pending()
        failed = await core.store.deliveries.failed_counts()
    first, again = fake.sent_to(world.group.id)
    assert sends_to(fake, world.group) == [502, 200] and first.text == again.text
    assert [p.channel_id for p in kept] == [channel_id]
    assert pending == [] and failed == {}


@pytest.mark.parametrize(("where", "reason"), [
    ("kicked", "bot was kicked from the supergroup chat"),
    ("unknown chat", "Chat not found"),
    ("deleted topic", "Message thread not found"),
])
async def test_unreachable_chat_pauses_the_channel(world: World, open_bot: OpenBot,
                                                   where: str, reason: str) -> None:
    """When Telegram says the bot can't post there, the channel is paused, its digest kept."""
    channel_id = {"kicked": f"telegram:{world.group.id}", "unknown chat": "telegram:-100999",
                  "deleted topic": f"telegram:{world.forum.id}/{world.topic + 100}"}[where]
    if where == "kicked":
        world.fake.kick_bot(world.group)
    async with open_bot(channel_config(channel_id)) as (core, _):
        await core.digests.post_now(channel_id)
        paused = await core.store.channels.paused_reason(channel_id)
        pending = await core.store.deliveries.pending()
    assert reason in paused
    assert [p.channel_id for p in pending] == [channel_id]
    assert world.fake.sent == []


async def test_bad_token_is_a_platform_error(world: World, tmp_path: Path) -> None:
    """A token Telegram refuses stops the start with a one-line PlatformError."""
    settings = TelegramSection(api_base_url=world.fake.base_url)
    async with open_core(load_config_for(world.fake, tmp_path)) as core:
        adapter = TelegramAdapter(settings, "42:wrong", core.commands, lambda: NOW,
                                  leases=core.store.leases)
        with pytest.raises(PlatformError, match="token was refused"):
            async with adapter:
                pass


def load_config_for(fake: FakeTelegram, folder: Path) -> Config:
    """A config file in folder reaching the fake, loaded."""
    path = folder / "config.toml"
    path.write_text(config_text(fake), encoding="utf-8")
    return load_config(path, {"TELEGRAM_TOKEN": fake.token})


@pytest.mark.parametrize(("chat_id", "sent_at", "now", "delay"), [
    (-100, [], 0.0, 0.0),
    (-100, [10.0], 10.5, 0.5),  # one a second in a chat
    (7, [10.0], 11.0, 0.0),
    (-100, [float(s) for s in range(0, 40, 2)], 41.0, 19.0),  # 20 a minute in a group
    (7, [float(s) for s in range(0, 40, 2)], 41.0, 0.0),  # private chats: no minute limit
])
def test_flood_gate_delay(chat_id: int, sent_at: list[float], now: float,
                          delay: float) -> None:
    """The gate waits for the per-chat second and the per-group minute."""
    clock = iter(sent_at)
    gate = FloodGate(FloodLimits(), clock=lambda: next(clock))
    for _ in sent_at:
        gate.record(chat_id)
    assert gate.delay(chat_id, now) == pytest.approx(delay)


def test_flood_gate_overall_rate() -> None:
    """At most 30 messages a second in all, whatever the chats."""
    gate = FloodGate(FloodLimits(), clock=lambda: 5.0)
    for chat_id in range(30):
        gate.record(chat_id)
    assert gate.delay(99, 5.5) == pytest.approx(0.5)
    assert gate.delay(99, 6.0) == 0.0


async def test_flood_gate_gives_up_when_no_turn_comes() -> None:
    """A turn that never comes (here: a clock that stands still) ends in FloodLimited after
    the gate's bounded waits, and nothing is counted as sent."""
    gate = FloodGate(FloodLimits(chat_interval_s=0.001), clock=lambda: 5.0)
    gate.record(-100)
    async with asyncio.timeout(30):  # an unbounded gate would hang here
        with pytest.raises(FloodLimited, match="no turn to post in chat -100"):
            await gate.wait_turn(-100)
    assert gate.delay(-100, 5.0) == pytest.approx(0.001)
    assert gate.delay(7, 5.0) == 0.0


async def ask_as_chat(world: World, chat: FakeChat, sender: FakeChat, command: str) -> str:
    """Post a command in a group as a chat (`sender_chat`); the text of the bot's reply."""
    before = len(world.fake.sent_to(chat.id))
    world.fake.send_as_chat(chat.id, sender.id, command)
    replies = await world.fake.wait_sent(before + 1, chat_id=chat.id)
    return replies[before].text


async def test_post_as_the_group_is_an_anonymous_admin(world: World, open_bot: OpenBot) -> None:
    """sender_chat == chat: an anonymous admin, who moderates and whose lookups are not rate
    limited; nobody is asked about GroupAnonymousBot."""
    async with open_bot():
        shown = await ask_as_chat(world, world.group, world.group, "/filter show")
        lookups = [await ask_as_chat(world, world.group, world.group, "/latest")
                   for _ in range(LOOKUPS_PER_MINUTE + 1)]
    assert shown.startswith("No filter")
    assert all(text.startswith("Latest stories") for text in lookups)
    assert world.fake.calls("getChatMember") == []


async def test_post_as_a_linked_channel_is_no_moderator(world: World, open_bot: OpenBot) -> None:
    """sender_chat != chat (a channel posting into its group): refused moderator commands,
    answered public ones, rate limited as that channel alone, never as Channel_Bot shared by
    every channel, nor as a user whose admin rights are looked up."""
    wire, other = world.fake.add_channel("Wire"), world.fake.add_channel("Other wire")
    async with open_bot():
        refused = await ask_as_chat(world, world.group, wire, "/filter show")
        lookups = [await ask_as_chat(world, world.group, wire, "/latest")
                   for _ in range(LOOKUPS_PER_MINUTE + 1)]
        from_other = await ask_as_chat(world, world.forum, other, "/latest")
        from_reader = await ask(world, world.group, world.reader, "/latest")
    assert refused == "/filter is for moderators only."
    assert all(text.startswith("Latest stories") for text in lookups[:LOOKUPS_PER_MINUTE])
    assert lookups[-1].startswith("Slow down")
    assert from_other.startswith("Latest stories") and from_reader.startswith("Latest stories")
    asked = {call.params["user_id"] for call in world.fake.calls("getChatMember")}
    assert asked == {str(world.reader.id)}  # only the reader is a user to look up
