"""OPML files in and out of chat: Discord attachments and Telegram documents, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.telegram.adapter import TelegramAdapter
from bot.chat.telegram.flood import FloodLimits
from bot.config import load_config
from bot.feeds.opml import parse_opml
from bot.records import utc_now
from tests.fakes.discord_records import EPHEMERAL, Upload
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_world import FakeChat, FakeUser
from tests.test_discord_adapter import FEEDS, Rig, running_rig
from tests.test_opml import opml

pytestmark = pytest.mark.slow  # drives the fake Discord and Telegram end to end

TOO_LARGE = b" " * (1024 * 1024 + 1)
NO_FLOOD = FloodLimits(chat_interval_s=0.0, group_per_minute=1000, overall_per_second=1000)


@pytest.fixture
async def rig(feed_server: FeedServer, write_config: Callable[[str], Path]
              ) -> AsyncIterator[Rig]:
    """A Discord guild with the bot connected and three feeds polled."""
    async with running_rig(feed_server, write_config) as connected:
        yield connected


def subscriptions(feed_server: FeedServer) -> bytes:
    """An OPML list with one new feed and one the bot already polls."""
    return opml(f'<outline text="Tech" xmlUrl="{feed_server.url("tech_news.atom")}"/>',
                f'<outline text="World" xmlUrl="{feed_server.url("world_news.xml")}"/>')


async def test_discord_moderator_imports_an_attached_opml_file(rig: Rig,
                                                              feed_server: FeedServer) -> None:
    """`/feed import file:` downloads the attachment, adds the new feed, reports the rest."""
    upload = Upload("subs.opml", subscriptions(feed_server), "text/x-opml")
    callback = await rig.slash(rig.moderator, "feed", {"file": upload}, sub=("import",))
    await rig.fake.wait_for(lambda: bool(rig.replies(callback)))
    [reply] = rig.replies(callback)
    assert reply.content == "Imported 1 feeds; 1 were already there, 0 refused."
    added = await rig.core.store.feeds.feed_by_url(feed_server.url("tech_news.atom"))
    assert added is not None and added.origin == rig.channel_id and added.name == "Tech"


async def test_discord_member_attachment_is_refused_unread(rig: Rig,
                                                           feed_server: FeedServer) -> None:
    """A member's `/feed import` is refused, and the bot never downloads the file."""
    upload = Upload("subs.opml", subscriptions(feed_server))
    callback = await rig.slash(rig.reader, "feed", {"file": upload}, sub=("import",),
                               check_permissions=False)
    assert callback.content == "/feed is for moderators only."
    assert callback.flags & EPHEMERAL and rig.fake.downloads == []


async def test_discord_oversized_attachment_is_refused_unread(rig: Rig) -> None:
    """A file over 1 MiB is refused by its announced size, before any download."""
    callback = await rig.slash(rig.moderator, "feed", {"file": Upload("big.opml", TOO_LARGE)},
                               sub=("import",))
    assert callback.content is not None
    assert callback.content.startswith("Can't import big.opml: the file is 1024 KiB, more "
                                       "than the 1 MiB"), callback.content
    assert rig.fake.downloads == []


async def test_discord_export_sends_an_opml_file(rig: Rig, feed_server: FeedServer) -> None:
    """`/feed export` answers privately with feeds.opml, which lists the channel's feeds."""
    callback = await rig.slash(rig.moderator, "feed", sub=("export",))
    await rig.fake.wait_for(lambda: bool(rig.replies(callback)))
    [reply] = rig.replies(callback)
    assert reply.ephemeral and "OPML" in reply.content
    [(name, data)] = reply.uploads
    assert name == "feeds.opml" and reply.attachments[0]["filename"] == "feeds.opml"
    assert {feed.url for feed in parse_opml(data)} == {feed_server.url(f) for f in FEEDS}


@dataclass
class Telegram:
    """A fake Telegram supergroup, Ann administering it and Rob reading, and the bot's core."""

    fake: FakeTelegram
    group: FakeChat
    admin: FakeUser
    reader: FakeUser
    core: Core

    @property
    def channel_id(self) -> str:
        """The group's newsbot id."""
        return f"telegram:{self.group.id}"

    async def send_file(self, user: FakeUser, name: str, data: bytes,
                        caption: str = "/feed import") -> str:
        """Send a document with a caption and return the text of the bot's answer."""
        before = len(self.fake.sent_to(self.group.id))
        self.fake.send_document_message(self.group.id, user.id, name, data, caption)
        return (await self.fake.wait_sent(before + 1, chat_id=self.group.id))[before].text


@pytest.fixture
async def telegram(feed_server: FeedServer, write_config: Callable[[str], Path],
                   monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Telegram]:
    """The bot connected to a fake Telegram; the group follows no feed yet."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB's int periods warn; warnings are errors
    async with FakeTelegram() as fake:
        group = fake.add_supergroup("Newsroom")
        admin, reader = fake.add_user("Ann"), fake.add_user("Rob")
        fake.set_member(group, admin, "administrator")
        fake.set_member(group, reader, "member")
        path = write_config(
            '[fetch]\nallow_private_addresses = true\n'
            f'[[feeds]]\nurl = "{feed_server.url("world_news.xml")}"\n'
            f'[telegram]\napi_base_url = "{fake.base_url}"\n'
            f'[[channels]]\nid = "telegram:{group.id}"\nfeeds = []\n')
        config = load_config(path, {"TELEGRAM_TOKEN": fake.token})
        assert config.model.telegram is not None
        settings = config.model.telegram
        async with open_core(config) as core, TelegramAdapter(
                settings, fake.token, core.commands, utc_now, leases=core.store.leases,
                limits=NO_FLOOD, poll_timeout=timedelta(seconds=1)):
            yield Telegram(fake, group, admin, reader, core)


async def test_telegram_admin_imports_a_document(telegram: Telegram,
                                                 feed_server: FeedServer) -> None:
    """A document captioned /feed import is downloaded and imported; the group follows it."""
    text = await telegram.send_file(telegram.admin, "subs.opml", subscriptions(feed_server),
                                    "/feed@newsbot_test_bot import")
    assert text == "Imported 1 feeds; 1 were already there, 0 refused."
    channel = await telegram.core.digests.channel(telegram.channel_id)
    assert set(channel.feeds) == {feed_server.url("tech_news.atom"),
                                  feed_server.url("world_news.xml")}


async def test_telegram_member_document_is_refused_unread(telegram: Telegram,
                                                          feed_server: FeedServer) -> None:
    """A member's document is refused and never downloaded."""
    text = await telegram.send_file(telegram.reader, "subs.opml", subscriptions(feed_server))
    assert text == "/feed is for moderators only."
    assert telegram.fake.downloads == []


async def test_telegram_oversized_document_is_refused_unread(telegram: Telegram) -> None:
    """A document over 1 MiB is refused by its announced size, before any download."""
    text = await telegram.send_file(telegram.admin, "big.opml", TOO_LARGE)
    assert text.startswith("Can't import big.opml: the file is 1024 KiB, more than the 1 MiB")
    assert telegram.fake.downloads == []


async def test_telegram_export_sends_an_opml_document(telegram: Telegram,
                                                      feed_server: FeedServer) -> None:
    """/feed export answers with a short text and feeds.opml as a document."""
    await telegram.send_file(telegram.admin, "subs.opml", subscriptions(feed_server))
    telegram.fake.send_command(telegram.group.id, telegram.admin.id, "/feed export")
    await telegram.fake.wait_for(lambda: bool(telegram.fake.documents))
    [document] = telegram.fake.documents
    assert document.filename == "feeds.opml" and document.chat_id == telegram.group.id
    assert {feed.url for feed in parse_opml(document.data)} == {
        feed_server.url("tech_news.atom"), feed_server.url("world_news.xml")}
    assert "OPML" in telegram.fake.sent_to(telegram.group.id)[-1].text
