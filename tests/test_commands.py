"""Chat commands as every platform runs them: lookups, refusals, moderator settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.request import Caller
from bot.config import load_config
from tests.fakes.feed_server import FeedServer

MEMBER = Caller(channel_id="discord:1", user_id="discord:7", is_moderator=False)
MODERATOR = Caller(channel_id="discord:1", user_id="discord:8", is_moderator=True)


@pytest.fixture
async def core(write_config: Callable[[str], Path], feed_server: FeedServer
               ) -> AsyncIterator[Core]:
    """The real core on a fresh database, with one loopback feed polled."""
    path = write_config(f'[fetch]\nallow_private_addresses = true\n[[feeds]]\n'
                        f'url = "{feed_server.url("world_news.xml")}"\nname = "World"\n'
                        '[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        await core.poller.poll_due()
        yield core


@pytest.mark.slow
async def test_help_lists_the_commands(core: Core) -> None:
    """/help names the lookups and the moderator commands."""
    reply = await core.commands.handle(MEMBER, "/help")
    assert "/related" in reply.text and "/filter" in reply.text and reply.ephemeral


@pytest.mark.slow
async def test_latest_by_tag(core: Core) -> None:
    """/latest trade lists only stories tagged #Trade."""
    reply = await core.commands.handle(MEMBER, "/latest trade")
    assert [i.article.title for i in reply.items] == [
        "Japan and South Korea agree to cut tariffs on semiconductors"]


@pytest.mark.slow
async def test_moderator_commands_refuse_members(core: Core) -> None:
    """A member can't change anything: the refusal is one ephemeral sentence."""
    reply = await core.commands.handle(MEMBER, "/filter set tag:world")
    assert reply.ephemeral and reply.text == "/filter is for moderators only."
    assert (await core.digests.channel("discord:1")).filter == ""


@pytest.mark.slow
async def test_filter_error_points_at_the_column(core: Core) -> None:
    """A filter typo is answered with what was expected and where; nothing is stored."""
    reply = await core.commands.handle(MODERATOR, "/filter set tag:world and (title:japan")
    assert reply.text == "filter: expected ')' at column 27"
    assert (await core.digests.channel("discord:1")).filter == ""


@pytest.mark.slow
async def test_filter_set_then_test(core: Core) -> None:
    """A stored filter is shown, and /filter test counts what would pass."""
    await core.commands.handle(MODERATOR, '/filter set not title:"opinion"')
    assert (await core.commands.handle(MODERATOR, "/filter show")).text.startswith("Filter: ")
    tested = await core.commands.handle(MODERATOR, "/filter test title:floods")
    assert tested.text.startswith("Of ") and len(tested.items) <= 1


@pytest.mark.slow
async def test_schedule_set_validates(core: Core) -> None:
    """A bad schedule is refused with the reason; a good one shows the next digest."""
    bad = await core.commands.handle(MODERATOR, "/schedule set daily 25:00")
    good = await core.commands.handle(MODERATOR, "/schedule set weekdays 07:30 Europe/Berlin")
    assert bad.text.startswith('Schedule not changed: "25:00" is not a time of day')
    assert good.text.startswith("Digest: weekdays 07:30 (Europe/Berlin); next: ")


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:8080/feed", "127.0.0.1 is a private or reserved address; the bot's "
     "operator can allow those with [fetch] allow_private_addresses = true"),
    ("http://169.254.169.254/latest", "169.254.169.254 is a cloud metadata address; only "
     "[fetch] allow_metadata_addresses = true in the bot's config allows it"),
])
async def test_feed_add_refuses_private_addresses(write_config: Callable[[str], Path],
                                                  url: str, reason: str) -> None:
    """With the default guard, /feed add of a loopback or metadata URL says why in a sentence
    that names the config switch allowing it."""
    path = write_config('[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        reply = await core.commands.handle(MODERATOR, f"/feed add {url}")
    assert reply.text == f"Can't add that feed: {reason}."


@pytest.mark.slow
async def test_lookups_are_rate_limited_per_user(core: Core) -> None:
    """A member asking too often gets a clear 'slow down', not silence."""
    replies = [await core.commands.handle(MEMBER, "/search japan") for _ in range(7)]
    assert replies[-1].text.startswith("Slow down: you can ask again in ")
    other = Caller(channel_id="discord:1", user_id="discord:9", is_moderator=False)
    assert (await core.commands.handle(other, "/search japan")).items


@pytest.mark.slow
async def test_why_explains_a_filtered_story(core: Core) -> None:
    """/why names the filter term that kept a story out of this channel's digest."""
    await core.commands.handle(MODERATOR, '/filter set not title:"opinion"')
    reply = await core.commands.handle(MODERATOR,
                                       "/why https://news.example.org/opinion/chip-deal")
    assert "filter left it out" in reply.text and "opinion" in reply.text


@pytest.mark.slow
async def test_unknown_command_suggests_help(core: Core) -> None:
    """An unknown command says so and points at /help."""
    reply = await core.commands.handle(MEMBER, "/frobnicate")
    assert reply.text == "Unknown command /frobnicate. Try /help."
