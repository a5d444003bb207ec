"""Chat commands as every platform runs them: lookups, refusals, moderator settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.render_plain import render_plain
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
    """An unknown command says so and points at /help, and at the command it looks like."""
    reply = await core.commands.handle(MEMBER, "/frobnicate")
    assert reply.text == "Unknown command /frobnicate. Try /help."
    reply = await core.commands.handle(MEMBER, "/feeds")
    assert reply.text == "Unknown command /feeds. Did you mean /feed? Try /help."


@pytest.mark.slow
@pytest.mark.parametrize(("line", "guess"), [
    ("/schedule every 2h", "/schedule set every 2h"),
    ("/schedule sett daily 08:00", "/schedule set daily 08:00"),
    ("/filter Iran and not sport", "/filter set Iran and not sport"),
    ("/filter tets title:floods", "/filter test title:floods"),
    ("/schedule set", None),
    ("/filter set", None),
    ("/schedule every 25h:00", None),
    ("/filter Iran and (", None),
])
async def test_a_usage_error_guesses_what_was_meant(core: Core, line: str,
                                                    guess: str | None) -> None:
    """A moderator who leaves out "set" or misspells the action is shown the usage and the
    command they likely meant, which is not run; a guess that would not parse is not made."""
    reply = await core.commands.handle(MODERATOR, line)
    assert reply.text.startswith("Usage: ")
    assert reply.text.endswith(f"\nDid you mean {guess}?") if guess else "mean" not in reply.text
    channel = await core.digests.channel("discord:1")
    assert channel.filter == "" and channel.digest == (await core.digests.channel("x:9")).digest


ZONED_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
JAPAN_URL = "https://news.example.org/world/japan-korea-tariffs"  # published 07:15 GMT
ZONES = [  # (channel, the story's 07:15 UTC there, its next daily 08:00 after ZONED_NOW)
    pytest.param("discord:1", "08:15 CET", "2026-11-25 08:00 CET", id="Europe/Berlin"),
    pytest.param("discord:2", "07:15 UTC", "2026-11-25 08:00 UTC", id="UTC"),
    pytest.param("telegram:5", "02:15 EST", "2026-11-24 08:00 EST", id="bot default"),
]


def moderator_in(channel_id: str) -> Caller:
    """A moderator asking in this channel."""
    return Caller(channel_id=channel_id, user_id="discord:8", is_moderator=True)


@pytest.fixture
async def zoned_core(write_config: Callable[[str], Path], feed_server: FeedServer
                     ) -> AsyncIterator[Core]:
    """The real core at ZONED_NOW: discord:1 in Europe/Berlin, discord:2 in UTC, any other
    channel in the bot's America/New_York."""
    path = write_config(f'[bot]\ntimezone = "America/New_York"\n'
                        '[fetch]\nallow_private_addresses = true\n[[feeds]]\n'
                        f'url = "{feed_server.url("world_news.xml")}"\nname = "World"\n'
                        '[[channels]]\nid = "discord:1"\ntimezone = "Europe/Berlin"\n'
                        '[[channels]]\nid = "discord:2"\ntimezone = "UTC"\n')
    async with open_core(load_config(path, environ={}), clock=lambda: ZONED_NOW) as core:
        await core.poller.poll_due()
        yield core


@pytest.mark.parametrize(("channel_id", "story_time", "_next_digest"), ZONES)
async def test_latest_shows_story_times_in_the_channel_timezone(
        zoned_core: Core, channel_id: str, story_time: str, _next_digest: str) -> None:
    """/latest shows each story's time in the asking channel's zone (configured, else the
    bot's), as a digest there would."""
    reply = await zoned_core.commands.handle(moderator_in(channel_id), "/latest trade")
    assert f"World, 2026-11-24 {story_time}" in render_plain(reply)


@pytest.mark.parametrize(("channel_id", "_story_time", "next_digest"), ZONES)
async def test_why_gives_the_next_digest_in_the_channel_timezone(
        zoned_core: Core, channel_id: str, _story_time: str, next_digest: str) -> None:
    """/why of a waiting story names the next digest (daily 08:00) in the channel's zone."""
    reply = await zoned_core.commands.handle(moderator_in(channel_id), f"/why {JAPAN_URL}")
    assert f"waiting for the next digest ({next_digest})" in reply.text


async def test_why_gives_the_posting_time_in_the_channel_timezone(zoned_core: Core) -> None:
    """/why of a story a Berlin channel got says when in Berlin time (13:00 CET = 12:00 UTC)."""
    channel = await zoned_core.digests.channel("discord:1")
    digest = await zoned_core.digests.compose(channel, ZONED_NOW)
    digest_id = await zoned_core.store.deliveries.enqueue(digest, ZONED_NOW)
    await zoned_core.store.deliveries.mark_sent(digest_id, list(range(len(digest.items))), "m1",
                                                ZONED_NOW)
    reply = await zoned_core.commands.handle(moderator_in("discord:1"), f"/why {JAPAN_URL}")
    assert reply.text.endswith("posted here on 2026-11-24 13:00 CET.")


async def test_schedule_and_status_give_the_next_digest_in_the_channel_timezone(
        zoned_core: Core) -> None:
    """/schedule show and /status in a Berlin channel give its next digest in Berlin time."""
    berlin = moderator_in("discord:1")
    schedule = await zoned_core.commands.handle(berlin, "/schedule show")
    status = await zoned_core.commands.handle(berlin, "/status")
    assert schedule.text == "Digest: daily 08:00 (Europe/Berlin); next: 2026-11-25 08:00 CET."
    assert ("Next digest here: 2026-11-25 08:00 CET (daily 08:00, Europe/Berlin)"
            in status.text.splitlines())


async def test_a_timezone_set_from_chat_moves_reply_times(zoned_core: Core) -> None:
    """After /schedule set … Europe/Berlin in a UTC channel, /latest shows Berlin times."""
    caller = moderator_in("discord:2")
    await zoned_core.commands.handle(caller, "/schedule set daily 08:00 Europe/Berlin")
    reply = await zoned_core.commands.handle(caller, "/latest trade")
    assert "World, 2026-11-24 08:15 CET" in render_plain(reply)


@pytest.fixture
async def seed_core(write_config: Callable[[str], Path], feed_server: FeedServer
                    ) -> AsyncIterator[Core]:
    """The real core with the seed feeds polled: one event told by two outlets."""
    feeds = "".join(f'[[feeds]]\nurl = "{feed_server.url(f"seed/{name}.xml")}"\n'
                    for name in ("pacific_times", "global_dispatch", "tokyo_wire"))
    path = write_config(f'[fetch]\nallow_private_addresses = true\n{feeds}'
                        '[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        await core.poller.poll_due()
        yield core


@pytest.mark.slow
@pytest.mark.parametrize("command", ["/search Ishiba NATO", "/latest 20",
                                     "/related Ishiba NATO summit"])
async def test_lookups_show_a_story_once_with_its_other_outlets(seed_core: Core,
                                                                command: str) -> None:
    """Two outlets' takes on one event are one result of /search, /latest and /related, the other
    outlet named as "also" (as in a digest), not two results."""
    reply = await seed_core.commands.handle(MEMBER, command)
    takes = [item for item in reply.items if "Ishiba" in item.article.title]
    assert len(takes) == 1, [item.article.title for item in reply.items]
    assert [link.title for link in takes[0].also] and all(
        "Ishiba" in link.title for link in takes[0].also)
    assert len({item.article.cluster_id or -item.article.id for item in reply.items}) == len(
        reply.items)
